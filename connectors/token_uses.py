"""A customer token works in one conversation only: its `jti` is bound to the first one it opens.

A token copied out of one conversation (a shared screen, a leaked log, a proxy) and replayed into
another — another REST sender, another web chat session — names nobody there. Kept in SQL (the
connector database) until the token expires, so every replica and a restart see the same binding.
"""
from __future__ import annotations

import time
from typing import Optional

from sqlalchemy import Column, Float, String, Table, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.identity import VerifiedCustomer
from connectors.store import PURGE_EVERY_S, PurgeSchedule, default_engine, metadata

token_uses = Table(
    "token_uses", metadata,
    Column("jti", String(128), primary_key=True),
    Column("conversation_id", String(200), nullable=False),
    Column("expires_at", Float, nullable=False),
)



class TokenUses:
    def __init__(self, engine: Optional[Engine] = None, purge_every_s: float = PURGE_EVERY_S) -> None:
        self.engine = engine or default_engine()
        token_uses.create(self.engine, checkfirst=True)
        self.purges = PurgeSchedule(purge_every_s)

    def _purge_expired(self) -> None:
        """At most once a minute: a DELETE per message was a write transaction on every turn."""
        now = time.time()
        if self.purges.due(now):
            with self.engine.begin() as conn:
                conn.execute(delete(token_uses).where(token_uses.c.expires_at < now))

    def for_conversation(self, token: Optional[VerifiedCustomer], conversation_id: str
                         ) -> Optional[VerifiedCustomer]:
        """The verified token if it may act in `conversation_id` (unused, or bound there), else None."""
        return token if token is not None and self.claim(token, conversation_id) else None

    def claim(self, token: VerifiedCustomer, conversation_id: str) -> bool:
        """True when the token is unused or already bound to `conversation_id`."""
        self._purge_expired()
        with self.engine.connect() as conn:
            bound = conn.execute(select(token_uses.c.conversation_id)
                                 .where(token_uses.c.jti == token.jti)).scalar_one_or_none()
        if bound is not None:
            return bound == conversation_id
        try:
            with self.engine.begin() as conn:
                conn.execute(token_uses.insert().values(jti=token.jti, conversation_id=conversation_id,
                                                        expires_at=float(token.expires_at)))
            return True
        except IntegrityError:  # another request bound it first
            with self.engine.connect() as conn:
                return conn.execute(select(token_uses.c.conversation_id)
                                    .where(token_uses.c.jti == token.jti)).scalar_one() == conversation_id
