"""The connectors' own SQL tables (SQLite by default, PostgreSQL via CONNECTOR_DB_URL).

Conversation content lives in Rasa's tracker store; this holds what channels must remember
across restarts: WeChat bindings and conversations, one-time keys, web chat sessions; the classes
that use them live beside their channels.
"""
from __future__ import annotations

import functools
from typing import Any, Dict, Sequence

from sqlalchemy import Boolean, Column, Float, MetaData, String, Table, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from bot.private_db import private_engine
from bot.settings import load_channel_settings

metadata = MetaData()

# --- WeChat (classes in connectors/wechat/store.py) ---------------------------------------------
# Bindings confirmed in the bank app (issue 13). The pre-confirmation table `wechat_bindings` is no
# longer read: those bindings were made without the customer seeing the account, so they re-bind.
wechat_account_bindings = Table(
    "wechat_account_bindings", metadata,
    Column("binding_id", String(32), primary_key=True),
    Column("openid", String(64), nullable=False, unique=True),
    Column("customer_id", String(32), nullable=False, index=True),
    Column("bound_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

# Conversation id (wechat:<hash>) → openid, so agents and late replies can reach the customer.
wechat_conversations = Table(
    "wechat_conversations", metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("openid", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
)

# One-time keys that expire: request nonces, MsgIds, binding-ticket jtis (hashed keys).
wechat_once = Table(
    "wechat_once", metadata,
    Column("key", String(80), primary_key=True),
    Column("value", String(80), nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)

# Which replica runs each WeChat message's turn: a lease its owner renews while the turn runs, so a
# retry can tell a turn in progress from one whose replica died (connectors/wechat/store.MessageTurns).
wechat_message_turns = Table(
    "wechat_message_turns", metadata,
    Column("key", String(80), primary_key=True),  # hashed message key (MsgId, or sender + CreateTime)
    Column("owner", String(64), nullable=False),
    Column("lease_until", Float, nullable=False),
    Column("done", Boolean, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),  # after it the replay window refuses a copy
)

# The numbered choices last offered in a conversation ("回复数字"): the next "2" means the second.
wechat_choices = Table(
    "wechat_choices", metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("choices", Text, nullable=False),  # JSON list of button payloads
    Column("expires_at", Float, nullable=False, index=True),
)

# The customer-service API's access_token, one per app id, shared by the replicas (see wechat/api.py).
wechat_access_tokens = Table(
    "wechat_access_tokens", metadata,
    Column("app_id", String(64), primary_key=True),
    Column("token", String(1024), nullable=False),
    Column("expires_at", Float, nullable=False),
)

webchat_sessions = Table(
    "webchat_sessions", metadata,
    Column("session_id", String(64), primary_key=True),
    Column("customer_id", String(32), nullable=True),
    Column("created_at", Float, nullable=False),
)


@functools.lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """The engine for the connectors' database: SQLite file 0600, bound values hidden in errors."""
    engine = private_engine(url, future=True, pool_pre_ping=True)
    metadata.create_all(engine)
    return engine


def default_engine() -> Engine:
    return engine_for(load_channel_settings().connector_db_url)


PURGE_EVERY_S = 60.0


class PurgeSchedule:
    """When to delete expired rows: at most once per period, not on every message (a write each time)."""

    def __init__(self, every_s: float = PURGE_EVERY_S) -> None:
        self.every_s = every_s
        self._next = 0.0

    def due(self, now: float) -> bool:
        if now < self._next:
            return False
        self._next = now + self.every_s
        return True


def upsert(conn: Connection, table: Table, values: Dict[str, Any], keys: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE: one atomic statement on SQLite and PostgreSQL alike."""
    dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(conn.dialect.name)
    if dialect is None:
        raise ValueError(f"the connector database must be SQLite or PostgreSQL, not {conn.dialect.name}")
    statement = dialect.insert(table).values(**values)
    changes = {name: value for name, value in values.items() if name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changes))
