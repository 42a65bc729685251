"""The connectors' own SQL tables (SQLite by default, PostgreSQL via CONNECTOR_DB_URL).

Conversation content lives in Rasa's tracker store; this holds what channels must remember
across restarts: WeChat bindings and which customer owns a web chat session.
"""
from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Optional

from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url

from bot.settings import load_channel_settings

metadata = MetaData()

wechat_bindings = Table(
    "wechat_bindings", metadata,
    Column("openid", String(64), primary_key=True),
    Column("customer_id", String(32), nullable=False),
    Column("bound_at", Float, nullable=False),
)

webchat_sessions = Table(
    "webchat_sessions", metadata,
    Column("session_id", String(64), primary_key=True),
    Column("customer_id", String(32), nullable=True),
    Column("created_at", Float, nullable=False),
)


@functools.lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, pool_pre_ping=True)
    metadata.create_all(engine)
    return engine


def default_engine() -> Engine:
    return engine_for(load_channel_settings().connector_db_url)


class WeChatBindings:
    def __init__(self, engine: Optional[Engine] = None) -> None:
        self.engine = engine or default_engine()

    def customer_of(self, openid: str) -> Optional[str]:
        with self.engine.connect() as conn:
            return conn.execute(select(wechat_bindings.c.customer_id)
                                .where(wechat_bindings.c.openid == openid)).scalar_one_or_none()

    def bind(self, openid: str, customer_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(wechat_bindings).where(wechat_bindings.c.openid == openid))
            conn.execute(wechat_bindings.insert().values(openid=openid, customer_id=customer_id,
                                                         bound_at=time.time()))

    def unbind(self, openid: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(wechat_bindings).where(wechat_bindings.c.openid == openid)).rowcount > 0


class WebchatSessions:
    def __init__(self, engine: Optional[Engine] = None) -> None:
        self.engine = engine or default_engine()

    def owner(self, session_id: str) -> tuple[bool, Optional[str]]:
        """(known, customer_id) of a session."""
        with self.engine.connect() as conn:
            row = conn.execute(select(webchat_sessions.c.customer_id)
                               .where(webchat_sessions.c.session_id == session_id)).first()
        return (row is not None, row[0] if row else None)

    def create(self, session_id: str, customer_id: Optional[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(webchat_sessions.insert().values(session_id=session_id, customer_id=customer_id,
                                                          created_at=time.time()))
