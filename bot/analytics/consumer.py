"""Keeps the analytics tables current from the event broker's `events` table.

Each ``update()`` reads the events after the last one it consumed (by id, in publish order), folds
them per conversation (fold.py) and writes the facts, the folds' states and the new position in one
transaction: a crash half-way changes nothing, and the next run reads the same events again.
One replica at a time moves the position: it holds a lease row while it works (a crashed holder's
lease runs out after LEASE_S). Conversations idle for longer than the session expiry are closed.
Folded events are deleted from the broker table in the same transaction, so it holds only the
backlog, never a second copy of every conversation.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.analytics import tables
from bot.analytics.fold import ConversationFold, Fact

LEASE_S = 120.0
BATCH = 20_000

# Rasa's SQL broker table (rasa/core/brokers/sql.py), declared here to read it (and to create it
# when the consumer runs before the first event was published).
broker_events = Table("events", MetaData(), Column("id", Integer, primary_key=True),
                      Column("sender_id", String(255)), Column("data", Text))
UPSERT_KEYS = {"conversations": tables.conversations, "flows": tables.flows}
INSERTS = {"kb": tables.kb_outcomes, "latency": tables.latencies, "rating": tables.ratings}


def sender_key(sender_id: str) -> str:
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:32]


class AnalyticsConsumer:
    def __init__(self, engine: Engine, timezone: str, idle_close_s: float, mask: Callable[[str], str],
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.zone, self.idle_close_s, self.mask, self.clock = (
            engine, ZoneInfo(timezone), idle_close_s, mask, clock)
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tables.metadata.create_all(engine)
        broker_events.metadata.create_all(engine)

    def day(self, timestamp: float) -> str:
        return datetime.fromtimestamp(timestamp, self.zone).strftime("%Y-%m-%d")

    def update(self, batch: int = BATCH) -> int:
        """Consume up to `batch` new events; the number consumed (0 when another replica holds the lease)."""
        if not self._take_lease():
            return 0
        try:
            with self.engine.begin() as conn:
                return self._consume(conn, batch)
        finally:
            self._release_lease()

    # --- one batch ------------------------------------------------------------------------------
    def _consume(self, conn: Connection, batch: int) -> int:
        last = conn.execute(select(tables.progress.c.last_event_id)
                            .where(tables.progress.c.name == "broker")).scalar_one()
        rows = conn.execute(select(broker_events.c.id, broker_events.c.sender_id, broker_events.c.data)
                            .where(broker_events.c.id > last).order_by(broker_events.c.id).limit(batch)).all()
        keys = {sender_key(row.sender_id or "") for row in rows}
        states = self._load_states(conn, keys)
        facts: List[Fact] = []
        for row in rows:
            key = sender_key(row.sender_id or "")
            event = {**json.loads(row.data), "sender_id": row.sender_id or ""}
            states[key], new = ConversationFold(key, self.mask).apply(states.get(key), event)
            facts += new
        facts += self._close_idle(conn, states, keys)
        self._write(conn, facts, states)
        if rows:
            conn.execute(update(tables.progress).where(tables.progress.c.name == "broker")
                         .values(last_event_id=rows[-1].id))
            # The broker table is a queue: folded events go (the tracker store keeps conversations, under
            # its retention). The newest stays, so SQLite never hands out its id again.
            conn.execute(delete(broker_events).where(broker_events.c.id < rows[-1].id))
        return len(rows)

    @staticmethod
    def _load_states(conn: Connection, keys: Iterable[str]) -> Dict[str, Dict[str, Any]]:
        found = conn.execute(select(tables.open_folds.c.sender_key, tables.open_folds.c.state)
                             .where(tables.open_folds.c.sender_key.in_(list(keys)))).all()
        return {row.sender_key: json.loads(row.state) for row in found}

    def _close_idle(self, conn: Connection, states: Dict[str, Dict[str, Any]], touched: set) -> List[Fact]:
        """Conversations not heard from for the session expiry are over (their open flows abandoned)."""
        cutoff = self.clock() - self.idle_close_s
        idle = conn.execute(select(tables.open_folds.c.sender_key, tables.open_folds.c.state)
                            .where(tables.open_folds.c.last_at < cutoff)).all()
        facts: List[Fact] = []
        for row in idle:
            if row.sender_key in touched:
                continue
            state = json.loads(row.state)
            facts += ConversationFold(row.sender_key, self.mask).close(state)
            states[row.sender_key] = state
        return facts

    def _write(self, conn: Connection, facts: List[Fact], states: Dict[str, Dict[str, Any]]) -> None:
        latest: Dict[tuple, Dict[str, Any]] = {}
        for fact in facts:
            row = self._stored(fact["table"], fact["row"])
            if fact["table"] in UPSERT_KEYS:
                latest[(fact["table"], row["key"])] = row  # the last state of each conversation / flow wins
            else:
                conn.execute(INSERTS[fact["table"]].insert().values(**row))
        for (name, key), row in latest.items():
            table = UPSERT_KEYS[name]
            if name == "conversations":
                row.setdefault("day", self.day(row["started_at"]))
            conn.execute(delete(table).where(table.c.key == key))
            conn.execute(table.insert().values(**row))
        for key, state in states.items():
            conn.execute(delete(tables.open_folds).where(tables.open_folds.c.sender_key == key))
            if not state.get("closed"):
                conn.execute(tables.open_folds.insert().values(sender_key=key, state=json.dumps(state),
                                                               last_at=state["last_at"]))

    def _stored(self, table: str, row: Dict[str, Any]) -> Dict[str, Any]:
        row = dict(row)
        if table == "flows":
            row["slots"] = json.dumps(row["slots"], ensure_ascii=False)
            row["day"] = self.day(row["started_at"])
        elif table in INSERTS:
            row["day"] = self.day(row.pop("at"))
            if table == "latency":
                row.pop("conversation", None)
        return row

    # --- the lease ------------------------------------------------------------------------------
    def _take_lease(self) -> bool:
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                if conn.execute(select(tables.progress.c.name).where(tables.progress.c.name == "broker")).first() is None:
                    conn.execute(tables.progress.insert().values(name="broker", last_event_id=0,
                                                                 lease_owner=None, lease_until=0.0))
        except IntegrityError:
            pass  # another replica created the row first
        with self.engine.begin() as conn:
            taken = conn.execute(update(tables.progress).where(
                tables.progress.c.name == "broker",
                (tables.progress.c.lease_until < now) | (tables.progress.c.lease_owner == self.owner))
                .values(lease_owner=self.owner, lease_until=now + LEASE_S))
        return taken.rowcount == 1

    def _release_lease(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(tables.progress).where(tables.progress.c.name == "broker",
                                                       tables.progress.c.lease_owner == self.owner)
                         .values(lease_owner=None, lease_until=0.0))


async def keep_current(consumer: AnalyticsConsumer, every_s: float) -> None:
    """One batch every ``every_s`` until the backlog is read, in a thread (never blocking an event loop)."""
    import asyncio
    import logging

    while True:
        try:
            while await asyncio.to_thread(consumer.update) > 0:
                pass
        except Exception:  # noqa: BLE001 - analytics must never take a server down; retried next period
            logging.getLogger(__name__).exception("analytics update failed")
        await asyncio.sleep(every_s)


def consumer_from_settings(engine: Optional[Engine] = None) -> AnalyticsConsumer:
    from bot.banking.masking import mask_text
    from bot.private_db import private_engine
    from bot.settings import load_settings

    settings = load_settings()
    return AnalyticsConsumer(engine or private_engine(settings.analytics_db_url), settings.analytics_timezone,
                             settings.analytics_idle_close_s, mask_text)
