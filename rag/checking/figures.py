"""Figures in answer sentences, and whether the source states each one *for the same thing*.

Presence is not enough: "BLIP-2 beats Flamingo80B by 54x" finds 54 in the source, but there 54
is how many times fewer trainable parameters it has. A figure is bound to its clause in the
source (split at commas and semicolons), and a stated figure is accepted only where some clause
of the source holding it agrees with the sentence on
- the unit kind (a multiple, a percentage, money),
- what it measures (speed, memory, parameters, score, tokens, cost …, bilingual cue words),
- and whom it is about: a name in the sentence's clause that the source also mentions (A100,
  Medusa-2) must sit in the figure's clause, or in its sentence when the clause names nobody;
  with "分别" / "respectively" the n-th figure belongs to the n-th name.
Either side saying nothing about a dimension leaves it unconstrained: only a clear mismatch
rejects, so correct paraphrases survive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kg.tables import fold

__all__ = [
    "Figure",
    "asked_measures",
    "figure_supported",
    "figures",
    "figures_together",
    "measured",
]

_FIGURE = re.compile(
    r"(?<![A-Za-z0-9.\-_])(\d+(?:,\d{3})*(?:\.\d+)?)"
    r"(?:\s*[-–~到至]\s*(\d+(?:,\d{3})*(?:\.\d+)?))?"
    r"(?:\s*(x|×|倍|%|percent|times|fold|billion|million|trillion|[BMKT]|k|亿|万)(?![A-Za-z]))?"
)
# A count or multiple written in Chinese numerals before its measure word: 两倍, 五个, 十六种,
# 三个阶段. Not an ordinal (第三个) and not one (一种 is "a kind of", 一个 "a").
_CJK_DIGITS = "零〇一二两三四五六七八九"
_CJK_FIGURE = re.compile(
    rf"(?<![第{_CJK_DIGITS}十百千万亿])([{_CJK_DIGITS}十百千]+)"
    r"(?:\s*(倍)|(?=\s*(?:个|种|项|张|位|层|类|条|次|阶段|级)))"
)
_CJK_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CJK_POWER = {"十": 10, "百": 100, "千": 1000}
_MONEY = re.compile(r"\$\s*$|美元|dollars?|USD", re.I)
_UNIT_KIND = {
    "x": "multiple", "×": "multiple", "倍": "multiple", "times": "multiple", "fold": "multiple",
    "%": "percent", "percent": "percent",
}  # fmt: skip
_SCALE = {"b": 1e9, "billion": 1e9, "m": 1e6, "million": 1e6, "k": 1e3, "t": 1e12,
          "trillion": 1e12, "亿": 1e8, "万": 1e4}  # fmt: skip
_MEASURES: dict[str, re.Pattern[str]] = {
    "speed": re.compile(
        r"speed|faster|accelerat|latency|throughput|加速|速度|更快|提速|延迟|吞吐", re.I
    ),  # fmt: skip
    "memory": re.compile(r"memory|dram|内存|显存", re.I),
    "parameters": re.compile(r"param|参数", re.I),
    "score": re.compile(r"accura|score|outperform|准确率|得分|分数|胜率|精度", re.I),
    "cost": re.compile(r"budget|cost|dollar|\$|预算|成本|美元|经费", re.I),
    "tokens": re.compile(r"token|标记|令牌|字元|词元", re.I),
    "steps": re.compile(r"\bsteps?\b|步骤|步数", re.I),
    "time": re.compile(r"hours?|days?|小时|天", re.I),
    "lines": re.compile(r"lines? of code|行代码|行", re.I),
}
# What a bare count counts, read from the word right after it ("8 layers", "8 个前馈块"): a
# count of one thing never supports a count of another, even in a clause that names both
# ("每层由 8 个前馈块组成" has 8 blocks per layer, not 8 layers).
_COUNTED: dict[str, re.Pattern[str]] = {
    "layers": re.compile(r"layers?\b|层", re.I),
    "experts": re.compile(r"experts?\b|专家|前馈块|(?:feed-?forward\s+)?blocks?\b", re.I),
    "heads": re.compile(r"heads?\b|头", re.I),
    "gpus": re.compile(r"gpus?\b|显卡|张卡", re.I),
    "languages": re.compile(r"languages?\b|种语言|语言", re.I),
    "benchmarks": re.compile(r"benchmarks?\b|基准", re.I),
    "tasks": re.compile(r"tasks?\b|任务", re.I),
    "datasets": re.compile(r"datasets?\b|数据集", re.I),
    "apis": re.compile(r"apis?\b", re.I),
    "params": re.compile(r"param|参数", re.I),
    "tokens": re.compile(r"tokens?\b|标记|令牌|词元", re.I),
}
_COUNTED_NOUN = re.compile(
    r"\s*(?:个|种|项|张|位)?\s*(?:[A-Za-z-]+\s+)?([A-Za-z]+|[\u4e00-\u9fff]{1,3})"
)
_LIST_JOIN = re.compile(
    r"\s*(?:[,，、/]\s*(?:(?:and|or|和|或|与|及)\s*)?|(?:and|or|和|或|与|及)\s*)"
)
_MODEL_SIZE = {"b", "billion", "m", "million", "t", "trillion", "亿"}
_NAME_TAIL = re.compile(r"(?P<word>[A-Za-z][A-Za-z0-9.\-]*)(?:\s+\d+(?:\.\d+)?)?\s*$")
_MODEL_AFTER = re.compile(
    r"\s*(?:的\s*)?(?:[A-Z][A-Za-z]|models?\b|variants?\b|versions?\b|模型|变体|版本)"
)
_CLAUSE = re.compile(r"(?:[，；;：:]|,(?!\d{3}))\s*|\s+(?:while|whereas|and|but)\s+|，?而(?!且)")
_SENTENCE = re.compile(r"(?<=[。！？!?])|(?<=[.])\s+")
# A name right after a comparison word: what the claim compares against.
_COMPARE_WORDS = (
    r"than|over|compared\s+(?:to|with)|versus|vs\.?|against|relative\s+to|比|与|和|跟|相比于|"
    r"相较于|相对于"
)
_COMPARED_NAME = re.compile(
    rf"(?:{_COMPARE_WORDS})\s*(?:the\s+)?(?:original\s+|previous\s+|standard\s+|first\s+)?"
    r"([A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*)",
    re.IGNORECASE,
)
_COMPARE_BEFORE = re.compile(rf"(?:{_COMPARE_WORDS})\s*(?:the\s+)?\S{{0,10}}?\s*$", re.I)
# Shared wording (character pairs, words) for a clause to count as the one a claim restates.
_RESTATED_MIN = 3
_HOW_LONG = re.compile(r"\bhow long\b|多长|多久", re.I)
_RESPECTIVELY = re.compile(r"分别|respectively", re.I)
# A figure that is the whole a part is counted out of: "32 个基准中的 30 个", "32 项中有 30 项",
# "30 of the 32 benchmarks", "30 out of 32". "20 个基准中的每个" (each of 20) is no part.
_NUMERAL = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千]+)"
_WHOLE_AFTER = re.compile(rf"\s*[^\d，。,;；：:]{{0,12}}?中(?:的|有)\s*{_NUMERAL}")
_WHOLE_BEFORE = re.compile(r"\d+(?:\.\d+)?\s+(?:out\s+)?of\s+(?:the\s+|all\s+)?$", re.I)
_NAME = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")


@dataclass(frozen=True)
class Figure:
    """A number (or range) as written, its value(s) in plain units and its unit kind."""

    text: str
    values: tuple[float, ...]
    unit: str
    start: int

    @property
    def kind(self) -> str:
        return _UNIT_KIND.get(self.unit.casefold(), "money" if self.unit == "$" else "")


def figures(text: str) -> list[Figure]:
    """Every figure in `text`: `2.2x`, `2.3-3.6 倍`, `7B`, `50%`, `$100K` … Numbers glued to a
    Latin name (GPT-3, A100, Medusa-2) are names, not figures."""
    out = []
    for match in _FIGURE.finditer(text):
        unit = match[3] or ""
        scale = _SCALE.get(unit.casefold(), 1.0)
        values = tuple(_value(v) * scale for v in (match[1], match[2]) if v)
        if _MONEY.search(text[max(0, match.start() - 2) : match.start()]) or \
                _MONEY.match(text[match.end() : match.end() + 4].strip()):  # fmt: skip
            unit = unit if unit in _UNIT_KIND else "$"
        out.append(Figure(match[0], values, unit, match.start()))
    for match in _CJK_FIGURE.finditer(text):
        value = _cjk_value(match[1])
        if value is not None and value != 1:
            out.append(Figure(match[0], (value,), match[2] or "", match.start()))
    return sorted(out, key=lambda f: f.start)


def _cjk_value(numeral: str) -> float | None:
    """二十 → 20, 十六 → 16, 一百二十 → 120, 两 → 2; None for what is no plain numeral."""
    total, digit = 0, None
    for char in numeral:
        if char in "零〇" and total:
            continue  # 一千零五: the zero only marks a gap
        if char in _CJK_VALUE:
            if digit is not None:
                return None  # 一二: digits in a row are no number
            digit = _CJK_VALUE[char]
        else:
            total += (1 if digit is None else digit) * _CJK_POWER[char]
            digit = None
    return float(total + (digit or 0))


def figure_supported(
    figure: Figure, claim: str, evidence: str, own_names: Iterable[str] = ()
) -> bool:
    """The evidence states `figure` (by value, any written form) in a clause that agrees with the
    claim's clause on unit kind, measured quantity and subject names."""
    own = tuple(n for n in own_names if n)
    claim_clause = _clause_at(claim, figure.start)
    wanted_measures = measured(claim, figure, own)
    names = _names(claim_clause, own) or _names(claim, own)
    names = [n for n in names if _key(n) in _key(evidence)]
    if _other_count_restated(claim, figure, evidence):
        return False  # "选择 8 个专家" where the clause it restates says 两个专家
    whole = _is_whole(claim, figure)
    for sentence in _SENTENCE.split(evidence):
        for clause, found in _occurrences(figure, sentence):
            if figure.kind and found.kind and figure.kind != found.kind:
                continue
            measures = measured(sentence, found, own)
            if wanted_measures and measures and not wanted_measures & measures:
                continue
            if _counts_differ(claim, figure, sentence, found):
                continue
            if _is_whole(sentence, found) and not whole:
                continue  # "32 benchmarks" where the source has 30 of 32
            if _comparator_is_subject(claim, figure, sentence, own):
                continue  # "X-2 is 2-4x faster than X" where 2-4x is X's own speed-up
            if _names_bound(names, clause, sentence, found, own):
                return True
    return False


