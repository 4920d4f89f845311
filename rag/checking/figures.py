"""Figures in answer sentences, and whether the source states each one *for the same thing*.

Presence is not enough: "BLIP-2 beats Flamingo80B by 54x" finds 54 in the source, but there 54
is how many times fewer trainable parameters it has. A figure (`rag.checking.figure_text`) is
bound to its clause in the source (split at commas and semicolons), and a stated figure is
accepted only where some clause of the source holding it agrees with the sentence on
- the unit kind (a multiple, a percentage, money),
- what it measures (speed, memory, parameters, score, tokens, cost …: `rag.checking.measures`),
- and whom it is about: a name in the sentence's clause that the source also mentions (A100,
  Medusa-2) must sit in the figure's clause, or in its sentence when the clause names nobody;
  with "分别" / "respectively" the n-th figure belongs to the n-th name, and a name compared
  against ("faster than X", `data/comparison_cues.json`) must not be the figure's own subject.
Either side saying nothing about a dimension leaves it unconstrained: only a clear mismatch
rejects, so correct paraphrases survive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache

from kg.cues import load_cues
from rag.checking.figure_text import (
    Figure,
    clause_at,
    clause_start,
    clauses,
    close,
    figure_cues,
    figures,
    same_values,
    sentences,
)
from rag.checking.measures import (
    asked_measures,
    counted,
    counted_words,
    is_whole,
    listed,
    measure_word,
    measured,
    qualifiers,
)
from rag.checking.names import WORD, latin_names, name_key
from rag.retrieval.bm25 import tokenize

__all__ = [
    "Figure",
    "asked_measures",
    "figure_supported",
    "figures",
    "figures_together",
    "measured",
]

# Shared wording (character pairs, words) for a clause to count as the one a claim restates.
_RESTATED_MIN = 3
# Figures relative to something a clause before often names ("对于卸载推理, 比现有系统高 2.6-3.5
# 倍"): their own clause's wording says too little of what they measure.
_RELATIVE = ("multiple", "percent")
_NAME_REACH = 12  # how far before a name a comparison word may stand


def figure_supported(
    figure: Figure, claim: str, evidence: str, own_names: Iterable[str] = ()
) -> bool:
    """The evidence states `figure` (by value, any written form) in a clause that agrees with the
    claim's clause on unit kind, measured quantity and subject names."""
    own = tuple(n for n in own_names if n)
    claim_clause = clause_at(claim, figure.start)
    wanted_measures = measured(claim, figure, own)
    names = _names(claim_clause, own) or _names(claim, own)
    names = [n for n in names if name_key(n) in name_key(evidence)]
    if _other_count_restated(claim, figure, evidence):
        return False  # "选择 8 个专家" where the clause it restates says 两个专家
    whole = is_whole(claim, figure)
    for sentence in sentences(evidence):
        for clause, found in _occurrences(figure, sentence):
            if figure.kind and found.kind and figure.kind != found.kind:
                continue
            named, stated = measure_word(claim, figure, own), measure_word(sentence, found, own)
            if named and stated and not named & stated:
                continue  # "a 0.31T-parameter LLM" where the source has 0.31T 标记
            measures = measured(sentence, found, own)
            if wanted_measures and measures and not wanted_measures & measures:
                continue
            if _counts_differ(claim, figure, sentence, found):
                continue
            if _qualifier_elsewhere(claim, figure, evidence, sentence, found):
                continue  # "47B active parameters" where 47B are all and 13B the active ones
            if is_whole(sentence, found) and not whole:
                continue  # "32 benchmarks" where the source has 30 of 32
            if _comparator_is_subject(claim, figure, sentence, own):
                continue  # "X-2 is 2-4x faster than X" where 2-4x is X's own speed-up
            if _names_bound(names, clause, sentence, found, own):
                return True
    return False


def figures_together(claim: str, evidence: str) -> bool:
    """Figures stated together in one clause of the claim appear together, as many times, in one
    sentence of the evidence: "30 of 32 benchmarks" does not support "32 of 32"."""
    stated = [[v for f in figures(s) for v in f.values] for s in sentences(evidence)]
    for clause in clauses(claim):
        wanted = [v for f in figures(clause or "") for v in f.values]
        if len(wanted) < 2:
            continue
        if not any(_covers(have, wanted) for have in stated):
            return False
    return True


def _covers(have: list[float], wanted: list[float]) -> bool:
    pool = list(have)
    for value in wanted:
        match = next((i for i, v in enumerate(pool) if close(v, value)), None)
        if match is None:
            return False
        pool.pop(match)
    return True


def _occurrences(figure: Figure, sentence: str) -> list[tuple[str, Figure]]:
    """(clause, figure) for each figure of `sentence` whose values include all of `figure`'s,
    or which opens a list that states them all: the range "3 到 4 位" restates "3 或 4 位"."""
    out = []
    for found in figures(sentence):
        values = found.values
        if len(figure.values) > 1:  # only a range can restate a list ("3 或 4", not ranges)
            ends = listed(sentence, found)[: len(figure.values)]
            if all(len(f.values) == 1 for f in ends):
                values = tuple(f.values[0] for f in ends)
        if all(any(close(v, w) for w in values) for v in figure.values):
            out.append((clause_at(sentence, found.start), found))
    return out


