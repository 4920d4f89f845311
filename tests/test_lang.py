"""One language detector: Japanese (kana) and Korean (Hangul) are not Chinese."""

from __future__ import annotations

import pytest

from kg.lang import detect_language, han_count, has_han, is_chinese, pinyin_name
from rag.retrieval.bm25 import tokenize


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("谷歌发表了哪些论文?", "zh"),
        ("What is Code Llama based on?", "en"),
        ("LLaMA 的后继是什么", "zh"),
        ("これは日本語の質問です", "ja"),
        ("日本語の論文を探しています", "ja"),  # kanji and kana: Japanese, not Chinese
        ("グーグルの論文", "ja"),
        ("ｸﾞｰｸﾞﾙ", "ja"),  # half-width katakana
        ("구글이 발표한 논문", "ko"),
        ("", "en"),
    ],
)
def test_the_script_decides_the_language(text: str, language: str) -> None:
    assert detect_language(text) == language
    assert is_chinese(text) == (language == "zh")


def test_han_characters_are_counted_in_every_block() -> None:
    assert has_han("㐀") and has_han("豈") and not has_han("かな")
    assert han_count("中文 text 和") == 3


def test_bm25_cuts_han_runs_and_leaves_kana_out() -> None:
    assert "量化" in tokenize("模型量化") and tokenize("これは") == []


@pytest.mark.parametrize(("name", "english"), [("青梧", "Qingwu"), ("长颈鹿", "Changjinglu")])
def test_a_chinese_name_has_its_pinyin_run_together(name: str, english: str) -> None:
    assert pinyin_name(name) == english


@pytest.mark.parametrize(
    "name", ["青", "Quillwort", "青梧 Model", "面向低资源方言的语音识别预训练"]
)
def test_only_a_short_all_han_name_gets_a_pinyin_name(name: str) -> None:
    assert pinyin_name(name) is None