def figures_together(claim: str, evidence: str) -> bool:
    """Figures stated together in one clause of the claim appear together, as many times, in one
    sentence of the evidence: "30 of 32 benchmarks" does not support "32 of 32"."""
    sentences = [[v for f in figures(s) for v in f.values] for s in _SENTENCE.split(evidence)]
    for clause in _CLAUSE.split(claim):
        wanted = [v for f in figures(clause or "") for v in f.values]
        if len(wanted) < 2:
            continue
        if not any(_covers(have, wanted) for have in sentences):
            return False
    return True


def _covers(have: list[float], wanted: list[float]) -> bool:
    pool = list(have)
    for value in wanted:
        match = next((i for i, v in enumerate(pool) if _close(v, value)), None)
        if match is None:
            return False
        pool.pop(match)
    return True


def _occurrences(figure: Figure, sentence: str) -> list[tuple[str, Figure]]:
    """(clause, figure) for each figure of `sentence` whose values include all of `figure`'s."""
    out = []
    for found in figures(sentence):
        if all(any(_close(v, w) for w in found.values) for v in figure.values):
            out.append((_clause_at(sentence, found.start), found))
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
        keys = {_key(x) for x in listed}
        return all(_key(n) == _key(name) for n in names if _key(n) in keys)
    claimed = {_key(n) for n in names}
    return all(_key(n) in claimed for n in _names(clause, own))


