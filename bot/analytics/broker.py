"""Rasa's SQL event broker, made private like the tracker store (bot/tracker_store.py).

The broker table holds every event of every conversation, so its SQLite file is owner-only and
errors carry no bound values. Rasa publishes synchronously inside a turn, one commit per event:
SQLite runs in write-ahead-log mode with ``synchronous=NORMAL`` (a commit is an append, without an
fsync each; a crash of the process loses nothing, a power cut at most the last moments of
analytics, never a conversation, which the tracker store holds).
"""
from __future__ import annotations

from typing import Any, Optional, Text

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.orm import sessionmaker

from bot.private_db import private_engine


class PrivateSQLEventBroker(SQLEventBroker):
    def __init__(self, dialect: Text = "sqlite", host: Optional[Text] = None, port: Optional[int] = None,
                 db: Text = "events.db", username: Optional[Text] = None, password: Optional[Text] = None) -> None:
        url = SQLTrackerStore.get_db_url(dialect, host, port, db, username, password)
        self.engine = private_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _append_only_log)
        self.Base.metadata.create_all(self.engine)
        self.sessionmaker = sessionmaker(bind=self.engine)


def _append_only_log(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
