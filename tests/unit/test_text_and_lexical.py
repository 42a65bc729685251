import numpy as np
import pytest

from knowledge_base.lexical import LexicalIndex, tokenize
from knowledge_base.text import MAX_QUERY_CHARS, clean_query, normalize


@pytest.mark.parametrize("raw, expected", [
    ("銀行卡掛失要帶什麼證件", "银行卡挂失要带什么证件"),
    ("ＡＴＭ取款１２３", "ATM取款123"),
    ("我的帳戶", "我的账户"),
    ("💳丢了😭", "卡丢了"),
    ("a\x00b\u200bc\n\n d", "a b c d"),
])
def test_normalize_meets_the_index_spelling(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw", [None, 42, "", "   ", "😀😀", "\x07\x1b"])
def test_meaningless_input_normalises_to_empty(raw):
    assert normalize(raw) == ""


def test_long_input_is_bounded():
    assert len(clean_query("转" * 10_000)) == MAX_QUERY_CHARS


def test_tokens_use_the_banking_dictionary_and_drop_fillers():
    tokens = tokenize("请问我的信用卡免息期是多久呢？")
    assert "信用卡" in tokens and "免息期" in tokens
    assert not {"请问", "我", "的", "呢", "?", "？"} & set(tokens)


def test_bm25_prefers_the_matching_phrasing():
    index = LexicalIndex(["银行卡挂失怎么办理", "跨行转账多久到账", "信用卡免息期多长"])
    scores = index.scores("卡丢了要挂失")
    assert int(np.argmax(scores)) == 0 and scores[1] == scores[2] == 0
    assert not index.scores("完全无关的词汇xyz").any()
