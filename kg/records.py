"""The typed records the graph queries return (shared by `kg.names` and `kg.queries`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "Lineage", "LineageEdge", "Node"]

KINDS = ("paper", "organization", "category", "technique", "work", "author")


@dataclass(frozen=True)
class Node:
    """A graph node: `id` like `paper:code-llama`; `paper_id` set for papers only."""

    id: str
    kind: str
    label: str
    date: str | None = None
    paper_id: str | None = None


@dataclass(frozen=True)
class LineageEdge:
    """`source` (child) builds on `target` (parent), with the evidence for it."""

    source: Node
    target: Node
    relation: str
    evidence: str
    method: str
    paper: str
    line: int


@dataclass(frozen=True)
class Lineage:
    root: Node
    ancestors: tuple[Node, ...]
    descendants: tuple[Node, ...]
    edges: tuple[LineageEdge, ...]
