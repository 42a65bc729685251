"""Which conversations the bot is having right now, so a supervisor can watch one and take it over.

Every customer message updates one row per conversation (desk_live_conversations: channel, time,
its first 80 characters masked) in the connector database, so a supervisor's console on any replica
lists the conversations of all of them. Rows older than the window are purged at most once a minute.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Iterable, List, Optional

from sqlalchemy import Column, Float, String, Table, delete, select
from sqlalchemy.engine import Engine

from bot.banking.masking import mask_text
from connectors.store import PurgeSchedule, metadata, upsert

WINDOW_S = 30 * 60
LIST_MAX = 500
PREVIEW_CHARS = 80

live_conversations = Table(
    "desk_live_conversations", metadata,
    Column("sender_id", String(128), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("last_at", Float, nullable=False, index=True),
    Column("last_text", String(PREVIEW_CHARS), nullable=False),  # masked
)


class LiveConversations:
    def __init__(self, engine: Engine, window_s: float = WINDOW_S, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        live_conversations.create(self.engine, checkfirst=True)
        self.window_s = window_s
        self.clock = clock
        self.purges = PurgeSchedule()

    def seen(self, sender_id: str, channel: str, text: str) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            upsert(conn, live_conversations, {"sender_id": sender_id, "channel": channel, "last_at": now,
                                              "last_text": mask_text(text)[:PREVIEW_CHARS]}, ["sender_id"])
            if self.purges.due(now):
                conn.execute(delete(live_conversations).where(live_conversations.c.last_at < now - self.window_s))

    def get(self, sender_id: str) -> Optional[Dict[str, Any]]:
        """The conversation if it was active within the window."""
        with self.engine.connect() as conn:
            row = conn.execute(select(live_conversations).where(
                live_conversations.c.sender_id == sender_id,
                live_conversations.c.last_at >= self.clock() - self.window_s)).mappings().first()
        return _as_dict(row) if row else None

    def recent(self, excluding: Iterable[str] = (), limit: int = LIST_MAX) -> List[Dict[str, Any]]:
        """Newest first, without the conversations in `excluding` (those a human has)."""
        skip = set(excluding)
        with self.engine.connect() as conn:
            rows = conn.execute(select(live_conversations)
                                .where(live_conversations.c.last_at >= self.clock() - self.window_s)
                                .order_by(live_conversations.c.last_at.desc()).limit(limit + len(skip))).mappings()
            found = [_as_dict(r) for r in rows if r["sender_id"] not in skip]
        return found[:limit]


def _as_dict(row: Any) -> Dict[str, Any]:
    return {"sender_id": row["sender_id"], "channel": row["channel"], "at": row["last_at"],
            "last_text": row["last_text"]}
