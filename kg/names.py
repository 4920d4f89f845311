"""Bilingual, forgiving name resolution and mention finding over the graph's names.

Every node (paper, work, organisation, category, technique) is known by its aliases.
`resolve` turns one user-typed name into exactly one node (or says why it cannot);
`find_mentions` finds every known name in free Chinese or English text.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from kg.errors import AmbiguousNameError, UnknownNameError
from kg.records import Node

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["Mention", "NameIndex", "compact", "find_mentions", "resolve"]

_MIN_PREFIX = 3
_SEPARATORS = r"[\s\-_.·–—/]*"
_LATIN = re.compile(r"[a-z0-9]")
# A Latin name ends at a non-alphanumeric, but "LLaMA-13B" / "Flamingo80B" still name the model.
_TRAILING = r"(?:(?![a-z0-9])(?![.\-_]\d)|(?=[\-_]?\d+(?:\.\d+)?[bmk](?![a-z0-9])))"
_LEADING = r"(?<![a-z0-9])"
_LITERAL = re.compile(r"[a-z]+|[0-9]+|[^\W\d_a-z]+")
_VERSION_WORD = re.compile(r"(?:v|version|ver)(?=\d+(?:\.\d+)?$)")


def compact(name: str) -> str:
    """The resolution key: folded, with spaces, hyphens and punctuation removed ("Llama-2" → "llama2")."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


@dataclass(frozen=True)
class _AliasPattern:
    source: str  # compiled only when `literal` occurs in a text
    alias: str
    node_id: str
    kind: str
    literal: str  # a run of characters any match must contain


@dataclass(frozen=True)
class Mention:
    """A known name found in text: `text[start:end]` names `node` (via `alias`)."""

    node: Node
    text: str
    start: int
    end: int
    alias: str


@dataclass(frozen=True, eq=False)
class NameIndex:
    """Aliases of every node. Built once by `build_graph`."""

    nodes: dict[str, Node]
    aliases: tuple[tuple[str, str], ...]  # (alias as written, node id)

    @cached_property
    def by_key(self) -> dict[str, tuple[str, ...]]:
        index: dict[str, list[str]] = {}
        for alias, node_id in self.aliases:
            key = compact(alias)
            if key and node_id not in index.setdefault(key, []):
                index[key].append(node_id)
        return {k: tuple(v) for k, v in index.items()}

    @cached_property
    def patterns(self) -> tuple[_AliasPattern, ...]:
        seen: set[tuple[str, str]] = set()
        out = []
        for alias, node_id in self.aliases:
            folded = _fold_text(alias)[0].strip()
            if len(compact(alias)) < 2 or (folded, node_id) in seen:
                continue
            seen.add((folded, node_id))
            literal = _LITERAL.search(folded)
            out.append(
                _AliasPattern(_alias_pattern(folded), alias, node_id, self.nodes[node_id].kind,
                              literal.group(0) if literal else "")
            )  # fmt: skip
        return tuple(out)

    def lookup(self, name: str, kinds: Iterable[str] | None = None) -> tuple[Node, ...]:
        """Nodes whose alias has exactly this key, else nodes with an alias that starts with it."""
        wanted = set(kinds) if kinds is not None else None
        key = compact(name)
        if name in self.nodes:
            return (self.nodes[name],)
        exact = self._filter(self.by_key.get(key, ()), wanted)
        if not exact and _VERSION_WORD.search(key):  # "flash attention v2" → "flashattention2"
            exact = self._filter(self.by_key.get(_VERSION_WORD.sub("", key), ()), wanted)
        if exact or len(key) < _MIN_PREFIX:
            return exact
        ids = [i for k, ids in self.by_key.items() if k.startswith(key) for i in ids]
        return self._filter(tuple(dict.fromkeys(ids)), wanted)

    def suggestions(self, name: str, kinds: Iterable[str] | None = None) -> tuple[str, ...]:
        wanted = set(kinds) if kinds is not None else None
        keys = [k for k, ids in self.by_key.items() if self._filter(ids, wanted)]
        close = difflib.get_close_matches(compact(name), keys, n=5, cutoff=0.6)
        labels = [self.nodes[i].label for k in close for i in self.by_key[k]]
        return tuple(dict.fromkeys(labels))

    def _filter(self, ids: tuple[str, ...], wanted: set[str] | None) -> tuple[Node, ...]:
        nodes = (self.nodes[i] for i in ids)
        return tuple(n for n in nodes if wanted is None or n.kind in wanted)


