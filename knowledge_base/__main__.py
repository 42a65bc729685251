"""Knowledge-base command line: build, search, eval, calibrate, import.

    python -m knowledge_base build [--out DIR] [--content DIR] [--force]
    python -m knowledge_base search TEXT [-k 5] [--mode hybrid|dense|bm25]
    python -m knowledge_base eval --set ../shared/eval/dev_faq.jsonl [--negatives ../shared/eval/dev_intents.jsonl]
    python -m knowledge_base calibrate
    python -m knowledge_base import FILE.csv|FILE.jsonl
    python -m knowledge_base ingest PATH... [--watch]
    python -m knowledge_base eval-docs --set ../shared/eval/dev_doc_questions.jsonl

The one place the library's CLI reads the environment (``KBConfig.from_env()``).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

from knowledge_base.config import KBConfig


def _parser(settings: KBConfig) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge_base",
                                     description="Build, query and evaluate the FAQ knowledge base.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="embed the content (with the approved changes in KB_REVIEW_DB_URL) "
                                         "and publish a FAISS index")
    build.add_argument("--out", type=Path, default=settings.index_dir,
                       help=f"index folder (default: KB_INDEX_DIR = {settings.index_dir})")
    build.add_argument("--content", type=Path, default=settings.content_dir,
                       help="content folder (default: KB_CONTENT_DIR)")
    build.add_argument("--force", action="store_true", help="rebuild even if current")
    search = sub.add_parser("search", help="print the top hits and the decision for a question as JSON")
    search.add_argument("text")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    search.add_argument("--index", type=Path, default=None, help="index folder")
    evaluate = sub.add_parser("eval", help="R@1, R@3, MRR and false-answer rate per retrieval mode")
    evaluate.add_argument("--set", type=Path, required=True, help="JSONL with text and faq_id per line")
    evaluate.add_argument("--negatives", type=Path, default=None,
                          help="JSONL with text and intent per line; non-faq lines measure false answers "
                               "(default: dev_intents.jsonl beside --set, if present)")
    sub.add_parser("calibrate", help="refit fusion weights, confidence model and thresholds (retrieval.yml)")
    importer = sub.add_parser("import", help="add entries from a CSV or JSONL file to the content")
    importer.add_argument("file", type=Path)
    importer.add_argument("--content", type=Path, default=settings.content_dir)
    ingest = sub.add_parser("ingest", help="add PDF, DOCX and HTML documents (files or folders) to the documents "
                                           "folder and publish the index with their passages")
    ingest.add_argument("paths", type=Path, nargs="+")
    ingest.add_argument("--documents", type=Path, default=settings.documents_dir,
                        help=f"documents folder (default: KB_DOCUMENTS_DIR = {settings.documents_dir})")
    ingest.add_argument("--watch", action="store_true", help="keep watching the paths and re-ingest what changes")
    ingest.add_argument("--interval", type=float, default=5.0, help="seconds between checks with --watch")
    calibrate_docs = sub.add_parser("calibrate-docs", help="fit the documents' answer model "
                                                           "(document_retrieval.yml) on our own question set")
    calibrate_docs.add_argument("--set", type=Path, default=None,
                                help="JSONL questions (default: knowledge_base/calibration/doc_questions.jsonl)")
    eval_docs = sub.add_parser("eval-docs", help="section cited, facts contained and unanswerable questions left "
                                                 "unanswered, per document")
    eval_docs.add_argument("--set", type=Path, required=True, help='JSONL with "text", "doc", "section", "facts"')
    eval_docs.add_argument("--out", type=Path, default=Path("benchmarks/results/eval_docs.json"),
                           help="JSON result (a .png plot beside it)")
    return parser


def _run(args: argparse.Namespace, config: KBConfig) -> int | None:
    from knowledge_base import load_retriever
    from knowledge_base.index import IndexUnavailable

    if args.command == "build":
        from knowledge_base.index import build_index
        from knowledge_base.review.publish import knowledge_content, review_for_build

        target = replace(config, index_dir=args.out.resolve(), content_dir=args.content)
        content = knowledge_content(target, review_for_build(target))  # approved changes stay live
        print(f"index ready: {build_index(content, target, force=args.force)}")
    elif args.command == "search":
        retriever = load_retriever(args.index, config=config)
        assessment = retriever.assess(args.text, k=args.k, mode=args.mode)
        print(json.dumps(assessment.as_dict(), ensure_ascii=False, indent=2))
    elif args.command == "eval":
        from knowledge_base.evaluate import evaluate, format_table, read_jsonl

        faq = read_jsonl(args.set, ("text", "faq_id"))
        negatives_path = args.negatives or args.set.with_name("dev_intents.jsonl")
        negatives = ([r["text"] for r in read_jsonl(negatives_path, ("text", "intent")) if r["intent"] != "faq"]
                     if negatives_path.is_file() else [])
        print(format_table(evaluate(load_retriever(config=config), faq, negatives), len(faq), len(negatives)))
    elif args.command == "calibrate":
        from knowledge_base.calibrate import calibrate

        document = calibrate(load_retriever(config=config))
        print(json.dumps(document, ensure_ascii=False, indent=2))
    elif args.command == "import":
        from knowledge_base.importer import import_file

        added = import_file(args.file, args.content)
        print(f"imported {len(added)} entries into {args.content}; run `python -m knowledge_base build` to index them")
    elif args.command == "ingest":
        from knowledge_base.ingest.cli import ingest_command

        return ingest_command(args.paths, replace(config, documents_dir=args.documents.resolve()), args.watch, args.interval)
    elif args.command == "calibrate-docs":
        from knowledge_base.doc_calibrate import DEFAULT_SET, calibrate_documents
        from knowledge_base.evaluate_docs import read_questions

        retriever = load_retriever(config=config)
        if retriever.documents is None:
            raise IndexUnavailable("the index has no documents; ingest some first: python -m knowledge_base ingest PATH")
        document = calibrate_documents(retriever, read_questions(args.set or DEFAULT_SET),
                                       config.document_retrieval_config)
        print(json.dumps(document, ensure_ascii=False, indent=2))
    elif args.command == "eval-docs":
        from knowledge_base.evaluate_docs import evaluate_docs, format_table, plot, read_questions

        result = evaluate_docs(load_retriever(config=config), read_questions(args.set))
        print(format_table(result))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"set": str(args.set), **result}, ensure_ascii=False, indent=2))
        plot(result, args.out.with_suffix(".png"))
        print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


def main(argv: list[str] | None = None) -> int:
    config = KBConfig.from_env()
    args = _parser(config).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("knowledge_base").setLevel(logging.INFO)

    from knowledge_base.content import ContentError
    from knowledge_base.embedding import EncoderMissing
    from knowledge_base.evaluate import EvalSetError
    from knowledge_base.index import IndexUnavailable
    from knowledge_base.ingest.blocks import DocumentError
    from knowledge_base.review.changes import ChangeError

    try:
        return _run(args, config) or 0
    except (ContentError, EncoderMissing, IndexUnavailable, EvalSetError, ChangeError, DocumentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
