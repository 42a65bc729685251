"""Programmatic noise of the kinds real customers type, applied to our own messages.

Every kind is a deterministic function of (text, seed), so a robustness
measure can be repeated exactly:

* typo: a dropped, doubled or swapped character;
* homophone: a Chinese character replaced by another with the same pinyin
  (pypinyin; the candidates come from the characters of the text pool itself);
* traditional: simplified → traditional characters (OpenCC);
* abbreviation: a two- or three-character word written as its pinyin initials
  ("银行卡" → "yhk"), as customers do on phones;
* emoji: an emoji inserted;
* rambling: the message wrapped in the context a long-winded customer adds;
* no_punctuation: punctuation and spaces removed (a space between two Latin words stays);
* code_mixing: a common banking word replaced by its English.
"""
from __future__ import annotations

import random
import re
from collections import defaultdict
from functools import lru_cache
from typing import Callable, Iterable

_HAN = re.compile(r"[\u4e00-\u9fff]")
_PUNCT = re.compile(r"[\s，。？！、；：,.?!;:~…]+")
_LATIN = re.compile(r"[A-Za-z0-9]{2}")
_EMOJI = ("😊", "🙏", "😭", "👍", "🤔", "💳", "😡", "❓")
_OPENERS = ("你好，打扰一下，我有个事情想问问，", "是这样的，我平时不太用手机银行，今天有点急，",
            "hello，我朋友跟我说可以在这里问，", "不好意思啊，我年纪大了搞不太懂这些，",
            "刚才排队排了半天也没人理我，")
_CLOSERS = ("，麻烦你们尽快告诉我一下，谢谢啦", "，我在等着呢", "，先谢谢了哈", "，这个挺着急的", "，拜托了")
_ENGLISH = {"信用卡": "credit card", "银行卡": "card", "转账": "transfer", "余额": "balance", "密码": "password",
            "挂失": "挂失 lost card", "汇率": "rate", "贷款": "loan", "理财": "wealth", "网点": "branch",
            "手续费": "fee", "账单": "bill", "还款": "repay", "预约": "booking", "利息": "interest"}


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(len(text) - 1)
    kind = rng.choice(("drop", "double", "swap"))
    if kind == "drop":
        return text[:i] + text[i + 1:]
    if kind == "double":
        return text[:i + 1] + text[i] + text[i + 1:]
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


@lru_cache(maxsize=None)
def _pinyin(char: str) -> str:
    from pypinyin import Style, pinyin

    return pinyin(char, style=Style.NORMAL, heteronym=False)[0][0]


class Homophones:
    """Characters sharing a pinyin, learned from a pool of texts."""

    def __init__(self, pool: Iterable[str]) -> None:
        by_sound: dict[str, set[str]] = defaultdict(set)
        for text in pool:
            for char in _HAN.findall(text):
                by_sound[_pinyin(char)].add(char)
        self.by_sound = {k: sorted(v) for k, v in by_sound.items() if len(v) > 1}

    def __call__(self, text: str, rng: random.Random) -> str:
        positions = [i for i, c in enumerate(text) if _HAN.match(c) and _pinyin(c) in self.by_sound]
        if not positions:
            return text
        i = rng.choice(positions)
        others = [c for c in self.by_sound[_pinyin(text[i])] if c != text[i]]
        return text[:i] + rng.choice(others) + text[i + 1:]


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("s2t")


def traditional(text: str, rng: random.Random) -> str:
    return _converter().convert(text)


def abbreviation(text: str, rng: random.Random) -> str:
    import jieba
    from pypinyin import Style, lazy_pinyin

    words = [w for w in jieba.lcut(text) if 2 <= len(w) <= 3 and all(_HAN.match(c) for c in w)]
    if not words:
        return text
    word = rng.choice(words)
    return text.replace(word, "".join(lazy_pinyin(word, style=Style.FIRST_LETTER)), 1)


def emoji(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(_EMOJI) + text[i:]


def rambling(text: str, rng: random.Random) -> str:
    return rng.choice(_OPENERS) + text.rstrip("？?。！!") + rng.choice(_CLOSERS)


def no_punctuation(text: str, rng: random.Random) -> str:
    """Punctuation and spaces go; a space between two Latin words stays (nobody types English glued)."""
    def gap(match: re.Match) -> str:
        before, after = text[match.start() - 1:match.start()], text[match.end():match.end() + 1]
        return " " if _LATIN.fullmatch(before + after) else ""

    return _PUNCT.sub(gap, text).strip() or text


def code_mixing(text: str, rng: random.Random) -> str:
    found = [w for w in _ENGLISH if w in text]
    if not found:
        return text
    word = rng.choice(found)
    return text.replace(word, f" {_ENGLISH[word]} ", 1).strip()


def noise_kinds(pool: Iterable[str]) -> dict[str, Callable[[str, random.Random], str]]:
    return {"typo": typo, "homophone": Homophones(pool), "traditional": traditional, "abbreviation": abbreviation,
            "emoji": emoji, "rambling": rambling, "no_punctuation": no_punctuation, "code_mixing": code_mixing}


def noisy(texts: list[str], kind: Callable[[str, random.Random], str], seed: int = 7) -> list[str]:
    """Each text with one noise of ``kind``; the random stream depends only on the seed and the position."""
    return [kind(text, random.Random(f"{seed}:{i}")) for i, text in enumerate(texts)]


def variants(texts: list[str], seed: int = 7) -> dict[str, list[str]]:
    """The texts clean and with each noise kind, by kind name."""
    return {"clean": texts, **{name: noisy(texts, kind, seed) for name, kind in noise_kinds(texts).items()}}