def resolve(kg: KnowledgeGraph, name: str, kinds: Iterable[str] | None = None) -> Node:
    """The one node `name` stands for; raise `UnknownNameError` or `AmbiguousNameError`.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> resolve(kg, "llama2").id
        'paper:llama-2'
        >>> resolve(kg, "美杜莎").label
        'Medusa'
        >>> resolve(kg, "谷歌").id
        'org:Google'
    """
    kinds = tuple(kinds) if kinds is not None else None
    found = kg.names.lookup(name, kinds)
    if len(found) == 1:
        return found[0]
    if found:
        raise AmbiguousNameError(name, [f"{n.label} ({n.kind})" for n in found])
    raise UnknownNameError(name, kg.names.suggestions(name, kinds))


def find_mentions(
    kg: KnowledgeGraph, text: str, kinds: Iterable[str] | None = None
) -> list[Mention]:
    """Every known name in `text`, longest match first where names overlap, in text order.

    A name shared by several nodes gives one mention per node (same span).

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> [(m.node.kind, m.node.label) for m in find_mentions(kg, "Meta发表了哪些论文")]
        [('organization', 'Meta')]
        >>> [m.node.id for m in find_mentions(kg, "what is Code Llama based on?")]
        ['paper:code-llama']
        >>> [m.node.id for m in find_mentions(kg, "量化相关的论文")]
        ['technique:quantization']
    """
    wanted = set(kinds) if kinds is not None else None
    folded, origin = _fold_text(text)
    hits: list[tuple[int, int, str, str]] = []
    for entry in kg.names.patterns:
        if wanted is not None and entry.kind not in wanted:
            continue
        if entry.literal not in folded:  # cheap pre-check: most names are absent
            continue
        for match in _compiled(entry.source).finditer(folded):
            hits.append((match.start(), match.end(), entry.alias, entry.node_id))
    hits.sort(key=lambda h: (-(h[1] - h[0]), h[0]))
    taken: list[tuple[int, int]] = []
    chosen: list[tuple[int, int, str, str]] = []
    for start, end, alias, node_id in hits:
        same_span = (start, end) in taken
        if not same_span and any(start < e and s < end for s, e in taken):
            continue
        if not same_span:
            taken.append((start, end))
        if not any(c[3] == node_id and c[0] == start for c in chosen):
            chosen.append((start, end, alias, node_id))
    chosen.sort(key=lambda h: h[0])
    mentions = []
    for start, end, alias, node_id in chosen:
        o_start, o_end = origin[start], origin[end - 1] + 1
        node = kg.names.nodes[node_id]
        mentions.append(Mention(node, text[o_start:o_end], o_start, o_end, alias))
    return mentions


@lru_cache(maxsize=4096)
def _compiled(source: str) -> re.Pattern[str]:
    return re.compile(source)


def _fold_text(text: str) -> tuple[str, list[int]]:
    """NFKC + casefold per character, with each folded character's index in `text`."""
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        folded = unicodedata.normalize("NFKC", ch).casefold()
        chars.append(folded)
        origin.extend([index] * len(folded))
    return "".join(chars), origin


def _alias_pattern(folded: str) -> str:
    parts: list[str] = []
    previous = ""
    for ch in folded:
        if not ch.isalnum():
            if parts and parts[-1] != _SEPARATORS:
                parts.append(_SEPARATORS)
            previous = ""
            continue
        # "Llama2" also matches "Llama 2": a letter/digit change may carry a separator.
        digit_change = previous.isdigit() != ch.isdigit()
        if previous and digit_change and _LATIN.match(previous) and _LATIN.match(ch):
            parts.append(_SEPARATORS)
        parts.append(re.escape(ch))
        previous = ch
    while parts and parts[-1] == _SEPARATORS:
        parts.pop()
    body = "".join(parts)
    start = _LEADING if _LATIN.match(folded[0]) else ""
    end = _TRAILING if _LATIN.match(folded[-1]) else ""
    return start + body + end
