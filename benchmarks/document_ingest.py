"""What does ingesting the bank's documents cost? Time, passages and index size per document.

In a scratch index (the live encoder, a scratch documents folder and index folder), it first builds
the FAQ entries alone, as the index was before documents. Then it ingests the documents, as
`python -m knowledge_base ingest` does: each file is parsed and copied, and the index is rebuilt. Only
the passages are embedded; the FAQ vectors are reused. Last, it ingests the same files again. Nothing
has changed, so each file costs one content hash and the build finds the index current.

    .venv/bin/python benchmarks/document_ingest.py [PATH…]   (default: ../shared/data/bank_docs)

Prints the numbers, writes benchmarks/results/document_ingest.json and .png.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

T = TypeVar("T")
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DOCUMENTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank_docs"
PASSAGE_FILES = ("passages.faiss", "passage_owner.npy", "passages.json", "passage_texts.json")


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    return result, round(time.perf_counter() - started, 2)


def per_document(passages: list[dict], parsed: list[dict]) -> list[dict]:
    """One row per ingested document: its passages, sections, answerable units, characters and parse time."""
    rows = []
    for summary in parsed:
        own = [p for p in passages if p["doc"] == summary["doc"]]
        rows.append({"doc": summary["doc"], "passages": len(own), "sections": summary["sections"],
                     "units": sum(len(p["units"]) for p in own), "chars": sum(len(p["text"]) for p in own),
                     "parse_s": summary["seconds"]})
    return rows


def measure(paths: list[Path]) -> dict:
    from bot.settings import load_settings
    from knowledge_base.index import build_index
    from knowledge_base.ingest.library import ingest_files
    from knowledge_base.passage_index import live_passages
    from knowledge_base.review.publish import knowledge_content

    settings = load_settings()
    with tempfile.TemporaryDirectory() as scratch:
        config = replace(settings.kb, index_dir=Path(scratch) / "index", documents_dir=Path(scratch) / "documents")
        _, faq_s = _timed(lambda: build_index(knowledge_content(config, None), config))
        report, parse_s = _timed(lambda: ingest_files(paths, Path(config.documents_dir), progress=False))
        version, build_s = _timed(lambda: build_index(knowledge_content(config, None), config))
        again, again_parse_s = _timed(lambda: ingest_files(paths, Path(config.documents_dir), progress=False))
        _, again_build_s = _timed(lambda: build_index(knowledge_content(config, None), config))
        manifest = json.loads((version / "manifest.json").read_text())
        documents = per_document(live_passages(version), report.added)
        sizes = {name: (version / name).stat().st_size for name in PASSAGE_FILES}
    return {"documents": documents, "errors": report.errors, "faq_only_build_s": faq_s,
            "ingest": {"parse_s": parse_s, "build_s": build_s, "total_s": round(parse_s + build_s, 2)},
            "again": {"unchanged": len(again.unchanged), "parse_s": again_parse_s, "build_s": again_build_s},
            "index": {"passages": manifest["passages"], "passage_vectors": manifest["passage_vectors"],
                      "faq_vectors": manifest["vectors"], "passage_bytes": sizes,
                      "passage_bytes_total": sum(sizes.values())}}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["documents"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    names = [r["doc"] for r in rows]
    left.barh(names, [r["passages"] for r in rows], color="#4c72b0", label="passages")
    left.barh(names, [r["units"] for r in rows], left=[r["passages"] for r in rows], color="#dd8452",
              label="answerable units")
    left.set_xlabel("vectors embedded (a passage + each of its units)")
    left.legend(loc="lower right", fontsize=8)
    left.invert_yaxis()
    stages = ["parse", "build (embed)", "again: parse", "again: build"]
    seconds = [result["ingest"]["parse_s"], result["ingest"]["build_s"], result["again"]["parse_s"],
               result["again"]["build_s"]]
    right.barh(stages, seconds, color=["#4c72b0", "#c44e52", "#4c72b0", "#c44e52"])
    right.set_xlabel("seconds")
    right.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[DEFAULT_DOCUMENTS],
                        help=f"documents or folders to ingest (default: {DEFAULT_DOCUMENTS})")
    args = parser.parse_args()
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(missing)}; name the documents to ingest", file=sys.stderr)
        return 2
    result = measure(args.paths)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "document_ingest.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    plot(result, RESULTS / "document_ingest.png")
    for row in result["documents"]:
        print(f"{row['doc']}: {row['passages']} passages in {row['sections']} sections, {row['units']} units, "
              f"{row['chars']} characters, parsed in {row['parse_s']} s")
    for error in result["errors"]:
        print(f"error: {error}")
    ingest, again, index = result["ingest"], result["again"], result["index"]
    print(f"ingest: parsed in {ingest['parse_s']} s, index built in {ingest['build_s']} s "
          f"({index['passage_vectors']} passage vectors embedded; {index['faq_vectors']} FAQ vectors reused)")
    print(f"again, unchanged ({again['unchanged']} files): {again['parse_s']} s + {again['build_s']} s")
    print(f"index: {index['passages']} passages, {index['passage_vectors']} vectors, "
          f"{index['passage_bytes_total'] / 1024:.0f} KiB of passage files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
