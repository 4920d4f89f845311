"""`kgrag edit` and the card's edit form (`edit_paper`): set a paper's organisations, category
or date. The values go on its library line with the provenance `edited`, and an edited field
wins over the list's value (the list itself is never modified) and over what a later
`kgrag add` offers (a conflict).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import InvalidFieldError, KgragError
from kg.library.changes import LibraryState
from kg.library.merge import compose
from kg.library.store import library_text, locked, save_library
from kg.limits import check_added_size
from kg.paper import Corpus, Paper
from kg.paths import user_library_path
from kg.tables import load_category_table, load_org_table

__all__ = ["EditReport", "FieldChange", "PaperEdit", "edit_paper"]

_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


@dataclass(frozen=True)
class PaperEdit:
    """What `kgrag edit` sets; None leaves a field as it is. `organizations`: any aliases,
    separated as in a list (`,` `、` `和`); `category`: any alias of `data/categories.json`;
    `date`: `YYYY-MM` (or `YYYY`)."""

    organizations: str | None = None
    category: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class FieldChange:
    """`field` went from `old` to `new` (organisations as tuples, the rest as text)."""

    field: str
    old: str | tuple[str, ...]
    new: str | tuple[str, ...]


@dataclass(frozen=True)
class EditReport:
    """The paper as it is now, what changed (nothing: nothing was written), and the corpus."""

    path: Path
    paper: Paper
    changes: tuple[FieldChange, ...]
    corpus: Corpus


def edit_paper(
    paper_id: str, edit: PaperEdit, dry_run: bool = False, library_path: Path | None = None
) -> EditReport:
    """Set a paper's organisations, category or date (`kgrag edit`), written to its library
    line with the provenance `edited`; the list is never modified. An unknown id
    (`UnknownNameError`), an unknown category or a malformed date (`InvalidFieldError`) is an
    error and nothing is written; values equal to the paper's write nothing either."""
    values = _edit_values(edit)  # every value checked before the library is read
    path = library_path or user_library_path()
    with locked(path):
        state = LibraryState.open(path)
        state.require(paper_id)
        changes = _changes(state.papers[paper_id], values)
        if changes:
            state.edit(paper_id, {k: values[k] for c in changes for k in _TRAVELS[c.field]})
            library = state.result()
            check_added_size(path, len(library_text(library).encode("utf-8")))
            if not dry_run:
                save_library(library)
        corpus = compose(state.base, state.result())
    return EditReport(path, state.papers[paper_id], changes, corpus)


# The fields an edit sets with each field it changes (what `kg.library.merge` fills with it).
_TRAVELS = {"organizations": ("organizations", "organizations_raw", "org_line"),
            "category": ("category", "category_label"), "date": ("date",)}  # fmt: skip


def _edit_values(edit: PaperEdit) -> dict[str, Any]:
    """The `Paper` fields an edit sets, each checked (`InvalidFieldError` names the bad one)."""
    values: dict[str, Any] = {}
    if edit.organizations is not None:
        names, _unknown = load_org_table().split(edit.organizations)  # unknown ones kept
        if not names:
            raise InvalidFieldError("organisation", edit.organizations,
                                    "an organisation (any alias: 谷歌, Google, …)")  # fmt: skip
        values.update(organizations=names, organizations_raw=edit.organizations.strip(),
                      org_line=0)  # fmt: skip
    if edit.category is not None:
        found = load_category_table().lookup(edit.category)
        if found is None:
            choices = ", ".join(f"{c.label_zh} ({c.key})" for c in load_category_table().categories)
            raise InvalidFieldError("category", edit.category,
                                    f"a category of data/categories.json: {choices}")  # fmt: skip
        values.update(category=found.key, category_label=found.label_zh)
    if edit.date is not None:
        values["date"] = _edit_date(edit.date)
    if not values:
        raise KgragError("nothing to edit: give an organisation, a category or a date.")
    return values


def _edit_date(value: str) -> str:
    match = _DATE.match(value.strip())
    if match is None or (match.group(2) and not 1 <= int(match.group(2)) <= 12):
        raise InvalidFieldError("date", value, "YYYY-MM (a month 01-12) or a year YYYY")
    return match.group(0)


def _changes(paper: Paper, values: dict[str, Any]) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, getattr(paper, name), values[name])
        for name in ("organizations", "category", "date")
        if name in values and getattr(paper, name) != values[name]
    )
