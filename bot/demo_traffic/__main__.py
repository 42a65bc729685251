"""`python -m bot.demo_traffic`: parse the arguments, start the assistant, drive the conversations,
print what was sent and the day's summary. Exit 0; 1 if a conversation failed or the summary could
not be read; 2 if the assistant did not start or the supervisor cannot log in; 130 on Ctrl-C."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import List, Optional, Sequence

from bot.demo_traffic.assistant import demo_assistant
from bot.demo_traffic.desk import DEMO_SUPERVISOR, Desk, ensure_supervisor
from bot.demo_traffic.drive import Context, Outcome, drive
from bot.demo_traffic.errors import DemoError
from bot.demo_traffic.mix import Conversation, plan
from bot.demo_traffic.report import Reports, fetch_reports, report_lines, traffic_lines
from bot.demo_traffic.wechat import WeChatAccount

MAX_CONVERSATIONS = 1000


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The command line, checked: a clear error (exit 2) rather than a demo that cannot work."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not 1 <= args.conversations <= MAX_CONVERSATIONS:
        parser.error(f"--conversations must be between 1 and {MAX_CONVERSATIONS}")
    if not 1 <= args.concurrency <= 8:
        parser.error("--concurrency must be between 1 and 8 (a modest load: the point is realistic traffic)")
    if not 0 <= args.think_s <= 30:
        parser.error("--think-s must be between 0 and 30")
    if args.password_stdin and args.supervisor == DEMO_SUPERVISOR:
        parser.error("--password-stdin needs --supervisor USER (an existing supervisor account)")
    return args


def _parser() -> argparse.ArgumentParser:
    """The options, with the defaults `make demo-traffic` runs with."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.demo_traffic",
        description="Realistic customer conversations through the real channels (REST, web chat, WeChat), so "
                    "the supervisors' dashboard has something to show. Starts its own assistant on free ports.")
    parser.add_argument("--conversations", type=int, default=60,
                        help=f"how many conversations (1–{MAX_CONVERSATIONS}; default 60)")
    parser.add_argument("--seed", type=int, default=17, help="the mix and each customer's choices (default 17)")
    parser.add_argument("--concurrency", type=int, default=3,
                        help="customers talking at the same time (1–8; default 3)")
    parser.add_argument("--think-s", type=float, default=0.8,
                        help="mean pause before each customer message, seconds (default 0.8)")
    parser.add_argument("--supervisor", default=DEMO_SUPERVISOR,
                        help=f"the supervisor who takes handoffs and reads the summary (default {DEMO_SUPERVISOR}, "
                             "created or given a new random password, printed once)")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read --supervisor's password from standard input instead (the account is left as it is)")
    return parser


def read_password() -> str:
    """--password-stdin: a password never appears on the command line (which other users can see)."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise SystemExit("error: --password-stdin: no password on standard input")
    return password


def identity_warning() -> Optional[str]:
    """The demo signs customer tokens with the installation's HS256 secret (as `python -m bot.identity
    issue` does); with the bank app's RS256/ES256 keys configured, its account flows run anonymous."""
    from bot.settings import load_identity_settings

    algorithm = load_identity_settings().algorithm
    if algorithm == "HS256":
        return None
    return (f"warning: CUSTOMER_TOKEN_ALGORITHM={algorithm}: the demo cannot sign customer tokens, so its "
            "balance, transfer and card-loss customers will be asked to log in")


@dataclass
class DemoRun:
    """What a finished run printed its closing lines from."""

    username: str
    generated: Optional[str]  # the demo supervisor's new random password, shown once
    outcomes: List[Outcome]
    seconds: float
    reports: Optional[Reports]  # None: the summary could not be read


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command; its exit status as the module docstring says."""
    args = parse_args(argv)
    given_password = read_password() if args.password_stdin else None
    conversations = plan(args.conversations, args.seed)
    warning = identity_warning()
    if warning:
        print(warning, file=sys.stderr)
    try:
        run = run_demo(args, conversations, given_password)
    except KeyboardInterrupt:
        print("\ninterrupted; the assistant was stopped", file=sys.stderr)
        return 130
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:  # start-up: model, port, a server that died
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if run is None:  # the supervisor could not log in (said already)
        return 2
    print_results(run)
    return 1 if run.reports is None or any(o.failure for o in run.outcomes) else 0


def run_demo(args: argparse.Namespace, conversations: Sequence[Conversation],
             given_password: Optional[str]) -> Optional[DemoRun]:
    """Starts the assistant, drives the conversations and reads the summary; the assistant is
    stopped before this returns. None when the supervisor cannot log in."""
    account = WeChatAccount.generate()
    started = time.time()
    with demo_assistant(account) as (base_url, api, settings):
        username, generated = ensure_supervisor(args.supervisor, given_password)
        desk = _log_in(base_url, username, given_password or generated or "")
        if desk is None:
            return None
        print(f"driving {len(conversations)} conversations over REST, web chat and WeChat (fake WeChat API "
              f"{api.base_url}), {args.concurrency} at a time…", flush=True)
        traffic_started = time.monotonic()
        outcomes = drive(Context(base_url, account, api, desk, args.seed, args.think_s), conversations,
                         args.concurrency)
        seconds = time.monotonic() - traffic_started
        reports = _read_reports(desk, settings.analytics_timezone, started)
    return DemoRun(username, generated, outcomes, seconds, reports)


def _log_in(base_url: str, username: str, password: str) -> Optional[Desk]:
    """The supervisor's desk session; None, with the likely causes printed, when the login fails."""
    try:
        return Desk(base_url, username, password)
    except DemoError as exc:
        print(f"error: the supervisor {username!r} cannot log in ({exc}); is it a supervisor account, "
              "and the password right?", file=sys.stderr)
        return None


def _read_reports(desk: Desk, zone: str, started: float) -> Optional[Reports]:
    """The summary, or None (said on stderr): what the demo sent is still worth printing."""
    try:
        return fetch_reports(desk, zone, started)
    except DemoError as exc:
        print(f"error: the analytics summary could not be read: {exc}", file=sys.stderr)
        return None


def print_results(run: DemoRun) -> None:
    """What was sent, the day's summary, and where to see it (with the new password, if any)."""
    print("\n".join(["", *traffic_lines(run.outcomes, run.seconds),
                     *(report_lines(*run.reports) if run.reports else [])]))
    print(f"\ndashboard: http://localhost:{os.environ.get('RASA_PORT') or '5005'}/agent/ (with `make run` up), "
          f"supervisor {run.username!r}"
          + (f", password {run.generated}  (shown once; another: `python -m connectors.agent_desk "
             f"reset-password {run.username}`)" if run.generated else ""))


if __name__ == "__main__":
    sys.exit(main())
