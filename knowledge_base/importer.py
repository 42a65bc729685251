"""Import FAQ entries from CSV or JSONL into the per-category content files.

Every row is validated first (fields, category, id format, dates, duplicates
within the file and against existing content); only when all rows are valid
are the affected category files rewritten, each through a temp file + rename.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import yaml

from knowledge_base.content import ContentError, FaqEntry, load_content, load_file, parse_entry

CSV_COLUMNS = ("id", "category", "question", "answer", "answer_en", "paraphrases", "question_en",
               "updated", "review_by")
PARAPHRASE_SEPARATOR = "|"


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, raw row) pairs from a .csv or .jsonl file."""
    if not path.is_file():
        raise ContentError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _jsonl_rows(path)
    if suffix == ".csv":
        return _csv_rows(path)
    raise ContentError(f"{path}: unsupported file type {suffix!r}; use .csv or .jsonl")


def _jsonl_rows(path: Path) -> list[tuple[int, dict]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ContentError(f"{path}:{number}: malformed JSON ({exc.msg})") from None
    return rows


def _csv_rows(path: Path) -> list[tuple[int, dict]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("id", "category", "question", "answer") if c not in (reader.fieldnames or [])]
        if missing:
            raise ContentError(f"{path}:1: header lacks column(s) {', '.join(missing)}; "
                               f"expected columns: {', '.join(CSV_COLUMNS)}")
        rows = []
        for row in reader:
            if None in row:
                raise ContentError(f"{path}:{reader.line_num}: more fields than header columns")
            paraphrases = row.get("paraphrases") or ""
            row["paraphrases"] = [p.strip() for p in paraphrases.split(PARAPHRASE_SEPARATOR) if p.strip()]
            rows.append((reader.line_num, {k: v for k, v in row.items() if v not in ("", None)}))
    return rows


def parse_rows(path: Path, existing: dict[str, FaqEntry]) -> list[FaqEntry]:
    entries, seen = [], {}
    for number, raw in read_rows(path):
        entry = parse_entry(raw, f"{path}:{number}")
        if entry.id in seen:
            raise ContentError(f"{path}:{number}: duplicate id {entry.id} (also on line {seen[entry.id]})")
        if entry.id in existing:
            raise ContentError(f"{path}:{number}: id {entry.id} already exists in the knowledge base")
        seen[entry.id] = number
        entries.append(entry)
    if not entries:
        raise ContentError(f"{path}: no entries found")
    return entries


def _entry_yaml(entry: FaqEntry) -> dict:
    data = {k: v for k, v in entry.as_dict().items() if v not in (None, [], ())}
    return data


def import_file(path: Path, content_dir: Path) -> list[FaqEntry]:
    """Validate ``path`` completely, then add its entries to the category files."""
    entries = parse_rows(path, load_content(content_dir).by_id() if any(content_dir.glob("*.yml")) else {})
    by_category: dict[str, list[FaqEntry]] = {}
    for entry in entries:
        by_category.setdefault(entry.category, []).append(entry)
    staged: list[tuple[Path, Path]] = []
    try:
        for category, new in by_category.items():
            target = content_dir / f"{category}.yml"
            current = load_file(target) if target.is_file() else []
            document = {"entries": [_entry_yaml(e) for e in current + new]}
            tmp = target.with_suffix(".yml.tmp")
            tmp.write_text(f"# 示例银行 FAQ — category {category}.\n"
                           + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000),
                           encoding="utf-8")
            staged.append((tmp, target))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    return entries
