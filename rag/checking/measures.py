"""What a figure measures (speed, memory, parameters, score, cost, tokens …) and what a bare
count counts (layers, experts, GPUs …), read from the words around it; what a question asks.

The cue words of each measure and counted thing are in `data/figure_cues.json`. A size next to
a model's name is its parameter count; a figure in a list ("7B, 13B and 70B tokens") measures
what the list's last figure does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from rag.checking.figure_text import (
    Figure,
    clause_at,
    clause_start,
    figure_cues,
    figures,
    numeral_source,
)
from rag.checking.names import latin_names
from rag.retrieval.bm25 import tagged_words

__all__ = [
    "asked_measures",
    "counted",
    "counted_words",
    "is_whole",
    "listed",
    "measure_word",
    "measured",
    "qualifiers",
]

# What a count is followed by: a measure word maybe, then the counted word or an adjective and
# the counted word ("312 open-access papers").
_COUNTED_WORD = (
    r"\s*{classifiers}?\s*([A-Za-z][A-Za-z-]*|[\u4e00-\u9fff]{{1,3}})(?:\s+([A-Za-z]+))?"
)
_WORD_GOES_ON = re.compile(r"[A-Za-z0-9]")
_NOUN_REACH = 8  # characters of Chinese text read for the noun after a count
_NOUN_TAGS = ("n", "j")  # jieba's noun tags (n, nz, ns …) and abbreviations ("上下文": j)
_NAME_TAIL = re.compile(r"(?P<word>[A-Za-z][A-Za-z0-9.\-]*)(?:\s+\d+(?:\.\d+)?)?\s*$")


def asked_measures(question: str) -> set[str]:
    """The quantities a question names (speed, parameters, tokens …), by the same cue words;
    "how long" / 多长 asks a length in tokens or a time ("在多长的输入上" → "100k 字元的输入"),
    a time when a word of duration goes with it ("how long did pretraining take")."""
    found = _measures(question)
    if figure_cues().regex("how_long").search(question):
        found |= (
            {"time"}
            if figure_cues().regex("how_long_time").search(question)
            else {"tokens", "time"}
        )
    return found


def measured(text: str, figure: Figure, own: Sequence[str] = ()) -> set[str]:
    """What `figure` (at its `start` in `text`) measures. A size written next to a model's name
    ("Python 7B", "70B 的 Code Llama", "7B、13B 和 70B 的 Code Llama") is its parameter count,
    whatever else the clause says; otherwise the cue words of its clause, and in a list of
    figures ("7B, 13B and 70B tokens") those of the clause where the list ends."""
    last = _list_end(text, figure)
    if _model_size(text, figure, last, own):
        return {"parameters"}
    found = _measures(clause_at(text, figure.start))
    if not found and last is not figure:
        found = _measures(clause_at(text, last.start))
    return found - _claimed_by_others(text, last)


def _claimed_by_others(text: str, last: Figure) -> set[str]:
    """Measures that other figures of the clause name right after them ("4 个 GPU 小时内量化
    1750 亿个参数": parameters are 1750 亿's, not 4's)."""
    start = clause_start(text, last.start)
    end = start + len(clause_at(text, last.start))
    out: set[str] = set()
    for other in figures(text):
        if start <= other.start < end and _list_end(text, other).start != last.start:
            out |= measure_word(text, other)
    return out


def counted(text: str, figure: Figure) -> set[str]:
    """What the count `figure` (found at its `start` in `text`) counts ("8 layers", "8 个前馈
    块", the word after an adjective: "312 open-access papers"), as the names of the counted
    rules."""
    match = _counted_word().match(text, figure.start + len(figure.text))
    if match is None:
        return set()
    rules = figure_cues().rules("counted")
    for word in (match[1], match[2]):  # "312 papers published", "312 open-access papers"
        things = {rule.then for rule in rules if word and rule.cue.regex.match(word)}
        if things:
            return things
    return set()


def counted_words(text: str, figure: Figure) -> tuple[str, ...]:
    """The nouns a bare count may be counting, as written, listed or not in the counted things
    of the data: the word right after it (past a measure word) and the one after that ("312
    open-access papers"), whole words only ("8 A100s" names none); in Chinese the first word
    jieba reads as a noun ("5 个上下文"), never a place word ("30 个上超越" names nothing)."""
    match = _counted_word().match(text, figure.start + len(figure.text))
    if match is None or _WORD_GOES_ON.match(text, match.end(1)):
        return ()
    if match[1].isascii():
        return tuple(word for word in (match[1], match[2]) if word)
    return _chinese_noun(text[match.start(1) : match.start(1) + _NOUN_REACH])


def _chinese_noun(text: str) -> tuple[str, ...]:
    first = next(iter(tagged_words(text)), None)
    if first is None or len(first[0]) < 2 or not first[1].startswith(_NOUN_TAGS):
        return ()
    return (first[0],)


def is_whole(text: str, figure: Figure) -> bool:
    """`figure` (at its `start` in `text`) is the whole a part is counted out of: "32" in "30 of
    the 32 benchmarks" or "32 个基准中的 30 个". Stated alone it would claim all of them."""
    cues = figure_cues()
    after = cues.fill("whole_after", numeral=numeral_source())
    return bool(
        after.match(text, figure.start + len(figure.text))
        or cues.regex("whole_before").search(text[max(0, figure.start - 24) : figure.start])
    )


def measure_word(text: str, figure: Figure, own: Sequence[str] = ()) -> set[str]:
    """What the word right after `figure` (or after the list it opens) names: "0.31T 标记的 101B
    参数" gives each figure its own measure, which the clause's cue words cannot. A size next
    to a model's name is its parameters ("Python 7B outperforms …")."""
    last = _list_end(text, figure)
    if _model_size(text, figure, last, own):
        return {"parameters"}
    return _measures(_word_after(text, last))


def _model_size(text: str, figure: Figure, last: Figure, own: Sequence[str]) -> bool:
    """`figure` is a size written next to a model's name ("Python 7B", "70B 的 Code Llama")."""
    cues = figure_cues()
    return figure.unit.casefold() in cues.words("model_size_units") and bool(
        cues.regex("model_after").match(text, last.start + len(last.text))
        or _name_before(text[: figure.start], own)
    )


def qualifiers(text: str, figure: Figure) -> set[str]:
    """The qualifiers of what `figure` measures in its clause: active or total parameters,
    trainable ones (`data/figure_cues.json` `qualifiers`), each the nearest figure's."""
    start = clause_start(text, figure.start)
    end = start + len(clause_at(text, figure.start))
    others = [f for f in figures(text) if start <= f.start < end and f.start != figure.start]
    return {
        rule.then
        for rule in figure_cues().rules("qualifiers")
        for match in rule.cue.regex.finditer(text, start, end)
        if _nearest(figure, others, match.start(), match.end())
    }


def _nearest(figure: Figure, others: Sequence[Figure], start: int, end: int) -> bool:
    """The words at `start:end` stand nearer to `figure` than to any other figure of its clause:
    "by 8.7% with 54x fewer trainable parameters" - trainable is 54x's, not 8.7%'s."""

    def gap(f: Figure) -> int:
        return max(f.start - end, start - (f.start + len(f.text)), 0)

    return all(gap(figure) <= gap(other) for other in others)


def _word_after(text: str, figure: Figure) -> str:
    """The word right after a figure, past a hyphen or a measure word: "parameter" of
    "0.31T-parameter", "参数" of "1750 亿个参数"."""
    match = _next_word().match(text, figure.start + len(figure.text))
    return match[1] if match else ""


@cache
def _next_word() -> re.Pattern[str]:
    classifiers = figure_cues().source("classifiers")
    return re.compile(rf"[\s\-]*(?:{classifiers})?\s*([A-Za-z]+|[\u4e00-\u9fff]{{1,2}})")


@cache
def _counted_word() -> re.Pattern[str]:
    return re.compile(_COUNTED_WORD.format(classifiers=figure_cues().source("classifiers")))


def _list_end(text: str, figure: Figure) -> Figure:
    """The last figure of the list `figure` opens ("7B, 13B, 34B and 70B"), or `figure`."""
    return listed(text, figure)[-1]


def listed(text: str, figure: Figure) -> list[Figure]:
    """The figures of the list `figure` opens ("7B, 13B, 34B and 70B", "3 或 4"), `figure`
    first; just `figure` when no list follows it."""
    following = [f for f in figures(text) if f.start > figure.start]
    joins = _list_join()
    out = [figure]
    for candidate in following:
        between = text[out[-1].start + len(out[-1].text) : candidate.start]
        if not joins.fullmatch(between):
            break
        out.append(candidate)
    return out


@cache
def _list_join() -> re.Pattern[str]:
    joins = figure_cues().source("list_joins")
    return re.compile(rf"\s*(?:[,，、/]\s*(?:{joins}\s*)?|{joins}\s*)")


def _name_before(text: str, own: Sequence[str]) -> bool:
    """`text` ends with a model's name, maybe with its version ("Code Llama – Python ",
    "Llama 2 "), the paper's own names included."""
    tail = _NAME_TAIL.search(text)
    if tail is None:
        return False
    head = text[: tail.end()].rstrip().casefold()
    if any(head.endswith(name.casefold()) for name in own):
        return True
    names = [word for _, _, word in latin_names(text[: tail.end("word")])]
    return bool(names) and names[-1] == tail["word"]


def _measures(text: str) -> set[str]:
    return {rule.then for rule in figure_cues().rules("measures") if rule.cue.regex.search(text)}
