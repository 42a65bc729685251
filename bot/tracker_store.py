"""Rasa's SQL tracker store, made private: owner-only SQLite file, bound values hidden in errors.

The tracker store holds every conversation. Rasa's own SQLTrackerStore creates its engine
without ``hide_parameters``, so a failed INSERT would put a customer's message into the error
(and a log line); and SQLite would create the file with the process umask. This subclass
(``type: bot.tracker_store.PrivateSQLTrackerStore`` in bot/endpoints.yml) fixes both and is
otherwise Rasa's store: same tables, same settings, PostgreSQL works the same way. A SQLite
file is put in write-ahead-log mode, so concurrent turns do not serialise on its lock.

Reads and writes run on worker threads, not on the Rasa server's event loop. SQLite takes one
writer at a time and makes the others sleep in its busy handler, so a SQLite store writes from a
single thread of its own; PostgreSQL writes from the shared pool.
"""
from __future__ import annotations

import asyncio
import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator, Optional, Text

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.private_db import private_engine, private_file


class PrivateSQLTrackerStore(SQLTrackerStore):
    def __init__(self, dialect: Text = "sqlite", host: Optional[Text] = None, db: Text = "rasa.db",
                 **kwargs: Any) -> None:
        if dialect == "sqlite" and not host and db and db != ":memory:":
            private_file(Path(db).expanduser())
        super().__init__(dialect=dialect, host=host, db=db, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        # pre-ping: after a database restart a pooled connection is replaced instead of failing a turn
        self.engine = private_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self._writer: Optional[ThreadPoolExecutor] = None  # None: the loop's shared pool (PostgreSQL)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _write_ahead_log)
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="tracker-writer")  # SQLite: one writer
        self.sessionmaker = sessionmaker(bind=self.engine)
        self._statements = _EventStatements(self.SQLEvent.__table__)

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        """Read on a worker thread: a synchronous query on the Rasa server's event loop stalls every
        other conversation while it waits for the database."""
        return await asyncio.to_thread(self._read_tracker, sender_id, fetch_events_from_all_sessions)

    def _read_tracker(self, sender_id: Text, fetch_events_from_all_sessions: bool
                      ) -> Optional[DialogueStateTracker]:
        """Rasa's own query, but reading only the `data` column: building an ORM object per stored
        event was ~15 % of a turn late in a long conversation (benchmarks/long_conversation.py)."""
        statement = self._statements.all_data if fetch_events_from_all_sessions else self._statements.session_data
        with self.session_scope() as session:
            rows = session.execute(statement, {"sender_id": sender_id}).all()
        events = [json.loads(data) for (data,) in rows]
        if not (self.domain and events):
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save, with the database work on a worker thread and one COUNT query instead of two
        (Rasa counts the stored events again to stream them). New events go to the event broker
        after they are committed, so a failed save publishes nothing."""
        stored = await asyncio.get_running_loop().run_in_executor(self._writer, self._store_new_events, tracker)
        if self.event_broker is not None:
            for data in stored:
                self.event_broker.publish({"sender_id": tracker.sender_id, **data})

    def _store_new_events(self, tracker: DialogueStateTracker) -> list[dict[str, Any]]:
        with self.session_scope() as session:
            stored = [event.as_dict() for event in self._additional_events(session, tracker)]
            if stored:
                rows = [_event_row(tracker, data) for data in stored]
                session.execute(sa.insert(self.SQLEvent.__table__), rows)
            session.commit()
        return stored

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The tracker's events not stored yet: Rasa's count of the stored ones, as one COUNT query
        (its ORM ``Query.count()`` wraps the whole event query in a subquery)."""
        stored = session.execute(self._statements.session_count, {"sender_id": tracker.sender_id}).scalar()
        return itertools.islice(tracker.events, stored, len(tracker.events))


class _EventStatements:
    """Rasa's event queries (``SQLTrackerStore._event_query``: the latest session is the events from
    the latest `session_started` on, by timestamp; ordered by id) built once, as Core statements
    with the sender bound at execution. Rasa builds an ORM query per call, and SQLAlchemy then
    spends ~0.6 ms in Python composing and keying it: under 20 concurrent users the read and the
    count were ~5 % of the Rasa server's GIL time; these take ~0.1 ms."""

    def __init__(self, events: sa.Table) -> None:
        sender = events.c.sender_id == sa.bindparam("sender_id")
        session_start = sa.select(sa.func.max(events.c.timestamp)).where(
            sender, events.c.type_name == SessionStarted.type_name).scalar_subquery()
        latest_session = sa.and_(sender, sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
        self.session_data = sa.select(events.c.data).where(latest_session).order_by(events.c.id)
        self.all_data = sa.select(events.c.data).where(sender).order_by(events.c.id)
        self.session_count = sa.select(sa.func.count(events.c.id)).where(latest_session)


def _event_row(tracker: DialogueStateTracker, data: dict[str, Any]) -> dict[str, Any]:
    """The columns Rasa's save writes for one event."""
    return {"sender_id": tracker.sender_id, "type_name": data.get("event"),
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": data.get("name"), "data": json.dumps(data)}


def _write_ahead_log(connection: Any, _record: Any) -> None:
    """SQLite in WAL mode: a turn's read of its tracker does not wait for another turn's write, and a
    commit appends to the log instead of rewriting pages (durability unchanged: synchronous stays FULL)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
