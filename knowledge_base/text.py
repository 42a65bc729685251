"""Normalisation of customer text before retrieval and lexical tokenisation.

Customers write traditional characters, full-width forms, emoji and stray
control characters; the index holds simplified, half-width text. Both sides
go through ``normalize`` so they meet in the same form.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_QUERY_CHARS = 512
_SPACES = re.compile(r"\s+")
# Emoji that carry banking meaning become words; other pictographs are dropped.
_EMOJI_WORDS = {"💳": "卡", "💰": "钱", "💵": "钱", "💴": "钱", "🏦": "银行", "📱": "手机",
                "🔒": "锁", "🔑": "密码", "🏠": "房", "💸": "转账"}
# Variant characters OpenCC leaves alone but the index spells one way.
_VARIANTS = str.maketrans({"帐": "账"})


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def _keep(ch: str) -> str:
    if ch in _EMOJI_WORDS:
        return _EMOJI_WORDS[ch]
    category = unicodedata.category(ch)
    if category[0] == "C" or category == "So" or ch in "\u200d\ufe0f":
        return " "
    return ch


def clean_query(text: object) -> str:
    """Printable, single-spaced, bounded text; '' when nothing meaningful is left."""
    if not isinstance(text, str):
        return ""
    return _SPACES.sub(" ", "".join(map(_keep, text))).strip()[:MAX_QUERY_CHARS]


def normalize(text: object) -> str:
    """clean_query + full-width→half-width and traditional→simplified characters."""
    cleaned = clean_query(unicodedata.normalize("NFKC", text) if isinstance(text, str) else text)
    if not cleaned:
        return ""
    return _t2s().convert(cleaned).translate(_VARIANTS)
