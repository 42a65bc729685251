"""Databases holding customer data: owner-only files, and no bound values in error messages.

SQLite creates a database file with the process umask (often world-readable 0644); the tracker,
the connectors' tables and the sandbox bank hold conversations and account data, so the file is
created 0600 before SQLite opens it (SQLite gives its journal/WAL files the same mode), and an
existing one is tightened to 0600. Engines are created with ``hide_parameters=True`` so an
IntegrityError or OperationalError logged somewhere never carries a customer's message, card
number or password hash.

A SQLite file gets a pool of open connections (SQLAlchemy 1.4 otherwise opens and closes one per
session): opening, closing and re-running the connect pragmas was ~6 % of the Rasa process's
CPU under load (py-spy, docs/serving.md). Such a pool never pre-pings: a local file has no server
that could have dropped the connection, and the ``SELECT 1`` per checkout showed up in the same profile.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import URL, make_url
from sqlalchemy.pool import QueuePool

SQLITE_POOL_SIZE = 5


def sqlite_path(url: str | URL) -> Optional[Path]:
    """The database file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:"):  # URI form: leave alone
        return None
    return Path(parsed.database).expanduser()


def private_file(path: Path) -> Path:
    """Create ``path`` readable by its owner only (a missing folder: 0700); tighten it if it exists."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path


def private_engine(url: str | URL, **kwargs: Any) -> Engine:
    """A SQLAlchemy engine with bound parameters hidden in errors; a SQLite file is made 0600 first."""
    path = sqlite_path(url)
    if path is not None:
        private_file(path)
        kwargs = _pooled_sqlite(kwargs)
    return create_engine(url, hide_parameters=True, **kwargs)


def _pooled_sqlite(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Keep SQLite connections open between sessions. A pooled connection may be used by another
    thread than the one that opened it (never by two at once), which pysqlite must be told."""
    if "poolclass" in kwargs:
        return kwargs
    kwargs = {key: value for key, value in kwargs.items() if key != "pool_pre_ping"}
    connect_args = {"check_same_thread": False, **kwargs.get("connect_args", {})}
    return {"poolclass": QueuePool, "pool_size": SQLITE_POOL_SIZE, "max_overflow": 10,
            **kwargs, "connect_args": connect_args}
