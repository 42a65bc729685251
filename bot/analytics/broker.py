"""Rasa's SQL event broker, made private like the tracker store and kept off the turn's path.

The broker table holds every event of every conversation until the analytics consumer has folded
it, so its SQLite file is owner-only and errors carry no bound values (bot/private_db.py).

Rasa publishes each event synchronously, inside the turn, and its SQL broker commits each one in
its own session: under 20 concurrent users that cost ~20 % of our throughput (benchmarks/load.py).
Here ``publish`` only queues the event; one writer thread inserts what has queued up in one
transaction. A crash of the process loses the events still queued (milliseconds' worth) from
analytics only: the conversation itself is in the tracker store. While the database is down, the
writer retries every RETRY_S and keeps at most MAX_QUEUED events.
"""
from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.orm import sessionmaker

from bot.private_db import private_engine

log = logging.getLogger(__name__)
BATCH = 500
MAX_QUEUED = 200_000
RETRY_S = 1.0


class PrivateSQLEventBroker(SQLEventBroker):
    def __init__(self, dialect: Text = "sqlite", host: Optional[Text] = None, port: Optional[int] = None,
                 db: Text = "events.db", username: Optional[Text] = None, password: Optional[Text] = None) -> None:
        url = SQLTrackerStore.get_db_url(dialect, host, port, db, username, password)
        self.engine = private_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _append_only_log)
        self.Base.metadata.create_all(self.engine)
        self.sessionmaker = sessionmaker(bind=self.engine)
        self.dropped = 0
        self._queue: "queue.Queue[Dict[Text, Any]]" = queue.Queue()
        threading.Thread(target=self._write_forever, name="event-broker-writer", daemon=True).start()

    def publish(self, event: Dict[Text, Any]) -> None:
        if self._queue.qsize() >= MAX_QUEUED:
            self.dropped += 1
            if self.dropped % 10_000 == 1:
                log.error("event broker: database unreachable, %d analytics events dropped so far", self.dropped)
            return
        self._queue.put(event)

    def flush(self) -> None:
        """Wait until every queued event is written (shutdown, tests)."""
        self._queue.join()

    async def close(self) -> None:
        await asyncio.to_thread(self.flush)

    def _write_forever(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)
            for _ in batch:
                self._queue.task_done()

    def _write(self, batch: List[Dict[Text, Any]]) -> None:
        rows = [{"sender_id": event.get("sender_id"), "data": json.dumps(event)} for event in batch]
        table = self.SQLBrokerEvent.__table__
        while True:
            try:
                with self.engine.begin() as conn:
                    conn.execute(table.insert(), rows)
                return
            except sa.exc.SQLAlchemyError:
                log.warning("event broker: could not write %d events; retrying in %.0f s", len(rows), RETRY_S)
                time.sleep(RETRY_S)


def _append_only_log(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
