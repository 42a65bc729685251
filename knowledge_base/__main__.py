"""``python -m knowledge_base build [--out DIR] [--force]`` and ``search TEXT``."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from bot.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m knowledge_base",
                                     description="Build and query the FAQ knowledge base.")
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="embed the content and publish a FAISS index")
    build_cmd.add_argument("--out", type=Path, default=settings.index_dir,
                           help=f"index folder (default: KB_INDEX_DIR = {settings.index_dir})")
    build_cmd.add_argument("--content", type=Path, default=settings.content_dir,
                           help="content folder (default: KB_CONTENT_DIR)")
    build_cmd.add_argument("--force", action="store_true", help="rebuild even if current")
    search_cmd = sub.add_parser("search", help="print the top hits for a question as JSON")
    search_cmd.add_argument("text")
    search_cmd.add_argument("-k", type=int, default=5)
    search_cmd.add_argument("--index", type=Path, default=None, help="index folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from knowledge_base.content import ContentError, load_content
    from knowledge_base.embedding import EncoderMissing
    from knowledge_base.index import IndexUnavailable, build_index

    try:
        if args.command == "build":
            version = build_index(load_content(args.content), args.out.resolve(), force=args.force)
            print(f"index ready: {version}")
        else:
            from knowledge_base import load_retriever

            hits = load_retriever(args.index).search(args.text, k=args.k)
            print(json.dumps([h.as_dict() for h in hits], ensure_ascii=False, indent=2))
    except (ContentError, EncoderMissing, IndexUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
