"""FAQ content: one YAML file per category in ``knowledge_base/content/``.

Each entry: ``id`` (``<category>.<slug>``, the catalog's contract id), ``category``,
``question`` (canonical), ``answer`` (Chinese), ``answer_en`` (its English rendering, for
customers who write English), ``paraphrases`` (how customers ask), optional ``question_en``,
``updated`` and, for policy answers, ``review_by``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

# Mirrors the categories of shared/spec/faq_catalog.yml (a test keeps them in step).
CATEGORIES = (
    "account", "debit_card", "credit_card", "transfer", "mobile_banking", "loan",
    "deposit_wealth", "payment", "forex", "security", "branch_service", "fees_other",
)
_ID = re.compile(r"^([a-z_]+)\.[a-z0-9_]+$")


class ContentError(ValueError):
    """A content problem, always naming the file (and entry) at fault."""


@dataclass(frozen=True)
class FaqEntry:
    id: str
    category: str
    question: str
    answer: str
    answer_en: str
    paraphrases: tuple[str, ...] = ()
    question_en: str | None = None
    updated: str | None = None
    review_by: str | None = None

    def index_texts(self) -> list[str]:
        """Every phrasing that should retrieve this entry (multi-vector index)."""
        texts = [self.question, *self.paraphrases]
        if self.question_en:
            texts.append(self.question_en)
        return list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))

    def as_dict(self) -> dict:
        return {**asdict(self), "paraphrases": list(self.paraphrases)}


@dataclass
class Content:
    entries: list[FaqEntry] = field(default_factory=list)
    # The bank's documents, each {"doc": file name, "sha256": of the file, "passages": [passage dicts]}
    # (knowledge_base/ingest): cited after a confident FAQ answer, or alone when no entry is confident.
    documents: list[dict] = field(default_factory=list)

    def by_id(self) -> dict[str, FaqEntry]:
        return {e.id: e for e in self.entries}

    @property
    def passages(self) -> list[dict]:
        return [p for document in sorted(self.documents, key=lambda d: d["doc"]) for p in document["passages"]]

    def content_hash(self) -> str:
        entries = [e.as_dict() for e in sorted(self.entries, key=lambda e: e.id)]
        payload = json.dumps({"entries": entries, "passages": self.passages} if self.documents else entries,
                             ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _as_date_text(value: object, where: str, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ContentError(f"{where}: {name} must be a date YYYY-MM-DD, got {value!r}") from None


def parse_entry(raw: object, where: str) -> FaqEntry:
    if not isinstance(raw, dict):
        raise ContentError(f"{where}: an entry must be a mapping, got {type(raw).__name__}")
    missing = [k for k in ("id", "category", "question", "answer") if not str(raw.get(k) or "").strip()]
    if missing:
        raise ContentError(f"{where}: missing or empty field(s): {', '.join(missing)}")
    entry_id, category = str(raw["id"]).strip(), str(raw["category"]).strip()
    where = f"{where} ({entry_id})"
    match = _ID.match(entry_id)
    if not match:
        raise ContentError(f"{where}: id must look like <category>.<snake_slug>")
    if category not in CATEGORIES:
        raise ContentError(f"{where}: unknown category {category!r}; known: {', '.join(CATEGORIES)}")
    if match.group(1) != category:
        raise ContentError(f"{where}: id prefix {match.group(1)!r} does not match category {category!r}")
    paraphrases = raw.get("paraphrases") or []
    if not isinstance(paraphrases, list) or not all(isinstance(p, str) for p in paraphrases):
        raise ContentError(f"{where}: paraphrases must be a list of strings")
    updated = _as_date_text(raw.get("updated"), where, "updated")
    review_by = _as_date_text(raw.get("review_by"), where, "review_by")
    answer_en = str(raw.get("answer_en") or "").strip()
    if not answer_en:
        raise ContentError(f"{where}: missing or empty field(s): answer_en (the English answer)")
    return FaqEntry(
        id=entry_id, category=category, question=str(raw["question"]).strip(),
        answer=str(raw["answer"]).strip(), answer_en=answer_en,
        paraphrases=tuple(p.strip() for p in paraphrases if p.strip()),
        question_en=(str(raw["question_en"]).strip() or None) if raw.get("question_en") else None,
        updated=updated, review_by=review_by,
    )


def load_file(path: Path) -> list[FaqEntry]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise ContentError(f"{path}: expected a top-level 'entries:' list")
    return [parse_entry(raw, f"{path} entry {i + 1}") for i, raw in enumerate(doc["entries"])]


def load_content(content_dir: Path) -> Content:
    files = sorted(content_dir.glob("*.yml"))
    if not files:
        raise ContentError(f"{content_dir}: no *.yml content files found")
    content, seen = Content(), {}
    for path in files:
        for entry in load_file(path):
            if entry.id in seen:
                raise ContentError(f"{path}: duplicate id {entry.id} (first defined in {seen[entry.id]})")
            seen[entry.id] = path
            content.entries.append(entry)
    return content
