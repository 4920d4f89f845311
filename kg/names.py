"""Bilingual, forgiving name resolution and mention finding over the graph's names.

Every node (paper, work, organisation, category, technique) is known by its aliases.
`resolve` turns one user-typed name into exactly one node (or says why it cannot);
`find_mentions` finds every known name in free Chinese or English text.

Mention finding is linear in the text and independent of how many names there are: one
Aho-Corasick automaton (pyahocorasick) holds every alias's letters and digits; the text is
folded as every name key is (`kg.tables.fold_letters`: case, width, accents, ł → l, ø → o …;
"Lukasz" in a question finds Łukasz) and stripped of separators (spaces, hyphens, dots, …)
before the scan, and each hit is then checked against the rules a name obeys: separators only
where the alias allows them ("Llama 2" for "Llama2", "code-llama" for "code llama") and word
boundaries around Latin names ("ToolLLaMA" does not name LLaMA; "LLaMA-13B" does).

The key names are resolved by, `compact`, is `kg.keys`'s (re-exported here).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Protocol

from kg.errors import AmbiguousNameError, UnknownNameError
from kg.keys import compact
from kg.records import Node
from kg.tables import fold_letters

__all__ = ["Mention", "NameIndex", "Named", "compact", "find_mentions", "resolve"]

_MIN_PREFIX = 3
# What may stand between the parts of a name in text ("Llama 2", "code-llama", "GPT-3.5").
_WORD_RUN = re.compile(r"[^\s\-_.·–—/'’‘]+")  # apostrophes separate: "Let's" finds "Let’s …"
_LATIN = re.compile(r"[a-z0-9]")
# A Latin name ends at a non-alphanumeric, but "LLaMA-13B" / "Flamingo80B" still name the model.
_TRAILING = re.compile(r"(?:(?![a-z0-9])(?![.\-_]\d)|(?=[\-_]?\d+(?:\.\d+)?[bmk](?![a-z0-9])))")
_VERSION_WORD = re.compile(r"(?:v|version|ver)(?=\d+(?:\.\d+)?$)")


_NO_GAPS: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)  # one per alias: 10⁵ papers hold ~10⁶ of them
class _AliasKey:
    """How one alias of one node is matched: its letters and digits (`key`) plus the rules."""

    order: int  # position among all aliases: ties between equal spans go to the earlier one
    alias: str
    node_id: str
    kind: str
    key: str
    gaps: frozenset[int]  # positions in `key` that separators may precede ("llama|2")
    leading: bool  # a Latin start: no letter or digit may come before it
    trailing: bool  # a Latin end: must end a word (or run into a size such as "-13B")


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
    def by_node(self) -> dict[str, tuple[str, ...]]:
        """Each node's aliases as written, in order (one dictionary look-up per node)."""
        index: dict[str, list[str]] = {}
        for alias, node_id in self.aliases:
            index.setdefault(node_id, []).append(alias)
        return {k: tuple(v) for k, v in index.items()}

    def aliases_of(self, node_id: str) -> tuple[str, ...]:
        """The aliases of one node, without scanning every alias of the graph."""
        return self.by_node.get(node_id, ())

    @cached_property
    def automaton(self) -> Any:
        """Every alias key in one Aho-Corasick automaton; each key maps to its `_AliasKey`s."""
        import ahocorasick

        entries: dict[str, list[_AliasKey]] = {}
        seen: set[tuple[str, str]] = set()
        for alias, node_id in self.aliases:
            folded = _fold_text(alias)[0].strip()
            if len(compact(alias)) < 2 or (folded, node_id) in seen:
                continue
            seen.add((folded, node_id))
            entry = _alias_key(len(seen), alias, node_id, self.nodes[node_id].kind, folded)
            if entry.key:
                entries.setdefault(entry.key, []).append(entry)
        automaton = ahocorasick.Automaton()
        for key, group in entries.items():
            automaton.add_word(key, (frozenset(e.kind for e in group), tuple(group)))
        automaton.make_automaton()
        return automaton

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


class Named(Protocol):
    """What resolving and finding names needs: a name index. A `kg.graph.KnowledgeGraph` is one
    (this module sits below the graph, which is built with it)."""

    @property
    def names(self) -> NameIndex: ...


def resolve(kg: Named, name: str, kinds: Iterable[str] | None = None) -> Node:
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


