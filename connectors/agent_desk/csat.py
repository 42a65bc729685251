"""Satisfaction after a human conversation: the customer is asked for 1–5, their next digit answers.

The open question is a row in the connector database (desk_csat_requests), not process memory: the
answer may reach another replica than the one that asked, or arrive after a restart. A question
left unanswered for `window_s` lapses, so a "5" sent days later is an ordinary message again.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

from sqlalchemy import Column, Float, String, Table, and_, delete
from sqlalchemy.engine import Engine

from connectors.agent_desk.store import DeskStore
from connectors.store import metadata, upsert

CSAT_QUESTION = "本次人工服务已结束。请为本次服务打分：回复 1-5（5 分为非常满意）。"
CSAT_THANKS = "感谢您的评价！如还有其他问题，请随时告诉我。"
SCORES = {"1", "2", "3", "4", "5"}
ANSWER_WINDOW_S = 3600.0

csat_requests = Table(
    "desk_csat_requests", metadata,
    Column("sender_id", String(128), primary_key=True),
    Column("asked_at", Float, nullable=False, index=True),
)


class CsatSurvey:
    def __init__(self, store: DeskStore, engine: Optional[Engine] = None, window_s: float = ANSWER_WINDOW_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.engine = engine or store.engine
        csat_requests.create(self.engine, checkfirst=True)
        self.window_s = window_s
        self.clock = clock

    def ask(self, sender_id: str) -> None:
        with self.engine.begin() as conn:
            upsert(conn, csat_requests, {"sender_id": sender_id, "asked_at": self.clock()}, ["sender_id"])

    def answer(self, sender_id: str, text: str) -> bool:
        """True when `text` answered an open question (the score is recorded); any other text is not touched.

        Deleting the question and counting the row is atomic, so two replicas never record one answer twice.
        """
        score = text.strip()
        if score not in SCORES:
            return False  # the common case costs no database round trip
        with self.engine.begin() as conn:
            taken = conn.execute(delete(csat_requests).where(and_(
                csat_requests.c.sender_id == sender_id,
                csat_requests.c.asked_at >= self.clock() - self.window_s))).rowcount
        return taken == 1 and self.store.record_csat(sender_id, int(score))

    def purge_lapsed(self) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(csat_requests).where(
                csat_requests.c.asked_at < self.clock() - self.window_s)).rowcount
