"""`kgrag check`: validate a paper list and the graph built from it.

Errors (exit non-zero): the list cannot be parsed, duplicate titles, a lineage edge whose
child is dated before its parent, a curated lineage fact naming an unknown work.
Warnings: organisations not in the alias table, ignored lines, papers without an abstract,
abstracts that never name their paper, dates outside the list's stated year, a versioned
successor credited to another organisation than its predecessor, a paper credited to another
organisation than `data/works.json` gives the same work (Kosmos-2), a sentence crediting a known
paper or work to an organisation or a date the graph gives differently ("LLaMA was trained by
Google", "Llama 2 发布于 2021 年"; the wording is in `data/claim_cues.json`), likely misspelt
names, and text that addresses the reader or the model ("ignore previous instructions",
"你现在是…", "answer: …"; patterns in `data/untrusted_text.json`, see `kg.untrusted`).

Checking the user's library (`library.jsonl`, see `kg.library`), each problem names where to
fix it: a paper the library added is its entry (`library.jsonl: entry 'mamba'`, with the line
of the file it came from); a paper of the list, or a line of the list, is the list's file and
line, never the library's.

One module per kind of check: `entries` (each entry of the list), `facts` (what the graph
states), `claims` (sentences contradicting the graph), `spelling`; `problems` holds the
`Problem` and `Report` records (re-exported here).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kg.check.claims import contradicted_claims
from kg.check.entries import (
    abstracts,
    duplicate_titles,
    ignored_lines,
    unknown_organizations,
    untrusted_text,
    years,
)
from kg.check.facts import (
    lineage_dates,
    successor_organizations,
    undated_parents,
    undefined_works,
    work_organizations,
)
from kg.check.problems import Problem, Report
from kg.check.spelling import misspellings
from kg.corpus import load_corpus
from kg.errors import CorpusError
from kg.graph import build_graph
from kg.lexicon import Lexicon, load_lexicon
from kg.library.store import is_library_file
from kg.paper import Corpus
from kg.paths import base_list_path
from kg.schema import KnowledgeGraph

__all__ = ["Problem", "Report", "check", "check_path"]


def check_path(path: Path | str) -> Report:
    """Parse and check the paper list at `path`; a parse failure is reported, not raised."""
    try:
        corpus = load_corpus(path)
    except CorpusError as exc:
        return Report(str(path), 0, (Problem("error", "parse", exc.detail, exc.line),))
    return check(corpus, build_graph(corpus))


def check(corpus: Corpus, kg: KnowledgeGraph, lexicon: Lexicon | None = None) -> Report:
    """Every problem found in `corpus` and its graph `kg`, errors first, then by line."""
    lexicon = lexicon or load_lexicon()
    base, added = _library_parts(corpus)
    problems = [
        *duplicate_titles(corpus),
        *lineage_dates(kg),
        *undefined_works(kg, lexicon),
        *undated_parents(kg),
        *unknown_organizations(corpus),
        *ignored_lines(corpus),
        *abstracts(corpus, kg),
        *years(corpus, added),
        *successor_organizations(kg),
        *work_organizations(kg, lexicon),
        *contradicted_claims(corpus, kg),
        *misspellings(corpus, kg),
        *untrusted_text(corpus),
    ]
    problems = _located(corpus, problems, base, added)
    order = {"error": 0, "warning": 1}
    problems.sort(key=lambda p: (order[p.severity], p.entry or "", p.source or "", p.line or 0,
                                 p.code))  # fmt: skip
    return Report(str(corpus.path), len(corpus.papers), tuple(problems))


def _library_parts(corpus: Corpus) -> tuple[Path | None, set[str]]:
    """For a library: the list under it and the ids of the papers added from files (each an
    entry of the library); for a plain list: (None, empty)."""
    if not is_library_file(corpus.path):
        return None, set()
    base = base_list_path()
    return base, {p.id for p in corpus.papers if p.source and Path(p.source) != base}


def _located(
    corpus: Corpus, problems: list[Problem], base: Path | None, added: set[str]
) -> list[Problem]:
    """For a library, name the file each line is in and the entry each added paper is."""
    if base is None:
        return problems
    by_id = corpus.by_id()
    located = []
    for problem in problems:
        paper = by_id.get(problem.paper or "")
        if paper is None:  # a line of the list (ignored, unknown organisation) or none
            located.append(replace(problem, source=str(base)) if problem.line else problem)
        elif paper.id in added:
            located.append(replace(problem, source=paper.source, entry=paper.id))
        else:  # a paper of the list (its library line only adds fields it lacked)
            located.append(replace(problem, source=paper.source or str(base)))
    return located