def _names_bound(
    names: Sequence[str], clause: str, sentence: str, found: Figure, own: Sequence[str]
) -> bool:
    """The claim's names agree with the figure's clause: with "respectively" the figure's own
    name; otherwise the clause names no one the claim leaves out (a competing subject: A6000
    for a claim about the A100, Medusa-1 for a claim about Medusa-2)."""
    if not names:
        return True
    bound = _respective_name(sentence, found, own)
    if bound is not None:
        listed, name = bound
        keys = {name_key(x) for x in listed}
        return all(name_key(n) == name_key(name) for n in names if name_key(n) in keys)
    claimed = {name_key(n) for n in names}
    return all(name_key(n) in claimed for n in _names(clause, own))


def _respective_name(
    sentence: str, found: Figure, own: Sequence[str]
) -> tuple[list[str], str] | None:
    """For "A 和 B … 分别 x 和 y" / "x and y for A and B respectively": the names listed before
    the figures (in this clause or the one before) and the one paired with `found`."""
    cue = figure_cues().regex("respectively").search(sentence)
    if cue is None:
        return None
    numbers = [f for f in figures(sentence) if f.start >= clause_start(sentence, cue.start())]
    starts = [f.start for f in numbers]
    if found.start not in starts or len(numbers) < 2:
        return None
    clause = clause_start(sentence, cue.start())
    for begin in (clause, clause_start(sentence, max(clause - 1, 0))):
        listed = _names(sentence[begin : numbers[0].start], own)
        if len(listed) == len(numbers):
            return listed, listed[starts.index(found.start)]
    return None


def _counts_differ(claim: str, figure: Figure, sentence: str, found: Figure) -> bool:
    """The claim counts named things ("8 layers") and the source's figure is another count
    ("8 个前馈块") or no count at all ("8x7B", "8%")."""
    if figure.unit:
        return False
    wanted = counted(claim, figure)
    if not wanted:
        return _counts_another_word(claim, figure, sentence, found)
    if found.unit:
        return True
    stated = counted(sentence, found)
    return bool(stated and not wanted & stated)


def _counts_another_word(claim: str, figure: Figure, sentence: str, found: Figure) -> bool:
    """The source's figure counts a listed thing ("five stages") and the claim counts it with a
    word that names none of it ("5 个上下文", "5 contexts"): a word the list does not know is
    still not the thing the source counts. A claim word that contains the thing's own word
    or names it ("5 curriculum stages") keeps the count; the words that follow counts without
    naming a thing ("30 out of the 32", data: `count_followers`) name nothing."""
    stated = set() if found.unit else counted(sentence, found)
    words = counted_words(claim, figure)
    if not stated or not words or figure_cues().regex("count_followers").fullmatch(words[0]):
        return False  # "30 out of the 32", "4 of Osier's stages": what is counted comes later
    rules = [rule for rule in figure_cues().rules("counted") if rule.then in stated]
    return not any(rule.cue.regex.search(word) for rule in rules for word in words)


def _qualifier_elsewhere(
    claim: str, figure: Figure, evidence: str, sentence: str, found: Figure
) -> bool:
    """The claim qualifies its figure (active, total, trainable) and the source states it
    unqualified while another of its figures carries that qualifier."""
    missing = qualifiers(claim, figure) - qualifiers(sentence, found)
    if not missing:
        return False
    return any(
        missing & qualifiers(other_sentence, other)
        for other_sentence in sentences(evidence)
        for other in figures(other_sentence)
        if not (other_sentence == sentence and other.start == found.start)
    )


def _comparator_is_subject(claim: str, figure: Figure, sentence: str, own: Sequence[str]) -> bool:
    """The claim compares against X ("faster than X", "比 X 快") but the source's sentence gives
    the figure to X itself (X is named there, never after a comparison word, and the paper's own
    names are not): the figure is X's, not a gain over X."""
    clause = clause_at(claim, figure.start)
    compared = [m[1] for m in _compared_name().finditer(clause) if not _is_own(m[1], own)]
    if not compared or any(_mentions(sentence, name) for name in own):
        return False
    before = load_cues("comparison_cues").regex("against_before")
    for name in compared:
        spots = [m.start() for m in _name_pattern(name).finditer(sentence)]
        if spots and not any(before.search(sentence[max(0, i - _NAME_REACH) : i]) for i in spots):
            return True
    return False


@cache
def _compared_name() -> re.Pattern[str]:
    """A name right after a comparison word: what the claim compares against."""
    return re.compile(f"{load_cues('comparison_cues').source('against_name')}({WORD})")


