"""Cleaning of customer text before it reaches the encoder."""
from __future__ import annotations

import re
import unicodedata

MAX_QUERY_CHARS = 512
_SPACES = re.compile(r"\s+")


def clean_query(text: object) -> str:
    """Printable, single-spaced, bounded text; '' when nothing meaningful is left."""
    if not isinstance(text, str):
        return ""
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return _SPACES.sub(" ", kept).strip()[:MAX_QUERY_CHARS]
