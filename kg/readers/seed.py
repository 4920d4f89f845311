"""The seed format (the shipped Chinese paper list): `kg.corpus.parse_corpus`, unchanged."""

from __future__ import annotations

import re
from pathlib import Path

from kg.corpus import Paper, parse_corpus
from kg.readers.common import ReadOptions

_FIELD = re.compile(r"^\s*(发布时间|发表单位|影响力|摘要|Date|Organization|Influence)\s*[:：]",
                    re.MULTILINE)  # fmt: skip


class SeedReader:
    name: str = "seed"
    extensions: tuple[str, ...] = (".txt",)

    def sniff(self, text: str) -> bool:
        return len(_FIELD.findall(text)) >= 2

    def read(self, text: str, source: Path, options: ReadOptions) -> tuple[Paper, ...]:
        return parse_corpus(text, source).papers
