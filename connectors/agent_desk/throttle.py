"""Agent login throttling: exponential backoff per client address and per account, shared by replicas.

Why two keys: a customer guessing passwords from one address is stopped by the address backoff
(long, grows fast); the account backoff (short, grows) stops guessing spread over many addresses
without letting one guesser lock the agent out for long. An address the agent has logged in from
before is not held back by the account backoff at all (only by its own address backoff).

In the connector database (SQLite or PostgreSQL), so a guesser gains nothing by landing on another
replica or waiting for a restart. Keys are stored hashed (no addresses or login names in the table),
and each scope keeps at most `max_keys` rows: forgotten ones are purged, then the oldest.
"""
from __future__ import annotations

import hashlib
import math
import time
from typing import Callable, Optional

from sqlalchemy import Column, Float, Integer, String, Table, delete, func, select
from sqlalchemy.engine import Connection, Engine

from connectors.store import default_engine, metadata, upsert

MAX_KEYS = 10_000
Clock = Callable[[], float]

login_backoff = Table(
    "desk_login_backoff", metadata,
    Column("key", String(80), primary_key=True),  # "<scope>:<sha256 of the account or address>"
    Column("failures", Integer, nullable=False),
    Column("blocked_until", Float, nullable=False),
    Column("last_failure", Float, nullable=False, index=True),
)
login_known = Table(
    "desk_login_known", metadata,
    Column("pair", String(64), primary_key=True),  # sha256 of account + address that logged in
    Column("at", Float, nullable=False, index=True),
)


def _hashed(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _keep_newest(conn: Connection, table: Table, order_column: Column, max_rows: int, scope=None) -> None:
    """Delete the oldest rows beyond max_rows (within `scope`, a WHERE clause, when given)."""
    count_query = select(func.count()).select_from(table)
    if scope is not None:
        count_query = count_query.where(scope)
    excess = conn.execute(count_query).scalar_one() - max_rows
    if excess <= 0:
        return
    key = list(table.primary_key.columns)[0]
    oldest = select(key).order_by(order_column).limit(excess)
    if scope is not None:
        oldest = oldest.where(scope)
    conn.execute(delete(table).where(key.in_(oldest.scalar_subquery())))


class Backoff:
    """After `free` failures of a key, each further failure blocks it for base_s·2^k (k = 0, 1, …), capped."""

    def __init__(self, scope: str, free: int, base_s: float, max_s: float, forget_s: float,
                 max_keys: int = MAX_KEYS, engine: Optional[Engine] = None, clock: Clock = time.time) -> None:
        self.scope, self.free, self.base_s, self.max_s, self.forget_s = scope, free, base_s, max_s, forget_s
        self.max_keys = max_keys
        self.engine = engine or default_engine()
        login_backoff.create(self.engine, checkfirst=True)
        self.clock = clock

    def _key(self, key: str) -> str:
        return f"{self.scope}:{_hashed(key)}"

    def _in_scope(self):
        return login_backoff.c.key.like(f"{self.scope}:%")

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again (0: now)."""
        now = self.clock()
        with self.engine.connect() as conn:
            row = conn.execute(select(login_backoff.c.blocked_until, login_backoff.c.last_failure)
                               .where(login_backoff.c.key == self._key(key))).first()
        if row is None or now - row.last_failure > self.forget_s:
            return 0.0  # never failed, or quiet long enough: forgiven
        return max(0.0, row.blocked_until - now)

    def failed(self, key: str) -> None:
        now, stored_key = self.clock(), self._key(key)
        with self.engine.begin() as conn:
            row = conn.execute(select(login_backoff.c.failures, login_backoff.c.last_failure)
                               .where(login_backoff.c.key == stored_key)).first()
            failures = 1 if row is None or now - row.last_failure > self.forget_s else row.failures + 1
            blocked_until = now + min(self.max_s, self.base_s * 2 ** (failures - self.free)) \
                if failures >= self.free else 0.0
            upsert(conn, login_backoff, {"key": stored_key, "failures": failures, "blocked_until": blocked_until,
                                         "last_failure": now}, ["key"])
            conn.execute(delete(login_backoff).where(self._in_scope(),
                                                     login_backoff.c.last_failure < now - self.forget_s))
            _keep_newest(conn, login_backoff, login_backoff.c.last_failure, self.max_keys, self._in_scope())

    def succeeded(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(login_backoff).where(login_backoff.c.key == self._key(key)))

    def __len__(self) -> int:
        """Keys remembered now (forgotten ones are not counted)."""
        cutoff = self.clock() - self.forget_s
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(login_backoff).where(
                self._in_scope(), login_backoff.c.last_failure >= cutoff)).scalar_one()


class LoginThrottle:
    """The login endpoint asks `retry_after(account, address)` before checking a password."""

    def __init__(self, free_failures: int = 5, account_base_s: float = 2.0, account_max_s: float = 300.0,
                 address_base_s: float = 30.0, address_max_s: float = 3600.0, max_keys: int = MAX_KEYS,
                 engine: Optional[Engine] = None, clock: Clock = time.time) -> None:
        self.engine = engine or default_engine()
        self.accounts = Backoff("account", free_failures, account_base_s, account_max_s, 2 * account_max_s,
                                max_keys, self.engine, clock)
        self.addresses = Backoff("address", free_failures, address_base_s, address_max_s, 2 * address_max_s,
                                 max_keys, self.engine, clock)
        login_known.create(self.engine, checkfirst=True)
        self.max_keys = max_keys
        self.clock = clock

    def retry_after(self, account: str, address: str) -> int:
        """Whole seconds to wait (0: go ahead and check the password)."""
        wait = self.addresses.retry_after(address)
        if not self._known(account, address):
            wait = max(wait, self.accounts.retry_after(account))
        return math.ceil(wait)

    def failed(self, account: str, address: str) -> None:
        self.addresses.failed(address)
        self.accounts.failed(account)

    def succeeded(self, account: str, address: str) -> None:
        self.addresses.succeeded(address)
        self.accounts.succeeded(account)
        with self.engine.begin() as conn:
            upsert(conn, login_known, {"pair": _hashed(f"{account}\0{address}"), "at": self.clock()}, ["pair"])
            _keep_newest(conn, login_known, login_known.c.at, self.max_keys)

    def known_pairs(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(login_known)).scalar_one()

    def _known(self, account: str, address: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(login_known.c.pair)
                                .where(login_known.c.pair == _hashed(f"{account}\0{address}"))).first() is not None