def find_mentions(kg: Named, text: str, kinds: Iterable[str] | None = None) -> list[Mention]:
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
    hits = sorted(_matches(kg.names.automaton, folded, wanted),
                  key=lambda h: (h[0] - h[1], h[0], h[2].order))  # fmt: skip
    taken: set[tuple[int, int]] = set()
    chosen: list[tuple[int, int, _AliasKey]] = []
    picked: set[tuple[str, int]] = set()
    for start, end, entry in hits:
        same_span = (start, end) in taken
        if not same_span and any(start < e and s < end for s, e in taken):
            continue
        taken.add((start, end))
        if (entry.node_id, start) not in picked:
            picked.add((entry.node_id, start))
            chosen.append((start, end, entry))
    chosen.sort(key=lambda h: h[0])
    mentions = []
    for start, end, entry in chosen:
        o_start, o_end = origin[start], origin[end - 1] + 1
        node = kg.names.nodes[entry.node_id]
        mentions.append(Mention(node, text[o_start:o_end], o_start, o_end, entry.alias))
    return mentions


def _matches(
    automaton: Any, folded: str, wanted: set[str] | None
) -> list[tuple[int, int, _AliasKey]]:
    """(start, end, alias) of every match in `folded`, non-overlapping per alias, leftmost first
    (what a regular expression's `finditer` gives for each alias)."""
    if not len(automaton):
        return []
    runs = _WORD_RUN.findall(folded)
    squeezed = "".join(runs)
    candidates = []
    for last, (kinds, group) in automaton.iter(squeezed):
        if wanted is None:
            candidates.append((last, group))
        elif not wanted.isdisjoint(kinds):
            candidates.append((last, tuple(e for e in group if e.kind in wanted)))
    if not candidates:  # the common case for a kind-limited search: skip the offset map
        return []
    place = _squeezed_to_folded(folded, len(squeezed))
    found: dict[int, list[tuple[int, int, _AliasKey]]] = {}
    for last, group in candidates:
        first = last - len(group[0].key) + 1
        start, end = place[first], place[last] + 1
        for entry in group:
            if _obeys_rules(entry, folded, place, first, start, end):
                found.setdefault(entry.order, []).append((start, end, entry))
    hits = []
    for matches in found.values():
        matches.sort(key=lambda m: m[0])
        resume = 0
        for match in matches:
            if match[0] >= resume:
                hits.append(match)
                resume = match[1]
    return hits


def _squeezed_to_folded(folded: str, length: int) -> Sequence[int]:
    """For each character of the separator-free text, its index in `folded`."""
    if length == len(folded):
        return range(length)
    return [i for run in _WORD_RUN.finditer(folded) for i in range(run.start(), run.end())]


def _obeys_rules(
    entry: _AliasKey, folded: str, place: Sequence[int], first: int, start: int, end: int
) -> bool:
    """Separators only where the alias allows them, and word boundaries around Latin names."""
    if end - start != len(entry.key):  # some separators were skipped: are they allowed there?
        for j in range(1, len(entry.key)):
            if place[first + j] != place[first + j - 1] + 1 and j not in entry.gaps:
                return False
    if entry.leading and start > 0 and _LATIN.match(folded[start - 1]):
        return False
    return not entry.trailing or _TRAILING.match(folded, end) is not None


def _fold_text(text: str) -> tuple[str, Sequence[int]]:
    """`compact`'s folding per character (`kg.tables.fold_letters`), with each folded
    character's index in `text`: "Łukasz" in a question finds the author Łukasz."""
    if _PLAIN.fullmatch(text):
        return text.casefold(), range(len(text))  # the common case: one character each
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        folded_ch = _fold_char(ch)
        chars.append(folded_ch)
        origin.extend([index] * len(folded_ch))
    return "".join(chars), origin


# Text folding leaves as it is but for case: ASCII, CJK ideographs and the Chinese full stop
# and comma (most questions and abstracts), folded without a look-up per character.
_PLAIN = re.compile(r"[\x00-\x7f\u4e00-\u9fff\u3001\u3002]*")


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    """One character folded as names are; an accent typed on its own folds to nothing."""
    return ch.casefold() if ch.isspace() else fold_letters(ch)


def _alias_key(order: int, alias: str, node_id: str, kind: str, folded: str) -> _AliasKey:
    """The letters and digits of `folded` and where separators may stand between them: where
    the alias has punctuation or a space, and where a Latin name turns from letters to digits
    ("Llama2" also matches "Llama 2")."""
    key: list[str] = []
    gaps: set[int] = set()
    previous = ""
    for ch in folded:
        if not ch.isalnum():
            if key:
                gaps.add(len(key))
            previous = ""
            continue
        digit_change = previous.isdigit() != ch.isdigit()
        if previous and digit_change and _LATIN.match(previous) and _LATIN.match(ch):
            gaps.add(len(key))
        key.append(ch)
        previous = ch
    return _AliasKey(
        order, alias, node_id, kind, "".join(key), frozenset(g for g in gaps if g < len(key)) or _NO_GAPS,
        leading=bool(_LATIN.match(folded[0])), trailing=bool(_LATIN.match(folded[-1])),
    )  # fmt: skip
