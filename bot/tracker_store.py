"""Rasa's SQL tracker store, made private: owner-only SQLite file, bound values hidden in errors.

The tracker store holds every conversation. Rasa's own SQLTrackerStore creates its engine
without ``hide_parameters``, so a failed INSERT would put a customer's message into the error
(and a log line); and SQLite would create the file with the process umask. This subclass
(``type: bot.tracker_store.PrivateSQLTrackerStore`` in bot/endpoints.yml) fixes both and is
otherwise Rasa's store: same tables, same settings, PostgreSQL works the same way. A SQLite
file is put in write-ahead-log mode, so concurrent turns do not serialise on its lock.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Text

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs

from bot.private_db import private_file


class PrivateSQLTrackerStore(SQLTrackerStore):
    def __init__(self, dialect: Text = "sqlite", host: Optional[Text] = None, db: Text = "rasa.db",
                 **kwargs: Any) -> None:
        if dialect == "sqlite" and not host and db and db != ":memory:":
            private_file(Path(db).expanduser())
        super().__init__(dialect=dialect, host=host, db=db, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, hide_parameters=True, **create_engine_kwargs(url))
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _write_ahead_log)
        self.sessionmaker = sessionmaker(bind=self.engine)


def _write_ahead_log(connection: Any, _record: Any) -> None:
    """SQLite in WAL mode: a turn's read of its tracker does not wait for another turn's write, and a
    commit appends to the log instead of rewriting pages (durability unchanged: synchronous stays FULL)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
