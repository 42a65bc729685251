"""Agent desk accounts (passwords are read from stdin, never from the command line):

  python -m connectors.agent_desk add-agent USERNAME [--role supervisor] [--display-name 客服小王] [--queues general,fraud]
  python -m connectors.agent_desk reset-password USERNAME     (ends every session of the agent)
  python -m connectors.agent_desk disable-agent USERNAME      (ends every session; login refused)
  python -m connectors.agent_desk enable-agent USERNAME
"""
from __future__ import annotations

import argparse
import getpass
import re
import sys

from connectors.agent_desk.passwords import MIN_LENGTH
from connectors.agent_desk.store import QUEUES, ROLES, DeskStore, parse_queues

USERNAME = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,64}$")
DISPLAY_NAME = re.compile(r"^[^\x00-\x1f<>]{1,32}$")


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise SystemExit("error: the two passwords differ; run the command again")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _password_or_none(command: str, username: str) -> str | None:
    password = _read_password()
    if len(password) < MIN_LENGTH:
        print(f"error: the password must be at least {MIN_LENGTH} characters long "
              f"(e.g. `echo 'a long passphrase' | python -m connectors.agent_desk {command} {username}`)",
              file=sys.stderr)
        return None
    return password


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m connectors.agent_desk", description="Agent desk accounts.")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add-agent", help="create an agent (or update one; its sessions end); password from stdin")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="agent")
    add.add_argument("--display-name", help="the name customers see (default: 客服 + a work number)")
    add.add_argument("--queues", help=f"comma-separated queues the agent serves, of {', '.join(QUEUES)} "
                                      "(default for a new agent: general; supervisors see all)")
    for name, text in (("reset-password", "set a new password (stdin) and end every session of the agent"),
                       ("disable-agent", "refuse the agent's logins and end every session"),
                       ("enable-agent", "allow a disabled agent to log in again")):
        sub.add_parser(name, help=text).add_argument("username")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not USERNAME.match(args.username):
        parser.error("USERNAME must be 2-64 letters, digits, Chinese characters, '.', '_' or '-'")
    store = DeskStore()
    if args.command == "add-agent":
        if args.display_name is not None and not DISPLAY_NAME.match(args.display_name):
            parser.error("--display-name must be 1-32 characters, without control characters or < >")
        try:
            queues = list(parse_queues(args.queues)) if args.queues is not None else None
        except ValueError as exc:
            parser.error(str(exc))
        password = _password_or_none(args.command, args.username)
        if password is None:
            return 2
        store.add_agent(args.username, password, args.role, args.display_name, queues)
        agent = store.get_agent(args.username)
        print(f"agent {agent.username!r} ({agent.role}, shown to customers as {agent.display_name!r}, "
              f"queues {','.join(agent.queues)}) saved")
        return 0
    if store.get_agent(args.username) is None:
        print(f"error: no agent {args.username!r}", file=sys.stderr)
        return 1
    if args.command == "reset-password":
        password = _password_or_none(args.command, args.username)
        if password is None:
            return 2
        store.reset_password(args.username, password)
        print(f"password of {args.username!r} changed; all its sessions ended")
    else:
        disabled = args.command == "disable-agent"
        store.set_disabled(args.username, disabled)
        print(f"agent {args.username!r} {'disabled; all its sessions ended' if disabled else 'enabled'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
