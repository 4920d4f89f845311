"""The keys names and titles are compared by: one home, each key saying what it is for.

All are built on `kg.tables.fold_letters` (case, width and accents folded, `ł` → `l`, `ß` →
`ss`: `data/letter_folds.json`), so `Lukasz` finds `Łukasz` wherever a name is looked up.
They differ in what they keep, because they do different jobs:

- `kg.tables.fold`: the folded text, spaces and punctuation kept: alias tables (organisations,
  categories) and the app's filters.
- `compact`: letters and digits of any script only: the graph's name resolution and mention
  finding ("Llama-2" = "llama 2" = "LLaMA2").
- `name_key`: an author's spelling in `First Last` order, punctuation as spaces, words kept
  apart (the surname and the first initial are read from it).
- `title_key`: a title's identity in the library (`library.jsonl` stores it for removed papers,
  so it never changes): a–z, digits and basic CJK only.

`kg.paper.slugify` makes ids, not keys.
"""

from __future__ import annotations

import re

from kg.tables import fold, fold_letters

__all__ = ["compact", "first_last", "name_key", "title_key"]


def compact(name: str) -> str:
    """The resolution key: folded (`kg.tables.fold_letters`: case, width, accents, ł → l …),
    with spaces, hyphens and punctuation removed ("Llama-2" → "llama2", "Łukasz" → "lukasz").

        >>> compact("Llama-2"), compact("Łukasz"), compact("通义千问 Qwen")
        ('llama2', 'lukasz', '通义千问qwen')
    """
    return "".join(ch for ch in fold_letters(name) if ch.isalnum())


def first_last(name: str) -> str:
    """`Dao, Tri` → `Tri Dao`; `Steele, Jr., Guy L.` → `Guy L. Steele Jr.`; spaces cleaned.

    >>> first_last("Dao, Tri"), first_last("Steele, Jr., Guy L."), first_last("T.Dao")
    ('Tri Dao', 'Guy L. Steele Jr.', 'T. Dao')
    """
    text = " ".join(name.split()).strip(",")
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2 and parts[1]:
        text = f"{parts[1]} {parts[0]}"
    elif len(parts) == 3:
        text = f"{parts[2]} {parts[0]} {parts[1]}"
    return re.sub(r"\.(?=[A-Za-z])", ". ", text).strip()  # "T.Dao" → "T. Dao"


def name_key(name: str) -> str:
    """The identity of an author's spelling (`kg.tables.fold`, `First Last` order, punctuation
    as spaces): `Ré, Christopher` → `christopher re`, `Łukasz Kaiser` → `lukasz kaiser`.

        >>> name_key("Ré, Christopher"), name_key("Łukasz Kaiser")
        ('christopher re', 'lukasz kaiser')
    """
    return " ".join(re.sub(r"[^\w\s]", " ", fold(first_last(name))).split())


def title_key(title: str) -> str:
    """A title's identity: case, accents (`kg.tables.fold`), punctuation and spacing ignored;
    a–z, digits and basic CJK kept (the key `library.jsonl` stores).

        >>> title_key("FlashAttention-2: Faster Attention"), title_key("Mixtral of Experts")
        ('flashattention2fasterattention', 'mixtralofexperts')
    """
    return re.sub(r"[^0-9a-z\u4e00-\u9fff]+", "", fold(title))
