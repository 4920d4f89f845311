"""The README is checked against the code: every command it shows exists."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from kg.graph import KnowledgeGraph
from kg.queries import lineage
from ui.cli import build_parser
from ui.commands.graph import lineage_json, paper_json

README = Path(__file__).resolve().parent.parent / "README.md"
_COMMAND = re.compile(r"(?:`|^)kgrag ((?:eval )?[a-z]+)", re.MULTILINE)
_SHAPE = re.compile(r"<!-- shape: (\w+) -->\s*```json\n(.*?)```", re.DOTALL)


def _registered_commands() -> set[str]:
    parser = build_parser()
    names: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                names.add(name)
                for inner in sub._actions:
                    if isinstance(inner, argparse._SubParsersAction):
                        names.update(f"{name} {child}" for child in inner.choices)
    return names


def test_every_command_in_the_readme_exists() -> None:
    mentioned = set(_COMMAND.findall(README.read_text(encoding="utf-8")))
    assert mentioned, "the README documents no kgrag command"
    assert mentioned <= _registered_commands()


def test_every_command_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    undocumented = {c for c in _registered_commands() if c != "eval" and f"kgrag {c}" not in text}
    assert not undocumented


def test_the_quickstart_is_the_two_make_commands() -> None:
    text = README.read_text(encoding="utf-8")
    quickstart = text.split("## Quickstart", 1)[1].split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in quickstart.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]


def _keys(value: object) -> object:
    """The shape of a JSON value: keys of objects, recursively; the first item of lists."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys(value[0])] if value else []
    return type(value).__name__


def _documented_shapes() -> dict[str, object]:
    text = README.read_text(encoding="utf-8")
    return {name: json.loads(block) for name, block in _SHAPE.findall(text)}


def test_documented_papers_json_matches_what_the_command_prints(kg: KnowledgeGraph) -> None:
    documented = _documented_shapes()["papers"]
    printed = [paper_json(p) for p in kg.corpus.papers]
    assert _keys(documented) == _keys(printed)


def test_documented_lineage_json_matches_what_the_command_prints(kg: KnowledgeGraph) -> None:
    documented = _documented_shapes()["lineage"]
    printed = lineage_json(kg, lineage(kg, "llama 2"))
    assert _keys(documented) == _keys(printed)
    assert documented["root"] == printed["root"]


def test_documented_citations_json_matches_what_the_command_prints() -> None:
    from kg.graph import build_graph
    from kg.queries import paper_citations
    from tests.citation_corpus import fixture_corpus

    documented = _documented_shapes()["citations"]
    printed = paper_citations(build_graph(fixture_corpus()), "halyard").to_json()
    assert set(documented) == set(printed)
    assert all(set(entry) == set(documented["references"][0]) for entry in printed["references"])
    assert documented["paper"] == printed["paper"]
    assert documented["references"][0] in printed["references"]  # a real entry, resolved
    assert documented["cited_by"][0] in printed["cited_by"]
