"""BM25 over jieba tokens (with the banking user dictionary), via bm25s."""
from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge_base.config import DEFAULT_USER_DICT
from knowledge_base.text import normalize

USER_DICT = DEFAULT_USER_DICT
# Particles and fillers that say nothing about the topic of a question.
STOPWORDS = frozenset("的 了 吗 呢 啊 吧 呀 嘛 哦 么 是 我 你 您 他 她 它 们 要 想 请问 请 一下 下 "
                      "这个 那个 怎么 怎么办 怎样 如何 什么 啥 咋 能 可以 会 有 在 和 跟 与 就 都 "
                      "还 也 又 a an the is are do does i my you your to of for and or in on "
                      "what how can".split())
_jieba_lock = threading.Lock()


@lru_cache(maxsize=4)
def _jieba(user_dict: Path):
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    if user_dict.is_file():
        tokenizer.load_userdict(str(user_dict))
    tokenizer.initialize()
    return tokenizer


def tokenize(text: str, user_dict: Path = USER_DICT) -> list[str]:
    """Search-mode jieba tokens of the normalised text, without punctuation and stopwords.

    ``user_dict`` is a KBConfig's ``user_dict`` (banking words jieba must keep whole).
    """
    normalized = normalize(text).lower()
    if not normalized:
        return []
    with _jieba_lock:  # jieba's tokenizer object is not safe for concurrent use
        words = _jieba(Path(user_dict)).lcut_for_search(normalized)
    return [w for w in (w.strip() for w in words) if w and w not in STOPWORDS and any(c.isalnum() for c in w)]


class LexicalIndex:
    """BM25 scores of one query against every indexed phrasing."""

    def __init__(self, texts: Sequence[str], user_dict: Path = USER_DICT) -> None:
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)

        self.size = len(texts)
        self.user_dict = user_dict
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        corpus = [tokenize(t, user_dict) or ["<empty>"] for t in texts]
        self._bm25.index(corpus, show_progress=False)

    def scores(self, text: str) -> np.ndarray:
        tokens = [t for t in tokenize(text, self.user_dict) if t in self._bm25.vocab_dict]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