def _respective_name(
    sentence: str, found: Figure, own: Sequence[str]
) -> tuple[list[str], str] | None:
    """For "A 和 B … 分别 x 和 y" / "x and y for A and B respectively": the names listed before
    the figures (in this clause or the one before) and the one paired with `found`."""
    cue = _RESPECTIVELY.search(sentence)
    if cue is None:
        return None
    numbers = [f for f in figures(sentence) if f.start >= _clause_start(sentence, cue.start())]
    starts = [f.start for f in numbers]
    if found.start not in starts or len(numbers) < 2:
        return None
    clause = _clause_start(sentence, cue.start())
    for begin in (clause, _clause_start(sentence, max(clause - 1, 0))):
        listed = _names(sentence[begin : numbers[0].start], own)
        if len(listed) == len(numbers):
            return listed, listed[starts.index(found.start)]
    return None


def _clause_start(text: str, position: int) -> int:
    start = 0
    for match in _CLAUSE.finditer(text):
        if match.end() > position:
            break
        start = match.end()
    return start


def _counts_differ(claim: str, figure: Figure, sentence: str, found: Figure) -> bool:
    """The claim counts named things ("8 layers") and the source's figure is another count
    ("8 个前馈块") or no count at all ("8x7B", "8%")."""
    wanted = set() if figure.unit else _counted(claim, figure)
    if not wanted:
        return False
    if found.unit:
        return True
    stated = _counted(sentence, found)
    return bool(stated and not wanted & stated)


