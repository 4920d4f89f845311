"""Cue files: the words and patterns that route questions and check answers, read from `data/`.

Cue files are read here: `cue_file` reads one (`data/<name>.json`; `kg.lexicon` reads the
lineage cues with it) and checks its header (`format`: `kgrag-<name> v1`, with `_` written `-`; `about`: what it feeds and which
module reads it); `load_cues` compiles the entries of a file written in the format below into a
`CueBook`. The files hold the words; this module holds only the mechanism that turns them into
regular expressions, so adding a cue is a data edit.

The entries of a cue file sit under `"cues"`, each keyed by its name, each one of four kinds:

- `{"terms": [...]}`: a word list. A term is literal text (nothing in it is a regular
  expression) but for two marks: a space matches any run of whitespace, and a final `*` lets the
  word go on (`influen*`: influence, influential). `bounds` says where a term's Latin edges must
  be word edges: `word` (both, the default), `start`, `end` or `none`; a Chinese edge never is.
- `{"pattern": [...]}`: regular expressions, any of which matches. `{name}` stands for another
  entry of the file (as a group), and `{slot}` for a piece the reader supplies (listed in
  `slots`; see `CueBook.fill`). Quantifiers such as `{0,12}` are left alone.
- `{"rules": [{"then": value, "terms" | "pattern": ...}, ...]}`: an ordered list of cues, each
  giving a value when it matches (the first match usually wins: the reader decides).
- `{"table": {...}}`: a plain mapping (units and their scales, numerals), read as it is.

`case` is `ignore` (the default) or `keep` (case-sensitive), per entry or per rule; `note` says
why an entry is worded as it is. Each compiled regex carries its own case flag, so entries with
different flags can include one another.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kg.errors import KgragError
from kg.tables import load_json

__all__ = ["Cue", "CueBook", "Rule", "cue_file", "load_cues", "terms_source"]

FORMAT_VERSION = 1
_REFERENCE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LATIN = re.compile(r"[A-Za-z0-9_]")
_BOUNDS = {
    "word": (True, True),
    "start": (True, False),
    "end": (False, True),
    "none": (False, False),
}
_CASES = ("ignore", "keep")


@dataclass(frozen=True)
class Cue:
    """One compiled entry: its regex (with its case flag inside) and, for a word list, its terms."""

    name: str
    regex: re.Pattern[str]
    terms: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """The regex source, to include in a larger pattern."""
        return self.regex.pattern


@dataclass(frozen=True)
class Rule:
    """One cue of an ordered rule list and the value it gives."""

    then: str
    cue: Cue


@dataclass(frozen=True)
class CueBook:
    """The compiled entries of one cue file (`load_cues`)."""

    name: str
    about: str
    cues: Mapping[str, Cue]
    rule_lists: Mapping[str, tuple[Rule, ...]]
    tables: Mapping[str, Mapping[str, Any]]
    templates: Mapping[str, str] = field(default_factory=dict)

    def regex(self, name: str) -> re.Pattern[str]:
        """The compiled cue `name` (a word list or a pattern)."""
        return self._get(self.cues, name).regex

    def source(self, name: str) -> str:
        """The source of cue `name`, to build a larger pattern around it."""
        return self._get(self.cues, name).source

    def terms(self, name: str) -> tuple[str, ...]:
        """The terms of word list `name`, as written."""
        return self._get(self.cues, name).terms

    def words(self, name: str) -> frozenset[str]:
        """The terms of word list `name`, case-folded (for set look-ups, not matching)."""
        return frozenset(t.casefold() for t in self._get(self.cues, name).terms)

    def rules(self, name: str) -> tuple[Rule, ...]:
        """The ordered rules of entry `name`."""
        return self._get(self.rule_lists, name)

    def table(self, name: str) -> Mapping[str, Any]:
        """The mapping of table entry `name`."""
        return self._get(self.tables, name)

    def fill(self, name: str, **slots: str) -> re.Pattern[str]:
        """Pattern `name` with its `{slot}`s filled by regex sources (compiled once per filling)."""
        template = self._get(self.templates, name)
        missing = {m[1] for m in _REFERENCE.finditer(template)} - slots.keys()
        if missing:
            raise KgragError(f"data/{self.name}.json: {name!r} needs the slots {sorted(missing)}.")
        return _fill(template, tuple(sorted(slots.items())))

    def _get(self, entries: Mapping[str, Any], name: str) -> Any:
        try:
            return entries[name]
        except KeyError:
            raise KgragError(
                f"data/{self.name}.json has no entry {name!r} of that kind. Restore it from git."
            ) from None


def cue_file(name: str, data_dir: Path | None = None) -> dict[str, Any]:
    """The raw content of cue file `data/<name>.json`, its `format` header checked."""
    raw = load_json(f"{name}.json", data_dir)
    expected = f"kgrag-{name.replace('_', '-')} v{FORMAT_VERSION}"
    if raw.get("format") != expected or not isinstance(raw.get("about"), str):
        raise KgragError(
            f'data/{name}.json must start with "format": "{expected}" and an "about" '
            f"line (it has {raw.get('format')!r}). Restore it from git."
        )
    return raw


def load_cues(name: str, data_dir: Path | None = None) -> CueBook:
    """The compiled cues of `data/<name>.json` (cached per file and folder)."""
    return _load(name, data_dir)


def terms_source(terms: Iterable[str], bounds: str = "word") -> str:
    """A word list as one regex source: each term escaped, a space as any whitespace, a final
    `*` as the rest of the word, and word edges where `bounds` asks for them on a Latin edge."""
    start, end = _BOUNDS[bounds]
    parts = []
    for term in terms:
        stem = term.endswith("*") and len(term) > 1
        body = term[:-1] if stem else term
        text = r"\s+".join(re.escape(piece) for piece in body.split(" "))
        if start and _LATIN.match(body[0]):
            text = r"\b" + text
        if stem:
            text += r"\w*"
        elif end and _LATIN.match(body[-1]):
            text += r"\b"
        parts.append(text)
    return "|".join(parts)


@cache
def _load(name: str, data_dir: Path | None) -> CueBook:
    raw = cue_file(name, data_dir)
    entries = raw.get("cues")
    if not isinstance(entries, dict):
        raise KgragError(
            f'data/{name}.json must hold its entries under "cues". Restore it from git.'
        )
    return _Compiler(name, entries).book(raw["about"])


class _Compiler:
    """Compiles a file's entries, each once, following `{name}` references (no cycles)."""

    def __init__(self, file: str, entries: dict[str, Any]) -> None:
        self.file = file
        self.entries = entries
        self.sources: dict[str, str] = {}
        self.busy: set[str] = set()

    def book(self, about: str) -> CueBook:
        cues: dict[str, Cue] = {}
        rules: dict[str, tuple[Rule, ...]] = {}
        tables: dict[str, Mapping[str, Any]] = {}
        templates: dict[str, str] = {}
        for name, entry in self.entries.items():
            kind = self._kind(name, entry)
            if kind == "table":
                if not isinstance(entry["table"], dict):
                    raise self._error(name, "needs a mapping as its table")
                tables[name] = MappingProxyType(dict(entry["table"]))
            elif kind == "rules":
                if not isinstance(entry["rules"], list):
                    raise self._error(name, "needs a list of rules")
                rules[name] = tuple(self._rule(name, i, r) for i, r in enumerate(entry["rules"]))
            elif entry.get("slots"):
                templates[name] = self._template(name, entry)
            else:
                terms = tuple(entry.get("terms", ()))
                cues[name] = Cue(name, self._compile(name, self.source(name)), terms)
        return CueBook(self.file, about, MappingProxyType(cues), MappingProxyType(rules),
                       MappingProxyType(tables), MappingProxyType(templates))  # fmt: skip

    def source(self, name: str) -> str:
        """The regex source of word list or pattern `name`, its case flag scoped inside it."""
        if name not in self.sources:
            if name in self.busy:
                raise self._error(name, "includes itself")
            self.busy.add(name)
            self.sources[name] = self._entry_source(name, self.entries[name])
            self.busy.discard(name)
        return self.sources[name]

    def _entry_source(
        self, name: str, entry: dict[str, Any], slots: frozenset[str] = frozenset()
    ) -> str:
        if "terms" in entry:
            bounds = entry.get("bounds", "word")
            if bounds not in _BOUNDS or not _all_text(entry["terms"]):
                raise self._error(name, f"needs text terms and bounds one of {', '.join(_BOUNDS)}")
            body = terms_source(entry["terms"], bounds)
        else:
            body = self._pattern_body(name, entry["pattern"], slots)
        return _scoped(body, self._case(name, entry))

    def _template(self, name: str, entry: dict[str, Any]) -> str:
        slots = entry["slots"]
        if self._kind(name, entry) != "pattern" or not _all_text(slots):
            raise self._error(name, "has slots, so it must be a pattern and name them")
        return self._entry_source(name, entry, frozenset(slots))

    def _pattern_body(self, name: str, pattern: Any, slots: frozenset[str]) -> str:
        alternatives = [pattern] if isinstance(pattern, str) else pattern
        if not _all_text(alternatives):
            raise self._error(name, "needs a pattern or a list of patterns")

        def include(match: re.Match[str]) -> str:
            ref = match[1]
            if ref in slots:
                return match[0]
            entry = self.entries.get(ref)
            if entry is None or self._kind(ref, entry) not in ("terms", "pattern"):
                raise self._error(name, f"includes {{{ref}}}, which is no word list or pattern")
            return f"(?:{self.source(ref)})"

        return "|".join(_REFERENCE.sub(include, a) for a in alternatives)

    def _rule(self, name: str, index: int, rule: Any) -> Rule:
        if not isinstance(rule, dict) or not isinstance(rule.get("then"), str):
            raise self._error(name, f'rule {index + 1} needs a "then" value')
        if ("terms" in rule) == ("pattern" in rule):
            raise self._error(name, f"rule {index + 1} needs either terms or a pattern")
        label = f"{name}[{index + 1}]"
        source = self._entry_source(label, rule)
        return Rule(
            rule["then"], Cue(label, self._compile(label, source), tuple(rule.get("terms", ())))
        )

    def _kind(self, name: str, entry: Any) -> str:
        kinds = [
            k
            for k in ("terms", "pattern", "rules", "table")
            if isinstance(entry, dict) and k in entry
        ]
        if len(kinds) != 1:
            raise self._error(name, "needs exactly one of terms, pattern, rules or table")
        return kinds[0]

    def _case(self, name: str, entry: dict[str, Any]) -> str:
        case = entry.get("case", "ignore")
        if case not in _CASES:
            raise self._error(name, f"has case {case!r}, not one of {', '.join(_CASES)}")
        return str(case)

    def _compile(self, name: str, source: str) -> re.Pattern[str]:
        try:
            return re.compile(source)
        except re.error as exc:
            raise self._error(name, f"is no valid regular expression ({exc})") from exc

    def _error(self, name: str, what: str) -> KgragError:
        return KgragError(
            f"data/{self.file}.json: entry {name!r} {what}. Fix it or restore it from git."
        )


def _scoped(body: str, case: str) -> str:
    return f"(?{'i' if case == 'ignore' else '-i'}:{body})"


def _all_text(items: Any) -> bool:
    return isinstance(items, list) and bool(items) and all(isinstance(i, str) and i for i in items)


@lru_cache(maxsize=256)
def _fill(template: str, slots: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    given = dict(slots)
    return re.compile(_REFERENCE.sub(lambda m: f"(?:{given[m[1]]})", template))
