"""``python -m connectors.agent_desk add-agent USERNAME [--role supervisor]`` (password on stdin)."""
from __future__ import annotations

import argparse
import getpass
import re
import sys

from connectors.agent_desk.passwords import MIN_LENGTH
from connectors.agent_desk.store import ROLES, DeskStore

USERNAME = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,64}$")


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise SystemExit("error: the two passwords differ; run the command again")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.agent_desk", description="Agent desk accounts.")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add-agent", help="create an agent (or reset an existing one); password from stdin")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="agent")
    args = parser.parse_args(argv)
    if not USERNAME.match(args.username):
        parser.error("USERNAME must be 2-64 letters, digits, Chinese characters, '.', '_' or '-'")
    password = _read_password()
    if len(password) < MIN_LENGTH:
        print(f"error: the password must be at least {MIN_LENGTH} characters long "
              f"(e.g. `echo 'a long passphrase' | python -m connectors.agent_desk add-agent {args.username}`)",
              file=sys.stderr)
        return 2
    DeskStore().add_agent(args.username, password, args.role)
    print(f"agent {args.username!r} ({args.role}) saved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
