"""A failing conversation store stops the turn instead of Rasa's silent in-memory fallback
(bot/store_outage.py)."""
from __future__ import annotations

import asyncio

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import OperationalError

from bot import store_outage


class DownStore(InMemoryTrackerStore):
    async def retrieve(self, sender_id):
        raise OperationalError("SELECT", {}, ConnectionRefusedError("database is down"))

    async def retrieve_full_tracker(self, sender_id):
        return await self.retrieve(sender_id)

    async def save(self, tracker):
        raise OperationalError("INSERT", {}, ConnectionRefusedError("database is down"))


def test_a_down_store_raises_and_nothing_goes_to_the_memory_fallback():
    store_outage.install()
    store_outage.install()  # idempotent
    fallback = InMemoryTrackerStore(Domain.empty())
    wrapped = FailSafeTrackerStore(DownStore(Domain.empty()), fallback_tracker_store=fallback)
    with pytest.raises(OperationalError):
        asyncio.run(wrapped.retrieve("rest:a"))
    with pytest.raises(OperationalError):
        asyncio.run(wrapped.retrieve_full_tracker("rest:a"))
    with pytest.raises(OperationalError):
        asyncio.run(wrapped.save(DialogueStateTracker("rest:a", [])))
    assert list(asyncio.run(fallback.keys())) == []


def test_a_working_store_is_used_as_before():
    store_outage.install()
    inner = InMemoryTrackerStore(Domain.empty())
    wrapped = FailSafeTrackerStore(inner)
    asyncio.run(wrapped.save(DialogueStateTracker("rest:b", [])))
    assert asyncio.run(wrapped.retrieve("rest:b")).sender_id == "rest:b"