def _comparator_is_subject(claim: str, figure: Figure, sentence: str, own: Sequence[str]) -> bool:
    """The claim compares against X ("faster than X", "比 X 快") but the source's sentence gives
    the figure to X itself (X is named there, never after a comparison word, and the paper's own
    names are not): the figure is X's, not a gain over X."""
    clause = _clause_at(claim, figure.start)
    compared = [m[1] for m in _COMPARED_NAME.finditer(clause) if not _is_own(m[1], own)]
    if not compared or any(_mentions(sentence, name) for name in own):
        return False
    for name in compared:
        spots = [m.start() for m in _name_pattern(name).finditer(sentence)]
        if spots and not any(_COMPARE_BEFORE.search(sentence[max(0, i - 12) : i]) for i in spots):
            return True
    return False


def _other_count_restated(claim: str, figure: Figure, evidence: str) -> bool:
    """A count ("8 个专家") where the source clause closest in wording to the claim's clause
    counts the same things with another figure ("路由器网络选择两个专家"), while the clauses
    stating this figure ("每层由 8 个前馈块(即专家)组成") share less of its wording."""
    counted = set() if figure.unit else _counted(claim, figure)
    if not counted:
        return False
    words = _wording(_clause_at(claim, figure.start), figure)
    same, other = 0, 0
    for sentence in _SENTENCE.split(evidence):
        for found in figures(sentence):
            if found.unit or not counted & _counted(sentence, found):
                continue
            shared = len(words & _wording(_clause_at(sentence, found.start), found))
            if any(_close(v, w) for v in figure.values for w in found.values):
                same = max(same, shared)
            else:
                other = max(other, shared)
    return other >= _RESTATED_MIN and other > same


def _wording(clause: str, figure: Figure) -> set[str]:
    """Character pairs of a clause's Chinese text and its lower-cased Latin words, the figure
    and what it counts left out: what two clauses share when one restates the other."""
    text = clause.replace(figure.text, " ")
    runs = re.findall(r"[\u4e00-\u9fff]+", text)
    pairs = {run[i : i + 2] for run in runs for i in range(len(run) - 1)}
    return pairs | {w.casefold() for w in re.findall(r"[A-Za-z]{3,}", text)}


def _is_own(name: str, own: Sequence[str]) -> bool:
    return any(_key(name) == _key(o) for o in own)


def _mentions(sentence: str, name: str) -> bool:
    return bool(name) and _name_pattern(name).search(sentence) is not None


def _name_pattern(name: str) -> re.Pattern[str]:
    """`name` as a whole name: "FlashAttention" does not match inside "FlashAttention-2"."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9]|-\w)", re.IGNORECASE)


def _is_whole(text: str, figure: Figure) -> bool:
    """`figure` (at its `start` in `text`) is the whole a part is counted out of: "32" in "30 of
    the 32 benchmarks" or "32 个基准中的 30 个". Stated alone it would claim all of them."""
    return bool(
        _WHOLE_AFTER.match(text, figure.start + len(figure.text))
        or _WHOLE_BEFORE.search(text[max(0, figure.start - 24) : figure.start])
    )


