"""Rasa's SQL tracker store, made private: owner-only SQLite file, bound values hidden in errors.

The tracker store holds every conversation. Rasa's own SQLTrackerStore creates its engine
without ``hide_parameters``, so a failed INSERT would put a customer's message into the error
(and a log line); and SQLite would create the file with the process umask. This subclass
(``type: bot.tracker_store.PrivateSQLTrackerStore`` in bot/endpoints.yml) fixes both and is
otherwise Rasa's store: same tables, same settings, PostgreSQL works the same way. A SQLite
file is put in write-ahead-log mode, so concurrent turns do not serialise on its lock.
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, Iterator, Optional, Text

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
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
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _write_ahead_log)
        self.sessionmaker = sessionmaker(bind=self.engine)

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        """Rasa's own query, but reading only the `data` column: building an ORM object per stored
        event was ~15 % of a turn late in a long conversation (benchmarks/long_conversation.py)."""
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
                                     ).with_entities(self.SQLEvent.data).all()
        events = [json.loads(data) for (data,) in rows]
        if not (self.domain and events):
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """The new events to the event broker, found by the same COUNT query as the save: Rasa's own
        reloads the whole stored tracker before every save to tell what is new."""
        if self.event_broker is None:
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The tracker's events not stored yet: Rasa's count of the stored ones, as one COUNT query
        (its ORM ``Query.count()`` wraps the whole event query in a subquery)."""
        stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False
                                   ).order_by(None).with_entities(sa.func.count(self.SQLEvent.id)).scalar()
        return itertools.islice(tracker.events, stored, len(tracker.events))


def _write_ahead_log(connection: Any, _record: Any) -> None:
    """SQLite in WAL mode: a turn's read of its tracker does not wait for another turn's write, and a
    commit appends to the log instead of rewriting pages (durability unchanged: synchronous stays FULL)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
