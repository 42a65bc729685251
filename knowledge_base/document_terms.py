"""The documents' own terms for the words customers use (document_terms.yml).

The bank's documents are written in the bank's register (他行, 异地, 境外, 预借现金) and customers ask
in theirs (别的银行, 外地, 国外, 信用卡取钱) or in English. BM25 cannot bridge the two, and the encoder
bridges them only partly, so a question is also searched with the documents' terms for the words it
contains. The table is reviewed text in the repository, like the FAQ entries.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge_base.config import DEFAULT_DOCUMENT_TERMS

MIN_VARIANT_CHARS = 2


class TermsError(ValueError):
    """document_terms.yml is malformed: says which entry and how to fix it."""


@dataclass(frozen=True)
class DocumentTerms:
    pairs: tuple[tuple[re.Pattern[str], str], ...] = ()

    @classmethod
    def load(cls, path: Path = DEFAULT_DOCUMENT_TERMS) -> "DocumentTerms":
        if not Path(path).is_file():
            return cls()
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise TermsError(f"{path}: expected a mapping of document term -> list of customer words")
        pairs = []
        for term, variants in raw.items():
            if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                raise TermsError(f"{path}: {term!r} needs a list of customer words, e.g. {term}: [word, other word]")
            for variant in variants:
                if len(variant.strip()) < MIN_VARIANT_CHARS:
                    raise TermsError(f"{path}: {term!r}: customer word {variant!r} is shorter than "
                                     f"{MIN_VARIANT_CHARS} characters and would match too much")
                pairs.append((_pattern(variant.strip().lower()), str(term)))
        return cls(tuple(pairs))

    def terms_for(self, query: str) -> list[str]:
        """The documents' terms for the customer words in ``query`` that it does not already use."""
        text = query.lower()
        found: list[str] = []
        for pattern, term in self.pairs:
            if term not in found and term not in text and pattern.search(text):
                found.append(term)
        return found

    def expand(self, query: str) -> str:
        """``query`` followed by the documents' terms for its words (itself when there are none)."""
        terms = self.terms_for(query)
        return f"{query} {' '.join(terms)}" if terms else query


def _pattern(variant: str) -> re.Pattern[str]:
    """Latin words match whole words ("fee" not in "coffee"); Chinese words anywhere."""
    escaped = re.escape(variant)
    return re.compile(rf"(?<![a-z]){escaped}(?![a-z])" if re.search(r"[a-z]", variant) else escaped)
