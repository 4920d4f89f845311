"""The names a paper gives what it builds: "we build vLLM, a serving system", "我们提出了
Medusa", "(称为 GRIT)". A question may call a paper by its system's name rather than its title;
`kg.graph` makes each name read here an extra name of the paper when nothing else has it. The
wording is data (`data/system_name_cues.json`); this module only reads it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from kg.cues import CueBook, load_cues
from kg.keys import compact


@cache
def _cues() -> CueBook:
    return load_cues("system_name_cues")


def system_names(texts: Iterable[str], known: Iterable[str] = ()) -> tuple[str, ...]:
    """The names `texts` (a paper's influence note and abstract) give what it builds, in order.

    `known` are the paper's other names: a name that is one of them plus a digit is one with a
    footnote mark ("FIAT1" where the title says FIAT), not a name of its own.

        >>> system_names(["To address this, we build vLLM, an LLM serving system."])
        ('vLLM',)
        >>> system_names(["我们提出了一种名为 FIAT1 的新学习范式。"], known=["FIAT"])
        ()
    """
    cues = _cues()
    shape, not_names = cues.regex("system_name"), cues.words("not_names")
    keys = {compact(n) for n in known}
    found: list[tuple[int, int, str]] = []
    for number, text in enumerate(texts):
        for rule in cues.rules("lead_in"):
            for lead in rule.cue.regex.finditer(text):
                name = shape.match(text, lead.end())
                word = name[0].rstrip(".") if name else ""
                if not word or word.casefold() in not_names or not re.search(r"[A-Z0-9]", word):
                    continue
                if word[-1].isdigit() and compact(word[:-1]) in keys:
                    continue  # "FIAT1": the title's FIAT and a footnote mark
                found.append((number, lead.end(), word))
    return tuple(dict.fromkeys(word for _, _, word in sorted(found)))
