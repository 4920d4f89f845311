"""The alias tables kgrag reads from `data/`: organisations and categories, and the letter
folding every name key is built on (`fold_letters`, `data/letter_folds.json`).

They are data, not code: users extend them by editing the JSON files.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from kg.errors import KgragError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

_ORG_SPLIT = re.compile(r"[,，、;；/&]|\s+and\s+|和|与|及")
_ORG_NOISE = re.compile(r"(的)?(研究人员|研究者|团队|等人|等|et al\.?)$", re.IGNORECASE)


def fold(text: str) -> str:
    """`fold_letters` without surrounding whitespace: the key the alias tables (organisations,
    categories) compare names by; spaces and punctuation inside are kept (see `kg.keys`).

    >>> fold(" Łukasz Kaiser "), fold("Christopher Ré"), fold("Søren"), fold("ＧＰＴ")
    ('lukasz kaiser', 'christopher re', 'soren', 'gpt')
    """
    return fold_letters(text).strip()


def fold_letters(text: str) -> str:
    """Case, width and accents folded, and the letters decomposition keeps whole spelled out
    (`data/letter_folds.json`: ł → l, ø → o, ß → ss, …), so that a name typed in ASCII is the
    name (`Lukasz` = `Łukasz`, `Re` = `Ré`). The one folding every name key is built on
    (`fold` and the keys of `kg.keys`); whitespace is kept, so text can be folded character by
    character."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    # NFKC after dropping the accents: Hangul syllables decomposed by NFKD are whole again
    return unicodedata.normalize("NFKC", text.translate(_letters()))


@cache
def _letters() -> dict[int, str]:
    raw = load_json("letter_folds.json")
    letters = raw.get("letters")
    if not isinstance(letters, dict) or not all(
        isinstance(k, str) and len(k) == 1 and isinstance(v, str) for k, v in letters.items()
    ):
        raise KgragError("data/letter_folds.json must map single letters to text under "
                         '"letters". Restore it from git.')  # fmt: skip
    return {ord(k): v for k, v in letters.items()}


def load_json(name: str, data_dir: Path | None = None) -> dict[str, Any]:
    path = (data_dir or DATA_DIR) / name
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise KgragError(f"cannot read data file {path}: {exc}. Restore it from git.") from exc
    if not isinstance(loaded, dict):
        raise KgragError(f"data file {path} must hold a JSON object. Restore it from git.")
    return loaded


@dataclass(frozen=True)
class Organization:
    name: str
    aliases: tuple[str, ...]
    part_of: str | None = None


@dataclass(frozen=True)
class OrgTable:
    organizations: tuple[Organization, ...]

    def canonical(self, name: str) -> str | None:
        """The canonical name for an alias, or None when the table does not know it."""
        return self._index().get(fold(name))

    def get(self, canonical_name: str) -> Organization | None:
        return next((o for o in self.organizations if o.name == canonical_name), None)

    def aliases(self) -> dict[str, str]:
        """Every folded alias (canonical names included) mapped to its canonical name."""
        return dict(self._index())

    def split(self, raw: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Normalise a 发表单位 field into (canonical names, names not in the table).

        Unknown names are kept, cleaned, in the first tuple too: nothing is dropped.
        """
        names: list[str] = []
        unknown: list[str] = []
        for piece in self._pieces(raw):
            known = self.canonical(piece)
            name = known or piece
            if known is None:
                unknown.append(piece)
            if name not in names:
                names.append(name)
        return tuple(names), tuple(unknown)

    def _pieces(self, raw: str) -> list[str]:
        whole = _clean_org(raw)
        if whole and self.canonical(whole):
            return [whole]
        pieces = [_clean_org(p) for p in _ORG_SPLIT.split(raw)]
        return [p for p in pieces if p]

    def _index(self) -> dict[str, str]:
        return _org_index(self)


@cache
def _org_index(table: OrgTable) -> dict[str, str]:
    index: dict[str, str] = {}
    for org in table.organizations:
        for alias in (org.name, *org.aliases):
            index.setdefault(fold(alias), org.name)
    return index


def _clean_org(piece: str) -> str:
    piece = piece.strip(" \t\u3000.。")
    while True:
        cleaned = _ORG_NOISE.sub("", piece).strip()
        if cleaned == piece:
            return piece
        piece = cleaned


@dataclass(frozen=True)
class Category:
    key: str
    label_zh: str
    label_en: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class CategoryTable:
    categories: tuple[Category, ...]

    def lookup(self, name: str) -> Category | None:
        """The category a heading or a user's word names (Chinese or English), if any."""
        return self._by_name.get(fold(name))

    @cached_property
    def _by_name(self) -> dict[str, Category]:
        """Every folded name → its category (the first category wins, as a scan would); the
        corpus reader asks this of every line."""
        index: dict[str, Category] = {}
        for cat in self.categories:
            for name in (cat.key, cat.label_zh, cat.label_en, *cat.aliases):
                index.setdefault(fold(name), cat)
        return index

    def get(self, key: str) -> Category:
        found = next((c for c in self.categories if c.key == key), None)
        if found is None:
            raise KgragError(f"no category {key!r} in categories.json")
        return found


def load_org_table(data_dir: Path | None = None) -> OrgTable:
    raw = load_json("organizations.json", data_dir)
    orgs = tuple(
        Organization(o["name"], tuple(o.get("aliases", ())), o.get("part_of"))
        for o in raw["organizations"]
    )
    return OrgTable(orgs)


def load_category_table(data_dir: Path | None = None) -> CategoryTable:
    raw = load_json("categories.json", data_dir)
    cats = tuple(
        Category(c["key"], c["label_zh"], c["label_en"], tuple(c.get("aliases", ())))
        for c in raw["categories"]
    )
    return CategoryTable(cats)
