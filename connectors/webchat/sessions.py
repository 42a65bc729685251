"""Who owns a web chat session, and whether it may still be resumed.

A session id is a random 128-bit value the widget keeps in the browser. A session is created
(stored) with its first message, owned by the customer verified on that message or by nobody
(anonymous). A client may resume a session only with the same identity; anonymous sessions
expire (WEBCHAT_ANON_SESSION_TTL_S) so an id copied from a shared computer stops working.
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine

from connectors.store import default_engine, webchat_sessions

SESSION_ID = re.compile(r"[0-9a-f]{32}")


def new_session_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class SessionRecord:
    session_id: str
    owner: Optional[str]
    created_at: Optional[float]  # None: issued to a client, not stored until its first message


class SessionBook:
    """The webchat_sessions table (connectors/store.py), with the expiry rule for anonymous sessions."""

    def __init__(self, engine: Optional[Engine] = None, anon_ttl_s: float = 24 * 3600.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine or default_engine()
        self.anon_ttl_s = anon_ttl_s
        self.clock = clock

    def find(self, session_id: object) -> Optional[SessionRecord]:
        """The stored session, or None when the id is malformed or unknown."""
        if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(webchat_sessions.c.customer_id, webchat_sessions.c.created_at)
                               .where(webchat_sessions.c.session_id == session_id)).first()
        return SessionRecord(session_id, row[0], float(row[1])) if row else None

    def expired(self, record: SessionRecord) -> bool:
        """Anonymous sessions expire; a customer's session is guarded by the customer's token."""
        if record.owner is not None or record.created_at is None:
            return False
        return self.clock() - record.created_at > self.anon_ttl_s

    def create(self, session_id: str, owner: Optional[str]) -> SessionRecord:
        created = self.clock()
        with self.engine.begin() as conn:
            conn.execute(webchat_sessions.insert().values(session_id=session_id, customer_id=owner,
                                                          created_at=created))
        return SessionRecord(session_id, owner, created)
