"""Knowledge changes as data: what an editor may propose, and the content once approved ones apply.

Pure functions over ``Content``: the review store (store.py) keeps the changes, publish.py builds the
index from ``apply_changes(base content, approved changes)``. Four kinds:

  * ``add_paraphrases``  {"entry_id", "paraphrases": [...]}   more ways customers ask an entry
  * ``edit_answer``      {"entry_id", "answer", "answer_en"?}  a new answer text for an entry
  * ``new_entry``        {"category", "question", "answer", "answer_en", "paraphrases"?, "slug"?}
  * ``document``         {"doc", "sha256", "passages": [...]}  a document uploaded in the console, as
                         parsed by the server (knowledge_base/ingest); it adds or replaces that file name.
                         The passages stay in the change, so every version answered from stays auditable.

A change is checked against the content it will apply to (the entry exists, the result is a valid
entry), so an approval can never publish content the loader would refuse.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

from knowledge_base.content import CATEGORIES, Content, ContentError, FaqEntry, parse_entry

KINDS = ("add_paraphrases", "edit_answer", "new_entry", "document")
DOCUMENT_PREFIX = "doc:"
MAX_PASSAGES = 5000
MAX_PARAPHRASES = 50
MAX_QUESTION_CHARS = 200
MAX_ANSWER_CHARS = 2000
_SLUG = re.compile(r"^[a-z0-9_]{1,48}$")


class ChangeError(ValueError):
    """A change that cannot apply; the message says which field to fix."""


@dataclass(frozen=True)
class Change:
    id: int
    kind: str
    entry_id: str
    payload: Mapping[str, Any]
    day: str | None = None  # the approval's date: the entry's "updated" (fixed, so rebuilds hash the same)


def _text(payload: Mapping[str, Any], name: str, limit: int, required: bool = True) -> str | None:
    value = payload.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ChangeError(f'"{name}" is required')
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ChangeError(f'"{name}" must be text of at most {limit} characters')
    return value.strip()


def _paraphrases(payload: Mapping[str, Any], required: bool) -> list[str]:
    value = payload.get("paraphrases") or []
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ChangeError('"paraphrases" must be a list of texts')
    texts = list(dict.fromkeys(p.strip() for p in value if p.strip()))
    if required and not texts:
        raise ChangeError('"paraphrases" needs at least one text')
    if len(texts) > MAX_PARAPHRASES or any(len(p) > MAX_QUESTION_CHARS for p in texts):
        raise ChangeError(f'"paraphrases": at most {MAX_PARAPHRASES} texts of at most {MAX_QUESTION_CHARS} characters')
    return texts


def normalise(kind: str, payload: Mapping[str, Any], content: Content, change_id: int | None = None) -> tuple[str, dict]:
    """(entry id, cleaned payload) of a proposed change, or ChangeError saying what to fix."""
    if kind not in KINDS:
        raise ChangeError(f'"kind" must be one of {", ".join(KINDS)}')
    if not isinstance(payload, Mapping):
        raise ChangeError("the change must be a JSON object")
    if kind == "new_entry":
        return _new_entry(payload, content, change_id)
    if kind == "document":
        return _document(payload)
    entry_id = _text(payload, "entry_id", 128)
    if entry_id not in content.by_id():
        raise ChangeError(f"no knowledge entry {entry_id!r}")
    if kind == "add_paraphrases":
        return entry_id, {"entry_id": entry_id, "paraphrases": _paraphrases(payload, required=True)}
    cleaned = {"entry_id": entry_id, "answer": _text(payload, "answer", MAX_ANSWER_CHARS)}
    answer_en = _text(payload, "answer_en", MAX_ANSWER_CHARS, required=False)
    if answer_en:
        cleaned["answer_en"] = answer_en
    return entry_id, cleaned


def _new_entry(payload: Mapping[str, Any], content: Content, change_id: int | None) -> tuple[str, dict]:
    category = _text(payload, "category", 32)
    if category not in CATEGORIES:
        raise ChangeError(f'"category" must be one of {", ".join(CATEGORIES)}')
    slug = _text(payload, "slug", 48, required=False) or (f"added_{change_id}" if change_id else "draft")
    if not _SLUG.match(slug):
        raise ChangeError('"slug" must be 1-48 lowercase letters, digits or _')
    entry_id = f"{category}.{slug}"
    if entry_id in content.by_id():
        raise ChangeError(f"an entry {entry_id!r} exists already; choose another slug")
    cleaned = {"category": category, "slug": slug,
               "question": _text(payload, "question", MAX_QUESTION_CHARS),
               "answer": _text(payload, "answer", MAX_ANSWER_CHARS),
               "answer_en": _text(payload, "answer_en", MAX_ANSWER_CHARS),
               "paraphrases": _paraphrases(payload, required=False)}
    return entry_id, cleaned


def _document(payload: Mapping[str, Any]) -> tuple[str, dict]:
    name = _text(payload, "doc", 200)
    if "/" in name or "\\" in name or name.startswith("."):
        raise ChangeError('"doc" must be a plain file name')
    sha256 = _text(payload, "sha256", 64)
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ChangeError('"sha256" must be the file\'s SHA-256 in hex')
    passages = payload.get("passages")
    if not isinstance(passages, list) or not 0 < len(passages) <= MAX_PASSAGES:
        raise ChangeError(f'"passages" must be a list of 1-{MAX_PASSAGES} passages')
    for passage in passages:
        if (not isinstance(passage, Mapping) or passage.get("doc") != name
                or not all(isinstance(passage.get(k), str) and passage[k] for k in ("title", "section", "text"))
                or not isinstance(passage.get("units"), list)):
            raise ChangeError(f'each passage needs doc "{name}", title, section, text and units')
    return DOCUMENT_PREFIX + name, {"doc": name, "sha256": sha256, "passages": [dict(p) for p in passages]}


def changed_entry(change: Change, content: Content) -> FaqEntry:
    """The entry as it reads once ``change`` applies to ``content``."""
    day = change.day or dt.date.today().isoformat()
    payload = change.payload
    if change.kind == "new_entry":
        raw = {"id": change.entry_id, "category": payload["category"], "question": payload["question"],
               "answer": payload["answer"], "answer_en": payload["answer_en"],
               "paraphrases": list(payload.get("paraphrases") or []), "updated": day}
        try:
            return parse_entry(raw, f"change {change.id}")
        except ContentError as exc:
            raise ChangeError(str(exc)) from None
    entry = content.by_id().get(change.entry_id)
    if entry is None:
        raise ChangeError(f"change {change.id}: no knowledge entry {change.entry_id!r}")
    if change.kind == "add_paraphrases":
        merged = tuple(dict.fromkeys([*entry.paraphrases, *payload["paraphrases"]]))
        return replace(entry, paraphrases=merged, updated=day)
    return replace(entry, answer=payload["answer"], answer_en=payload.get("answer_en") or entry.answer_en, updated=day)


def apply_changes(content: Content, changes: Iterable[Change]) -> Content:
    """The content with ``changes`` applied in order (each sees the ones before it)."""
    entries = {e.id: e for e in content.entries}
    documents = {d["doc"]: d for d in content.documents}
    for change in changes:
        if change.kind == "document":
            documents[change.payload["doc"]] = dict(change.payload)
            continue
        current = Content(list(entries.values()))
        if change.kind == "new_entry" and change.entry_id in entries:
            raise ChangeError(f"change {change.id}: an entry {change.entry_id!r} exists already")
        entries[change.entry_id] = changed_entry(change, current)
    return Content(list(entries.values()), [documents[name] for name in sorted(documents)])


def diff(before: FaqEntry | None, after: FaqEntry) -> list[dict[str, Any]]:
    """Field by field what a change does to an entry (for reviewers and the audit trail)."""
    old = before.as_dict() if before else {}
    new = after.as_dict()
    return [{"field": name, "before": old.get(name), "after": value}
            for name, value in new.items() if name != "updated" and old.get(name) != value]


def change_diff(change: Change, content: Content) -> Any:
    """What a change does to the live knowledge: fields of an entry, or sections of a document."""
    if change.kind != "document":
        return diff(content.by_id().get(change.entry_id), changed_entry(change, content))
    old = next((d for d in content.documents if d["doc"] == change.payload["doc"]), None)
    before = _sections(old["passages"]) if old else {}
    after = _sections(change.payload["passages"])
    return {"doc": change.payload["doc"], "replaces": old["sha256"] if old else None,
            "sections_added": [s for s in after if s not in before],
            "sections_removed": [s for s in before if s not in after],
            "sections_changed": [s for s in after if s in before and after[s] != before[s]]}


def _sections(passages: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for passage in passages:
        found[passage["section"]] = found.get(passage["section"], "") + passage["text"]
    return found