def _other_count_restated(claim: str, figure: Figure, evidence: str) -> bool:
    """A count ("8 个专家") where the source clause closest in wording to the claim's clause
    counts the same things with another figure ("路由器网络选择两个专家"), while the clauses
    stating this figure ("每层由 8 个前馈块(即专家)组成") share less of its wording; and so for
    an amount ("用 8B 参数的模型来设置域权重" where the source sets them with the 280M model and
    trains the 8B one). Where the claim states that other figure too, the two must trade places
    (each claim clause closer to the other's source clause): "4B of its 16B parameters" in one
    clause, or "每个标记只动用 13B …, 尽管总共可访问 47B" restate the source in their own order."""
    things = set() if figure.unit else counted(claim, figure)
    if not things and not _amount_kind(figure):
        return False
    wording = _source_wording(figure, things, evidence)
    ours = clause_at(claim, figure.start)
    same, other = _closeness(ours, figure, wording)
    if other is None or other[0] < _RESTATED_MIN or other[0] <= same:
        return False
    partner = next((f for f in figures(claim) if same_values(f, other[1])), None)
    if partner is None:
        return True
    theirs = clause_at(claim, partner.start)
    back_same, back_other = _closeness(theirs, partner, wording)
    return theirs != ours and back_other is not None and back_other[0] > back_same


def _source_wording(
    figure: Figure, things: set[str], evidence: str
) -> list[tuple[Figure, set[str]]]:
    """Each source figure of the kind of `figure` or of its value ("128 come from …" counts
    nothing by itself but states the figure), with the wording of its clause."""
    return [
        (found, _wording(clause_at(sentence, found.start), found))
        for sentence in sentences(evidence)
        for found in figures(sentence)
        if _alike(figure, things, sentence, found) or _shares_value(figure, found)
    ]


def _closeness(
    clause: str, figure: Figure, wording: list[tuple[Figure, set[str]]]
) -> tuple[int, tuple[int, Figure] | None]:
    """How much of `clause`'s wording the source clauses stating `figure` share (the most), and
    the most any clause stating another figure shares, with that figure."""
    words = _wording(clause, figure)
    same, other = 0, None
    for found, theirs in wording:
        shared = len(words & theirs)
        if _shares_value(figure, found):
            same = max(same, shared)
        elif other is None or shared > other[0]:
            other = (shared, found)
    return same, other


def _shares_value(figure: Figure, found: Figure) -> bool:
    """`found` states one of `figure`'s values (any of a range's ends)."""
    return any(close(v, w) for v in figure.values for w in found.values)


def _alike(figure: Figure, things: set[str], sentence: str, found: Figure) -> bool:
    """Two figures of one kind: counts of the same things, or amounts of one kind (280M and 8B,
    `_amount_kind`)."""
    if things:  # "262,144 tokens" and "412 billion tokens" count the same things
        scaled = bool(found.unit) and _amount_kind(found) == "size"
        return (not found.unit or scaled) and bool(things & counted(sentence, found))
    return _amount_kind(found) == _amount_kind(figure) != ""


def _amount_kind(figure: Figure) -> str:
    """'size' for a figure in a scale unit (280M, 8B, 1.2 万亿), else its unit kind, but ''
    for multiples and percentages (`_RELATIVE`)."""
    if figure.unit.casefold() in figure_cues().words("model_size_units"):
        return "size"
    return "" if figure.kind in _RELATIVE else figure.kind


def _wording(clause: str, figure: Figure) -> set[str]:
    """Character pairs of a clause's Chinese text and its lower-cased Latin words, the figure,
    English stop words and the English words of counted things left out: what two clauses share
    when one restates the other."""
    text = clause.replace(figure.text, " ")
    runs = re.findall(r"[\u4e00-\u9fff]+", text)
    pairs = {run[i : i + 2] for run in runs for i in range(len(run) - 1)}
    latin = " ".join(re.findall(r"[A-Za-z]{3,}", text))
    for rule in figure_cues().rules("counted"):  # the English things counted ("papers")
        latin = rule.cue.regex.sub(" ", latin)
    return pairs | {w for w in tokenize(latin) if w.isalpha()}  # stop words ("the") left out


def _is_own(name: str, own: Sequence[str]) -> bool:
    return any(name_key(name) == name_key(o) for o in own)


def _mentions(sentence: str, name: str) -> bool:
    return bool(name) and _name_pattern(name).search(sentence) is not None


def _name_pattern(name: str) -> re.Pattern[str]:
    """`name` as a whole name: "FlashAttention" does not match inside "FlashAttention-2"."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9]|-\w)", re.IGNORECASE)


def _names(text: str, own: Sequence[str] = ()) -> list[str]:
    """Names in `text` (`rag.checking.names`) other than the paper's own, even several words
    long ("Code Llama"): blanking "Medusa" must leave "Medusa-2" alone."""
    for name in sorted(own, key=len, reverse=True):
        parts = [re.escape(part) for part in re.split(r"[\s\-_]+", name) if part]
        if parts:
            pattern = r"(?<![A-Za-z0-9\-])" + r"[\s\-_]*".join(parts) + r"(?![A-Za-z0-9]|-\w)"
            text = re.sub(pattern, lambda m: " " * len(m[0]), text, flags=re.IGNORECASE)
    return [word for _, _, word in latin_names(text)]
