"""``python -m knowledge_base ingest PATH... [--watch]``: documents in, index published.

From the command line a document goes live directly, as a YAML entry does after `import` + `build`:
the file lands in the documents folder, whose changes the repository's review sees. Unreadable files
are reported with the reason and skipped; the others are still published. Exit status 1 when any
file could not be read.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from knowledge_base.config import KBConfig
from knowledge_base.ingest.library import IngestReport, expand, file_sha256, ingest_files


def ingest_command(paths: list[Path], config: KBConfig, watch: bool = False, interval_s: float = 5.0) -> int:
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 1
    ok = _ingest_and_publish(paths, config)
    if not watch:
        return 0 if ok else 1
    print(f"watching {', '.join(map(str, paths))} every {interval_s:g} s (Ctrl-C to stop)")
    seen = _fingerprint(paths)
    try:
        while True:
            time.sleep(interval_s)
            now = _fingerprint(paths)
            if now != seen:
                seen = now
                _ingest_and_publish(paths, config)
    except KeyboardInterrupt:
        return 0


def _ingest_and_publish(paths: list[Path], config: KBConfig) -> bool:
    from knowledge_base.index import build_index
    from knowledge_base.review.publish import knowledge_content, review_for_build

    report = ingest_files(paths, Path(config.documents_dir), progress=sys.stderr.isatty())
    _print_report(report, config)
    started = time.perf_counter()
    content = knowledge_content(config, review_for_build(config))
    version = build_index(content, config)
    print(f"index {version.name} live: {len(content.documents)} documents, {len(content.passages)} passages "
          f"({time.perf_counter() - started:.1f} s)")
    return not report.errors


def _print_report(report: IngestReport, config: KBConfig) -> None:
    for kind, rows in (("added", report.added), ("updated", report.updated)):
        for row in rows:
            print(f"{kind}: {row['doc']} - {row['passages']} passages in {row['sections']} sections "
                  f"({row['seconds']} s) -> {config.documents_dir}")
    for name in report.unchanged:
        print(f"unchanged: {name}")
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)


def _fingerprint(paths: list[Path]) -> dict[str, str]:
    found = {}
    for path in expand(paths):
        try:
            found[str(path)] = file_sha256(path)
        except OSError:
            continue
    return found
