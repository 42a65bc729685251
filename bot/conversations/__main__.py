"""``python -m bot.conversations test FILE_OR_FOLDER… [--url URL | --in-process] [--json OUT] [-k TEXT]``.

Exit status: 0 when every dialogue not marked `xfail` passes, 1 when one fails, 2 when the files,
the arguments or the assistant cannot be used (nothing was judged).
"""
from __future__ import annotations

import argparse
import contextlib
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
    where = test.add_mutually_exclusive_group()
    where.add_argument("--url", help="a running assistant (default: http://localhost:$RASA_PORT)")
    where.add_argument("--in-process", action="store_true",
                       help="start the assistant for this run (free ports, temp databases, new sandbox bank)")
    test.add_argument("--model", type=Path, help="with --in-process: this model, not the current one")
    test.add_argument("--keep", action="store_true", help="with --in-process: keep the logs and databases")
    test.add_argument("--json", type=Path, metavar="OUT", help="also write per-turn results (JSON) here")
    test.add_argument("-k", dest="keyword", metavar="SUBSTRING", help="only dialogues whose id contains this")
    test.add_argument("--verbose", "-v", action="store_true", help="show every turn, passing ones too")
    return parser


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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if (args.model or args.keep) and not args.in_process:
        print("error: --model and --keep only apply with --in-process", file=sys.stderr)
        return USAGE_ERROR
    try:
        dialogues = _dialogues(args.paths, args.keyword)
    except DialogueFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    if args.model and not args.model.is_file():
        print(f"error: --model {args.model}: no such file", file=sys.stderr)
        return USAGE_ERROR
    if args.model:
        from bot.train import model_path

        if args.model.name != model_path().name:
            print(f"warning: {args.model.name} was not trained on the current domain and data (that would be "
                  f"{model_path().name}); replies the model does not know are dropped", file=sys.stderr)
    assistant = (in_process_assistant(args.model, keep=args.keep) if args.in_process
                 else _running_assistant(args.url))
    try:
        with assistant as client:
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
