"""The one answer to "what language is this text written in?" (by script, no model).

Chinese is written in Han characters only; Japanese mixes Han (kanji) with kana, Korean uses
Hangul. So text with kana is Japanese and text with Hangul is Korean even when it also holds Han
characters: "日本語の論文" is not Chinese. Everything else without Han characters counts as English
(the corpus and the prompts are Chinese and English).

Example:
    >>> detect_language("谷歌发表了哪些论文?"), detect_language("グーグルの論文は?")
    ('zh', 'ja')
    >>> is_chinese("What did 谷歌 publish?"), is_chinese("What did Google publish?")
    (True, False)
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "HAN_CLASS",
    "Language",
    "detect_language",
    "han_count",
    "has_han",
    "is_chinese",
    "pinyin_name",
]

# CJK unified ideographs, extension A and compatibility ideographs: the characters of Chinese
# words (and of Japanese kanji), as used in regular-expression classes.
HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN = re.compile(f"[{HAN_CLASS}]")
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_ALL_HAN = re.compile(f"[{HAN_CLASS}]{{2,8}}")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")

Language = Literal["zh", "ja", "ko", "en"]


def detect_language(text: str) -> Language:
    """`ja` with any kana, `ko` with any Hangul, else `zh` with any Han character, else `en`."""
    if _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    return "zh" if _HAN.search(text) else "en"


def is_chinese(text: str) -> bool:
    """True when `text` is written (at least partly) in Chinese, not Japanese or Korean."""
    return detect_language(text) == "zh"


def has_han(text: str) -> bool:
    """True when `text` holds a Han character (a Chinese word, or Japanese kanji)."""
    return _HAN.search(text) is not None


def han_count(text: str) -> int:
    """How many Han characters `text` holds (for "mostly Chinese" ratios)."""
    return len(_HAN.findall(text))


def pinyin_name(name: str) -> str | None:
    """The name an English sentence gives a Chinese name of 2 to 8 Han characters: its pinyin
    run together, capitalised, without tones ("青梧" → "Qingwu"), as papers and readers write
    Chinese system names in English; None for any other name. Polyphonic characters get their
    most common reading (pypinyin's phrase dictionary picks the reading in context)."""
    if not _ALL_HAN.fullmatch(name):
        return None
    from pypinyin import lazy_pinyin  # a 6 MB dictionary: loaded only for Chinese names

    return "".join(lazy_pinyin(name)).capitalize()
