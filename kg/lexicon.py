"""The lexicons kgrag reads from `data/`: works, techniques, curated lineage facts and the
lineage cues (`data/lineage_cues.json`, read through the one cue-file reader, `kg.cues`).

They are data, not code: users extend them by editing the JSON files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kg.cues import cue_file
from kg.errors import KgragError
from kg.tables import load_json

__all__ = [
    "CuratedEdge",
    "Lexicon",
    "LineageCue",
    "Technique",
    "Work",
    "load_lexicon",
]

RELATIONS = ("successor", "fine_tuned_from", "same_architecture", "extends")


@dataclass(frozen=True)
class Work:
    """A well-known model or method outside the corpus (GPT-3, CLIP, FlashAttention v1, …)."""

    name: str
    aliases: tuple[str, ...]
    date: str
    organization: str
    type: str
    generic: bool = False  # a basic building block (Transformer): never made a lineage parent


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    name_zh: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class CuratedEdge:
    """A lineage fact the paper list does not state, with where it comes from."""

    child: str
    parent: str
    relation: str
    source: str


@dataclass(frozen=True)
class LineageCue:
    """Wording that states lineage around a known name X: the text before X ends with
    `before`, the text after it starts with `after` (regular expressions; empty: anything)."""

    relation: str
    before: str
    after: str
    example: str = ""


@dataclass(frozen=True)
class Lexicon:
    works: tuple[Work, ...]
    techniques: tuple[Technique, ...]
    curated: tuple[CuratedEdge, ...]
    paper_aliases: tuple[tuple[str, tuple[str, ...]], ...]
    cues: tuple[LineageCue, ...] = ()

    def aliases_for_title(self, title: str) -> tuple[str, ...]:
        return next((names for t, names in self.paper_aliases if t == title), ())


def load_lexicon(data_dir: Path | None = None) -> Lexicon:
    """Read works.json, techniques.json, lineage.json and lineage_cues.json (cached per folder)."""
    return _load(data_dir)


@cache
def _load(data_dir: Path | None) -> Lexicon:
    works_raw = load_json("works.json", data_dir)
    tech_raw = load_json("techniques.json", data_dir)
    lineage_raw = load_json("lineage.json", data_dir)
    cues_raw = cue_file("lineage_cues", data_dir)
    try:
        works = tuple(
            Work(w["name"], tuple(w.get("aliases", ())), w.get("date", ""),
                 w.get("organization", ""), w.get("type", "model"), bool(w.get("generic")))
            for w in works_raw["works"]
        )  # fmt: skip
        techniques = tuple(
            Technique(t["id"], t["name"], t.get("name_zh", ""), tuple(t.get("aliases", ())))
            for t in tech_raw["techniques"]
        )
        curated = tuple(
            CuratedEdge(e["child"], e["parent"], e["relation"], e.get("source", ""))
            for e in lineage_raw["edges"]
        )
        cues = tuple(
            LineageCue(c["relation"], c.get("before", ""), c.get("after", ""), c.get("example", ""))
            for c in cues_raw["cues"]
        )
        paper_aliases = tuple(
            (title, tuple(names)) for title, names in works_raw.get("paper_aliases", {}).items()
        )
    except (KeyError, TypeError) as exc:
        raise KgragError(
            f"a lexicon data file lacks the key {exc}. Restore data/ from git."
        ) from exc
    bad = [e.relation for e in curated if e.relation not in RELATIONS]
    bad += [c.relation for c in cues if c.relation not in RELATIONS]
    if bad:
        raise KgragError(
            f"data/lineage.json or lineage_cues.json: relation {bad[0]!r} is not one of "
            f"{', '.join(RELATIONS)}."
        )
    return Lexicon(works, techniques, curated, paper_aliases, cues)
