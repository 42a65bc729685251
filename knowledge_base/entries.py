"""Entry lookup by faq_id from the live index version, without loading the encoder.

The action server uses it to answer a clarification choice (a button whose
payload names the entry).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from knowledge_base.index import current_version_dir


@lru_cache(maxsize=4)
def _entries(version_dir: Path) -> dict[str, dict]:
    entries = json.loads((version_dir / "entries.json").read_text(encoding="utf-8"))
    return {e["id"]: e for e in entries}


def lookup_entry(faq_id: str, index_dir: Path) -> dict | None:
    """The entry with this id in the current version of the index in ``index_dir``, or None.

    A dict with the entry's fields (id, category, question, answer, answer_en, ...);
    ``answer_en`` is absent only from an index built before entries carried it.
    """
    return lookup_versioned_entry(faq_id, index_dir)[1]


def lookup_versioned_entry(faq_id: str, index_dir: Path) -> tuple[str, dict | None]:
    """(the current version's name, lookup_entry): an answer records the knowledge version it came from."""
    version_dir = current_version_dir(Path(index_dir))
    return version_dir.name, _entries(version_dir).get(faq_id)


def live_entries(index_dir: Path) -> list[dict]:
    """Every entry of the current index version (what customers are answered from right now)."""
    return list(_entries(current_version_dir(Path(index_dir))).values())
