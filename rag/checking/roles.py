"""Who does what: whether a claim keeps the roles of the source sentence it restates.

A claim close in meaning to its source can still swap who beats whom, move a property to another
subject, drop or add a negation, or turn "beats" into "matches". This module reads both the claim
and the source sentence the same way and compares what it reads:

- clauses and polarity (`rag.checking.negation`): the parity of negation cues in a clause; each
  claim clause is compared with the source clause closest to it, and each negation's scope is
  looked up in the other text (a negation moved within the sentence);
- comparisons: a predicate (`comparisons`: more, less, equal, at_least) with its subject (the
  text before it) and its object (the text after it, or between 比/与/than and it); the sides are
  bound by the names they hold (`rag.checking.names`) and else by embedding closeness, so an
  English claim binds to a Chinese source by meaning;
- figures: the direction each restated figure goes (`rag.checking.directions`: 减少了 8,000 倍
  is not 8,000 times more);
- properties (`properties`: complex, unstable, frozen, teacher …) with their subject, and the
  opposite each one has (`property_opposites`).

Every word is data; the mechanism is here. `role_conflicts` returns the reasons a claim does not
keep the source's roles (empty when it does).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from kg.cues import load_cues
from rag.checking.directions import direction_conflicts
from rag.checking.names import is_marked, latin_names, name_key
from rag.checking.negation import clause_polarity, role_cues, scope_conflicts, split_clauses

__all__ = ["Relation", "Similarity", "relations", "role_conflicts"]

# Cosine of each text (rows) to each other text (columns), from the embedder.
Similarity = Callable[[Sequence[str], Sequence[str]], np.ndarray]

# A binding by meaning must beat the other binding by this much to count (cosine).
_SIDE_MARGIN = 0.03
# Equal-weight order: a predicate is where comparison wording sits.
_DIRECTION = {"more": 1, "less": -1, "equal": 0, "at_least": 2}


@dataclass(frozen=True)
class Relation:
    """A comparison or a property a clause states: `kind` (more, less, equal, at_least, or a
    property's name), the `subject` side and, for a comparison, the `object` side."""

    kind: str
    subject: str
    object: str = ""
    comparison: bool = True


def relations(sentence: str, own: Sequence[str] = ()) -> list[Relation]:
    """The comparisons and properties each clause of `sentence` states, with their sides. A
    subject side that names no one is the subject of the clause before, or the paper's own
    names where it refers to the paper ("our model", "it")."""
    out: list[Relation] = []
    previous, against = "", ""
    for clause in split_clauses(sentence):
        subject = ""
        found = _comparisons(clause)
        if not found and role_cues().regex("frame_clause").search(clause):
            against = clause  # "与 X 相比, …": X is what the next comparison is against
            continue
        for kind, side, obj in found:
            subject = _subject(side, own, subject or previous)
            obj = obj if _name_keys(obj) or not against else f"{against} {obj}"
            out.append(Relation(kind, subject, obj))
        against = ""
        end, holder = 0, subject or previous
        for kind, start, stop in _properties(clause):
            side = clause[end:start]
            # "X is complex and often unstable": a side naming no one is the last one's
            side = _subject(side, own, holder) if _name_keys(side) or not end else holder
            holder, end = side, stop
            out.append(Relation(kind, side, comparison=False))
        previous = subject or _subject(_head(clause), own, previous)
    return out


def role_conflicts(
    claim: str, source: str, similar: Similarity, own: Sequence[str] = ()
) -> list[str]:
    """Why `claim` does not keep the roles of `source` (the sentence it restates): a clause of
    the other polarity, a comparison of another direction or object, a property given to
    another subject. Empty when it keeps them."""
    reasons = _polarity_conflicts(claim, source, similar) or scope_conflicts(claim, source)
    reasons += direction_conflicts(claim, source)
    claimed, stated = relations(claim, own), relations(source, own)
    if not claimed:
        reasons += _subject_conflicts(claim, source)
    reasons += _frame_conflicts(claim, source, own) or _frame_kind_conflicts(claim, source)
    reasons += _comparison_conflicts(
        [r for r in claimed if r.comparison], [r for r in stated if r.comparison], similar, own
    )
    reasons += _property_conflicts(
        [r for r in claimed if not r.comparison],
        [r for r in stated if not r.comparison],
        similar,
        _name_keys(source),
        own,
    )
    return reasons


def _polarity_conflicts(claim: str, source: str, similar: Similarity) -> list[str]:
    """The claim and the source differ in polarity, as a whole and where the claim's clauses
    meet the source clauses closest to them (the negations of the claim clauses that restate
    one source clause counted together: "…, without knowing those tasks" against
    "对下游任务一无所知的 DoReMi …")."""
    ours, theirs = split_clauses(claim), split_clauses(source)
    if clause_polarity(claim) == clause_polarity(source):
        return []
    scores = similar(ours, theirs)
    negations: dict[int, int] = {}
    for i, clause in enumerate(ours):
        j = int(np.argmax(scores[i]))
        negations[j] = negations.get(j, 0) + clause_polarity(clause)
    for j, count in negations.items():
        if count % 2 != clause_polarity(theirs[j]):
            said = "negates" if count % 2 else "drops the negation of"
            return [f"the claim {said} what the source states: “{theirs[j].strip()}”"]
    return []


def _comparison_conflicts(
    claimed: Sequence[Relation],
    stated: Sequence[Relation],
    similar: Similarity,
    own: Sequence[str] = (),
) -> list[str]:
    """Each comparison the claim makes against the source comparison of the same two sides
    (either way round): the same direction once the sides are lined up."""
    out = []
    for ours in claimed:
        best: tuple[float, Relation, bool] | None = None
        for theirs in stated:
            straight, crossed = _side_scores(ours, theirs, similar)
            score, flipped = max((straight, False), (crossed, True))
            if crossed > straight + _SIDE_MARGIN or straight > crossed + _SIDE_MARGIN:
                if best is None or score > best[0]:
                    best = (score, theirs, flipped)
            elif best is None or score > best[0]:
                best = (score, theirs, False)
        if best is None:
            continue
        _, theirs, flipped = best
        kind = _flip(theirs.kind) if flipped else theirs.kind
        if not _compatible(ours.kind, kind):
            out.append(
                f"the claim says {_shown(ours.subject, own)} {_WORDS[ours.kind]} "
                f"{ours.object.strip()}; the source says {_shown(theirs.subject, own)} "
                f"{_WORDS[theirs.kind]} {theirs.object.strip()}"
            )
    return out


def _property_conflicts(
    claimed: Sequence[Relation],
    stated: Sequence[Relation],
    similar: Similarity,
    source_names: set[str],
    own: Sequence[str] = (),
) -> list[str]:
    """A property the claim gives a subject that the source gives the opposite of (or gives
    only to another subject while that one has the opposite), or gives only to another subject
    it names while the claim's subject is one the source names in another role."""
    opposites = role_cues().table("property_opposites")
    out = []
    for ours in claimed:
        same = [r.subject for r in stated if r.kind == ours.kind and r.subject.strip()]
        other = [
            r.subject for r in stated if r.kind == opposites.get(ours.kind) and r.subject.strip()
        ]
        if not other and _moved_by_name(ours.subject, same, source_names):
            out.append(
                f"the claim calls {_shown(ours.subject, own)} {ours.kind}; the source calls "
                f"{_shown(same[0], own)} {ours.kind}"
            )
        if not other or not ours.subject.strip():
            continue
        to_same = max((_side_match(ours.subject, s, similar) for s in same), default=-1.0)
        to_other = max(_side_match(ours.subject, s, similar) for s in other)
        if to_other > to_same + _SIDE_MARGIN:
            out.append(
                f"the claim calls {_shown(ours.subject, own)} {ours.kind}; the source calls it "
                f"{opposites.get(ours.kind)}"
            )
    return out


def _moved_by_name(subject: str, holders: Sequence[str], source_names: set[str]) -> bool:
    """The claim gives a property to a name the source mentions, while the source gives it
    only to subjects named otherwise ("与 ReMax 相比,PPO 易于实现" against "与 PPO 相比, ReMax
    … 易于实现"): the property moved from one named entity to another."""
    ours = _name_keys(subject)
    theirs = [_name_keys(h) for h in holders]
    if not ours or not theirs or not all(theirs) or not ours <= source_names:
        return False
    return not any(_same_name(a, b) for keys in theirs for a in ours for b in keys)


def _shown(side: str, own: Sequence[str]) -> str:
    """A side as a reason names it: the paper by its shortest name where the side is the paper
    itself (`_subject` gives it all of the paper's names, for matching), else as written."""
    if own and side.strip() == " ".join(own).strip():
        written = [n for n in own if n != n.casefold()] or list(own)  # not a lower-case slug
        return min(written, key=len)
    return side.strip()


def _same_name(a: str, b: str) -> bool:
    """Two name keys of one entity: equal, or one the other with a variant after it (Auklet,
    Auklet-1B)."""
    short, long = sorted((a, b), key=len)
    return long == short or long.startswith(short) and not long[len(short)].isalpha()


def _subject_conflicts(claim: str, source: str) -> list[str]:
    """The claim's subject (its first name outside a contrast frame: "Unlike X, Y …") is a name
    the source gives another role, while the source's subject is named in the claim elsewhere:
    what the source says of Y the claim says of X."""
    ours, theirs = _main_subject(claim, source), _main_subject(source, claim)
    if not ours or not theirs or ours == theirs:
        return []
    if ours in _name_keys(source) and theirs in _name_keys(claim):
        return [f"the claim says of {ours} what the source says of {theirs}"]
    return []


def _frame_conflicts(claim: str, source: str, own: Sequence[str]) -> list[str]:
    """The claim sets against its subject ("与 X 相比", "compared with X", "unlike X") a name
    the source does not set against anyone but names in another role, the source's own
    subject or the paper itself: "相比 DeepSeek-V2, DeepSeek 67B 节省了…" where the source says
    "相比 DeepSeek 67B, 它节省了…"."""
    ours, theirs = _frame_names(claim), _frame_names(source)
    if not ours or not theirs:
        return []
    if any(_same_name(a, b) for a in ours for b in theirs):
        return []
    named = _name_keys(source) | {k for name in own for k in _name_keys(name)}
    if not all(any(_same_name(a, b) for b in named) for a in ours):
        return []
    return [f"the claim compares against what the source does not (“{_frames(claim)}”); the "
            f"source: “{_frames(source)}”"]  # fmt: skip


def _frame_kind_conflicts(claim: str, source: str) -> list[str]:
    """The claim sets a name alike with its subject ("Like Siskin, the dense baseline routes …",
    "与 X 一样") where the source sets them apart ("Unlike the dense baseline, Siskin routes …",
    "与 X 不同"), or the reverse: whoever is named, one of them does what the other does not."""
    ours, theirs = _frame_kinds(claim), _frame_kinds(source)
    if not ours or not theirs or ours & theirs:
        return []
    return [f"the claim sets them {min(ours)} where the source sets them {min(theirs)}: "
            f"“{_frames(source) or source}”"]  # fmt: skip


def _frame_kinds(text: str) -> set[str]:
    cues = role_cues()
    return {kind for kind in ("alike", "apart") if cues.regex(f"frames_{kind}").search(text)}


def _frame_names(text: str) -> set[str]:
    """The name keys inside the text's contrast frames."""
    return {k for frame in _frame_texts(text) for k in _name_keys(frame)}


def _frames(text: str) -> str:
    return "; ".join(f.strip() for f in _frame_texts(text))


def _frame_texts(text: str) -> list[str]:
    return [m[0] for m in role_cues().regex("contrast_frames").finditer(text)]


def _main_subject(text: str, other: str) -> str:
    """The key of the first name of `text` (outside contrast frames) that `other` names too.
    A capitalised word opening both texts ("Training took 19 days" against "Training X took
    …") is the sentence's capital, not a name: it counts only where `other` has it as a name
    inside a sentence ("Mamba outperforms …" against "… than Mamba")."""
    bare = role_cues().regex("contrast_frames").sub(lambda m: " " * len(m[0]), text)
    shared = _name_keys(other)
    inside = {_key(word) for _, _, word in latin_names(other)}
    for match in _NAME_PHRASE.finditer(bare):
        key = _key(match[0])
        opening = not bare[: match.start()].strip() and " " not in match[0]
        if key in shared and not (opening and not is_marked(match[0]) and key not in inside):
            return key
    return ""


def _side_scores(ours: Relation, theirs: Relation, similar: Similarity) -> tuple[float, float]:
    straight = _side_match(ours.subject, theirs.subject, similar) + _side_match(
        ours.object, theirs.object, similar
    )
    crossed = _side_match(ours.subject, theirs.object, similar) + _side_match(
        ours.object, theirs.subject, similar
    )
    return straight, crossed


def _side_match(a: str, b: str, similar: Similarity) -> float:
    """How well two sides name the same thing: their closeness in meaning (cosine), plus the
    share of names they have in common when both name some."""
    if not a.strip() or not b.strip():
        return 0.0
    score = float(similar([a], [b])[0, 0])
    names_a, names_b = _name_keys(a), _name_keys(b)
    if names_a and names_b:
        score += len(names_a & names_b) / max(len(names_a), len(names_b))
    return score


def _name_keys(text: str) -> set[str]:
    """The names of a side, each word and each run of name words ("Code Llama", "Llama 2"),
    a plural's s dropped (Transformers = Transformer)."""
    words = [w for _, _, w in latin_names(text)] + re.findall(r"[A-Z][A-Za-z0-9\-.]+", text)
    phrases = [m[0] for m in _NAME_PHRASE.finditer(text)]
    return {_key(w) for w in words + phrases}


# A name of one or more words: "Code Llama", "Llama 2 70B", "GPT-3".
_NAME_PHRASE = re.compile(
    r"(?<![A-Za-z0-9])[A-Z][A-Za-z0-9\-.]*(?:\s+(?:[A-Z][A-Za-z0-9\-.]*|\d+(?:\.\d+)?[A-Za-z]?)(?![A-Za-z0-9]))*"
)


def _key(name: str) -> str:
    return re.sub(r"(?<=[a-z]{3})s$", "", name_key(name))


def _compatible(claimed: str, stated: str) -> bool:
    """A claimed direction the stated one allows: "at least" allows more and equal, and is
    allowed by either."""
    if claimed == stated:
        return True
    if claimed == "at_least":
        return stated in ("more", "equal")  # "beats" entails "matches or beats"
    return stated == "at_least" and claimed in ("more", "equal")


def _flip(kind: str) -> str:
    return {"more": "less", "less": "more"}.get(kind, kind)


_WORDS = {
    "more": "is ahead of",
    "less": "is behind",
    "equal": "matches",
    "at_least": "matches or beats",
}


def _comparisons(clause: str) -> list[tuple[str, str, str]]:
    """(kind, subject, object) of each comparison in `clause`. The object is what follows the
    predicate (up to the next one), or what stands between a comparison word (比, 与, than) and
    the predicate; a passive marker swaps the sides. A later predicate's subject is the text
    before it back to the previous predicate's object ("outperforms A and matches B")."""
    found = _predicates(clause)
    out = []
    for n, (kind, start, end) in enumerate(found):
        begin = found[n - 1][2] if n else 0
        stop = found[n + 1][1] if n + 1 < len(found) else len(clause)
        before, after = clause[begin:start], clause[end:stop]
        frame = _frame().search(before)
        if frame is None and kind in ("equal", "at_least"):
            frame = role_cues().regex("frame_openers").search(before)
        if frame is not None:
            subject, obj = before[: frame.start()], before[frame.end() :] + " " + after
        else:
            subject, obj = before, after
        if n and frame is None:
            subject = ""  # "… and matches B": the clause's subject, filled in by the caller
        if role_cues().regex("passive").search(before[-12:] + " " + after[:12]):
            subject, obj = obj, subject
        out.append((kind, subject, obj))
    return out


def _predicates(clause: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of each comparison predicate, the first rule winning an overlap."""
    taken: list[tuple[str, int, int]] = []
    for rule in role_cues().rules("comparisons"):
        for m in rule.cue.regex.finditer(clause):
            if not any(s < m.end() and m.start() < e for _, s, e in taken):
                taken.append((rule.then, m.start(), m.end()))
    return sorted(taken, key=lambda t: t[1])


def _properties(clause: str) -> list[tuple[str, int, int]]:
    """(property, start, end) of each property word in `clause`, the first rule winning."""
    taken: list[tuple[int, int]] = []
    out = []
    for rule in role_cues().rules("properties"):
        for found in rule.cue.regex.finditer(clause):
            if any(s < found.end() and found.start() < e for s, e in taken):
                continue
            taken.append((found.start(), found.end()))
            out.append((rule.then, found.start(), found.end()))
    return sorted(out, key=lambda p: p[1])


def _subject(side: str, own: Sequence[str], before: str) -> str:
    """The side when it names someone; else the paper's own names where it refers to the
    paper ("our model", "it"); else the subject of the clause before; else the side."""
    if _name_keys(side):
        return side
    if _self().search(side) and own:
        return " ".join(own)
    if not role_cues().regex("connectives").sub("", side).strip(" ,，.。、"):
        return before or " ".join(own)
    return side


def _head(clause: str) -> str:
    """The clause's opening words up to its first name and a little after: its subject."""
    names = latin_names(clause)
    return clause[: names[0][1]] if names else ""


@cache
def _frame() -> re.Pattern[str]:
    """A comparison word near the end of the text before a predicate: 'A 比 B 快', 'A 与 B 相当'."""
    words = load_cues("comparison_cues").source("compare_words")
    return re.compile(rf"(?:{words})(?!.*(?:{words}))", re.DOTALL)


@cache
def _self() -> re.Pattern[str]:
    return role_cues().regex("self_reference")
