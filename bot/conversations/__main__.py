"""``python -m bot.conversations test FILE_OR_FOLDER… [--url URL | --in-process] [--json OUT] [-k TEXT]``
``python -m bot.conversations docs --set JSONL [--url URL | --in-process] [--out JSON]``.

test: exit status 0 when every dialogue not marked `xfail` passes, 1 when one fails, 2 when the files,
the arguments or the assistant cannot be used (nothing was judged).
docs: document questions over REST, as a customer gets the answers (bot/conversations/documents.py);
exit status 0 when measured, 2 when the set or the assistant cannot be used.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.conversations.client import AssistantClient, ClientError
from bot.conversations.model import Dialogue, DialogueFileError, conversation_files, load_dialogues
from bot.conversations.runner import StartError, in_process_assistant, run_all, summarise, write_json

USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.conversations",
                                     description="Replay multi-turn conversations and check every turn.")
    sub = parser.add_subparsers(dest="command", required=True)
    test = sub.add_parser("test", help="replay conversation files (YAML, version 1) and report mismatches",
                          description="Replay each dialogue in a fresh REST conversation and check "
                                      "every turn's `expect` against the replies and the tracker.",
                          epilog="exit status: 0 all dialogues not marked xfail pass, 1 some fail, "
                                 "2 unusable files, arguments or assistant")
    test.add_argument("paths", nargs="+", type=Path, metavar="FILE",
                      help="conversation files, or folders (every *.yml inside)")
    _assistant_options(test)
    test.add_argument("--json", type=Path, metavar="OUT", help="also write per-turn results (JSON) here")
    test.add_argument("-k", dest="keyword", metavar="SUBSTRING", help="only dialogues whose id contains this")
    test.add_argument("--verbose", "-v", action="store_true", help="show every turn, passing ones too")
    docs = sub.add_parser("docs", help="ask document questions over REST and read the citations the customer gets",
                          description="Each question in a new conversation: cited right, facts, offered, cited "
                                      "wrong; unanswerable questions left unanswered.")
    docs.add_argument("--set", type=Path, required=True, metavar="JSONL",
                      help='questions with "text", "doc" (null: unanswerable), "section", "facts" (as eval-docs)')
    _assistant_options(docs)
    docs.add_argument("--out", type=Path, default=Path("benchmarks/results/docs_over_rest.json"),
                      help="JSON result (a .png plot beside it)")
    return parser


def _assistant_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", help="a running assistant (default: http://localhost:$RASA_PORT)")
    where.add_argument("--in-process", action="store_true",
                       help="start the assistant for this run (free ports, temp databases, new sandbox bank)")
    parser.add_argument("--model", type=Path, help="with --in-process: this model, not the current one")
    parser.add_argument("--keep", action="store_true", help="with --in-process: keep the logs and databases")


def _dialogues(paths: list[Path], keyword: str | None) -> list[Dialogue]:
    dialogues = [d for path in conversation_files(paths) for d in load_dialogues(path)]
    if keyword:
        dialogues = [d for d in dialogues if keyword in d.id]
        if not dialogues:
            raise DialogueFileError(f"no dialogue id contains {keyword!r} (-k)")
    return dialogues


@contextlib.contextmanager
def _running_assistant(url: str | None) -> Iterator[AssistantClient]:
    from bot.settings import load_settings

    settings = load_settings()
    client = AssistantClient(url or f"http://localhost:{settings.rasa_port}", settings.rasa_api_token,
                             bearer_token=os.environ.get("REST_BEARER_TOKEN", "").strip() or None)
    try:  # fail once, clearly, rather than on every turn
        client.check_ready()
    except ClientError as exc:
        raise StartError(str(exc)) from None
    yield client


def _assistant_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the assistant options, if anything (warnings are printed)."""
    if (args.model or args.keep) and not args.in_process:
        return "--model and --keep only apply with --in-process"
    if args.model and not args.model.is_file():
        return f"--model {args.model}: no such file"
    if args.model:
        from bot.train import model_path

        if args.model.name != model_path().name:
            print(f"warning: {args.model.name} was not trained on the current domain and data (that would be "
                  f"{model_path().name}); replies the model does not know are dropped", file=sys.stderr)
    return None


def _assistant(args: argparse.Namespace) -> contextlib.AbstractContextManager[AssistantClient]:
    return in_process_assistant(args.model, keep=args.keep) if args.in_process else _running_assistant(args.url)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    problem = _assistant_error(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return USAGE_ERROR
    return _docs(args) if args.command == "docs" else _test(args)


def _docs(args: argparse.Namespace) -> int:
    from bot.conversations.documents import format_table, measure, plot
    from knowledge_base.evaluate import EvalSetError
    from knowledge_base.evaluate_docs import read_questions

    try:
        rows = read_questions(args.set)
    except (EvalSetError, OSError) as exc:
        print(f"error: --set: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        with _assistant(args) as client:
            print(f"asking {len(rows)} question(s) of {args.set} at {client.base_url}", flush=True)
            result = measure(client, rows)
    except (StartError, ClientError) as exc:  # nothing measured is worth printing half of
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(format_table(result))
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"set": str(args.set), **result}, ensure_ascii=False, indent=2),
                            encoding="utf-8")
    except OSError as exc:
        print(f"error: --out {args.out}: cannot be written ({exc.strerror})", file=sys.stderr)
        return USAGE_ERROR
    plot(result, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0


def _test(args: argparse.Namespace) -> int:
    try:
        dialogues = _dialogues(args.paths, args.keyword)
    except DialogueFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        with _assistant(args) as client:
            print(f"replaying {len(dialogues)} dialogue(s) against {client.base_url}", flush=True)
            results = run_all(client, dialogues, sys.stdout, verbose=args.verbose)
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    summary = summarise(results)
    if any(r.warnings for r in results):
        print("warning: some logged-in dialogues ran anonymously (see the warnings above)", file=sys.stderr)
    print(summary.line())
    if args.json:
        try:
            write_json(args.json, results, summary)
        except OSError as exc:
            print(f"error: --json {args.json}: cannot be written ({exc.strerror})", file=sys.stderr)
            return USAGE_ERROR
        print(f"results written to {args.json}")
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
