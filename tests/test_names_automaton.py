"""Mention finding with one automaton finds exactly what one regular expression per alias found,
and its cost does not grow with the number of known names."""

from __future__ import annotations

import json
import re
import time

import pytest

from kg.graph import KnowledgeGraph
from kg.lineage import paper_sentences
from kg.names import NameIndex, _fold_text, compact, find_mentions
from kg.records import Node
from kg.tables import DATA_DIR

_SEPARATORS = r"[\s\-_.·–—/'’‘]*"
_LATIN = re.compile(r"[a-z0-9]")
_TRAILING = r"(?:(?![a-z0-9])(?![.\-_]\d)|(?=[\-_]?\d+(?:\.\d+)?[bmk](?![a-z0-9])))"


def _reference_pattern(folded: str) -> str:
    """The per-alias regular expression kgrag used before the automaton (the specification)."""
    parts: list[str] = []
    previous = ""
    for ch in folded:
        if not ch.isalnum():
            if parts and parts[-1] != _SEPARATORS:
                parts.append(_SEPARATORS)
            previous = ""
            continue
        digit_change = previous.isdigit() != ch.isdigit()
        if previous and digit_change and _LATIN.match(previous) and _LATIN.match(ch):
            parts.append(_SEPARATORS)
        parts.append(re.escape(ch))
        previous = ch
    while parts and parts[-1] == _SEPARATORS:
        parts.pop()
    start = r"(?<![a-z0-9])" if _LATIN.match(folded[0]) else ""
    end = _TRAILING if _LATIN.match(folded[-1]) else ""
    return start + "".join(parts) + end


def reference_mentions(names: NameIndex, text: str, kinds: tuple[str, ...] | None = None):  # type: ignore[no-untyped-def]
    folded, origin = _fold_text(text)
    hits, seen = [], set()
    for alias, node_id in names.aliases:
        alias_folded = _fold_text(alias)[0].strip()
        if len(compact(alias)) < 2 or (alias_folded, node_id) in seen:
            continue
        seen.add((alias_folded, node_id))
        if kinds is not None and names.nodes[node_id].kind not in kinds:
            continue
        for match in re.finditer(_reference_pattern(alias_folded), folded):
            hits.append((match.start(), match.end(), alias, node_id))
    hits.sort(key=lambda h: (-(h[1] - h[0]), h[0]))
    taken: list[tuple[int, int]] = []
    chosen: list[tuple[int, int, str, str]] = []
    for start, end, alias, node_id in hits:
        same = (start, end) in taken
        if not same and any(start < e and s < end for s, e in taken):
            continue
        if not same:
            taken.append((start, end))
        if not any(c[3] == node_id and c[0] == start for c in chosen):
            chosen.append((start, end, alias, node_id))
    chosen.sort(key=lambda h: h[0])
    return [(n, origin[s], origin[e - 1] + 1, a) for s, e, a, n in chosen]


TRICKY = [
    "Llama 2 和 llama2 以及 LLaMA-2-Chat", "code-llama codellama Code Llama", "GPT-3.5 gpt 3.5",
    "LLaMA-13B LLaMA65B ToolLLaMA", "ＬＬａＭＡ２ ﬁne-tuned", "straße GPT-4V GPT-4", "l l a m a",
    "flash attention v2, FlashAttention-2 and FlashAttention [5]", "llamallama llama llama",
    "谷歌和微软发表的关于推测解码的论文", "Let's Verify Step by Step, Gorilla's APIs", "Medusa/美杜莎·Mixtral—Kosmos-2", "",
]  # fmt: skip


def _texts(kg: KnowledgeGraph) -> list[str]:
    texts = list(TRICKY)
    for paper in kg.corpus.papers:
        texts += [s.text for s in paper_sentences(paper)] + [paper.title, paper.influence]
    for name in ("retrieval_dev.jsonl", "answers_dev.jsonl"):
        lines = (DATA_DIR / "eval" / name).read_text(encoding="utf-8").splitlines()
        texts += [json.loads(line)["question"] for line in lines if line.strip()]
    return texts


@pytest.mark.parametrize("kinds", [None, ("technique",), ("paper", "work", "technique")])
def test_the_automaton_finds_what_one_regex_per_alias_found(
    kg: KnowledgeGraph, kinds: tuple[str, ...] | None
) -> None:
    for text in _texts(kg):
        found = [(m.node.id, m.start, m.end, m.alias) for m in find_mentions(kg, text, kinds)]
        assert found == reference_mentions(kg.names, text, kinds), text


class _Names:
    def __init__(self, names: NameIndex) -> None:
        self.names = names


def _index(count: int) -> NameIndex:
    nodes = {f"work:w{i}": Node(f"work:w{i}", "work", f"Zorblat{i}x", None, None)
             for i in range(count)}  # fmt: skip
    nodes["work:llama"] = Node("work:llama", "work", "LLaMA", None, None)
    aliases = tuple((n.label, n.id) for n in nodes.values())
    return NameIndex(nodes, aliases)


def test_finding_mentions_does_not_slow_down_with_more_names() -> None:
    """It used to try every alias on every text (~65 ms per paper at 4,000 papers); now one pass
    over the text. Generous bound: 50,000 names may cost at most 5x of 50 names."""
    text = "我们基于 LLaMA 进行了扩展, outperforming Zorblat7x and others. " * 4
    timings = []
    for count in (50, 50_000):
        kg = _Names(_index(count))
        assert [m.node.id for m in find_mentions(kg, text)][:2] == ["work:llama", "work:w7"]  # type: ignore[arg-type]
        start = time.perf_counter()
        for _ in range(300):
            find_mentions(kg, text)  # type: ignore[arg-type]
        timings.append(time.perf_counter() - start)
    assert timings[1] < 5 * timings[0] + 0.05, timings