def _counted(text: str, figure: Figure) -> set[str]:
    """What the count `figure` (found at its `start` in `text`) counts, as `_COUNTED` names."""
    match = _COUNTED_NOUN.match(text, figure.start + len(figure.text))
    if match is None:
        return set()
    return {name for name, pattern in _COUNTED.items() if pattern.match(match[1])}


def _clause_at(text: str, position: int) -> str:
    start = 0
    for match in _CLAUSE.finditer(text):
        if match.start() >= position:
            return text[start : match.start()]
        start = match.end()
    return text[start:]


def asked_measures(question: str) -> set[str]:
    """The quantities a question names (speed, parameters, tokens …), by the same cue words;
    "how long" / 多长 asks a length in tokens or a time ("在多长的输入上" → "100k 字元的输入")."""
    found = _measures(question)
    if _HOW_LONG.search(question):
        found |= {"tokens", "time"}
    return found


def measured(text: str, figure: Figure, own: Sequence[str] = ()) -> set[str]:
    """What `figure` (at its `start` in `text`) measures. A size written next to a model's name
    ("Python 7B", "70B 的 Code Llama", "7B、13B 和 70B 的 Code Llama") is its parameter count,
    whatever else the clause says; otherwise the cue words of its clause, and in a list of
    figures ("7B, 13B and 70B tokens") those of the clause where the list ends."""
    last = _list_end(text, figure)
    if figure.unit.casefold() in _MODEL_SIZE and (
        _MODEL_AFTER.match(text, last.start + len(last.text))
        or _name_before(text[: figure.start], own)
    ):
        return {"parameters"}
    found = _measures(_clause_at(text, figure.start))
    if not found and last is not figure:
        found = _measures(_clause_at(text, last.start))
    return found


def _list_end(text: str, figure: Figure) -> Figure:
    """The last figure of the list `figure` opens ("7B, 13B, 34B and 70B"), or `figure`."""
    following = [f for f in figures(text) if f.start > figure.start]
    last = figure
    for candidate in following:
        between = text[last.start + len(last.text) : candidate.start]
        if not _LIST_JOIN.fullmatch(between):
            break
        last = candidate
    return last


def _name_before(text: str, own: Sequence[str]) -> bool:
    """`text` ends with a model's name, maybe with its version ("Code Llama – Python ",
    "Llama 2 "), the paper's own names included."""
    tail = _NAME_TAIL.search(text)
    if tail is None:
        return False
    head = text[: tail.end()].rstrip().casefold()
    if any(head.endswith(name.casefold()) for name in own):
        return True
    names = _names(text[: tail.end("word")])
    return bool(names) and names[-1] == tail["word"]


def _measures(text: str) -> set[str]:
    return {name for name, pattern in _MEASURES.items() if pattern.search(text)}


def _names(text: str, own: Sequence[str] = ()) -> list[str]:
    """Latin names with a capital inside, a digit, or a leading capital (not the first word),
    leaving out the paper's own names (even several words long: "Code Llama")."""
    for name in sorted(own, key=len, reverse=True):
        parts = [re.escape(part) for part in re.split(r"[\s\-_]+", name) if part]
        if parts:  # whole names only: blanking "Medusa" must leave "Medusa-2" alone
            pattern = r"(?<![A-Za-z0-9\-])" + r"[\s\-_]*".join(parts) + r"(?![A-Za-z0-9]|-\w)"
            text = re.sub(pattern, lambda m: " " * len(m[0]), text, flags=re.IGNORECASE)
    out = []
    for match in _NAME.finditer(text):
        word = match[0]
        marked = any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word)
        if marked or (word[0].isupper() and text[: match.start()].strip()):
            out.append(word)
    return out


def _key(text: str) -> str:
    return re.sub(r"[\s\-_.–]", "", fold(text))


def _value(text: str) -> float:
    return float(text.replace(",", ""))


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))
