"""The tracker store's prebuilt event queries read and count exactly what Rasa's own queries do."""
from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import PrivateSQLTrackerStore


def _session(tracker: DialogueStateTracker, texts: list[str], start: float) -> None:
    events = [ActionExecuted("action_session_start", timestamp=start), SessionStarted(timestamp=start),
              ActionExecuted("action_listen", timestamp=start)]
    for offset, text in enumerate(texts, start=1):
        events += [UserUttered(text, timestamp=start + offset), SlotSet("amount", offset, timestamp=start + offset),
                   BotUttered(f"re: {text}", timestamp=start + offset), ActionExecuted("action_listen", timestamp=start + offset)]
    for event in events:
        tracker.update(event)


@pytest.fixture
def store(tmp_path):
    return PrivateSQLTrackerStore(db=str(tmp_path / "trackers.db"), domain=Domain.empty())


def _rasas(store: PrivateSQLTrackerStore, sender: str, all_sessions: bool) -> list[dict]:
    with store.session_scope() as session:
        return [event.data for event in store._event_query(session, sender, all_sessions).all()]


def _ours(store: PrivateSQLTrackerStore, sender: str, all_sessions: bool) -> list[str]:
    statement = store._statements.all_data if all_sessions else store._statements.session_data
    with store.session_scope() as session:
        return [data for (data,) in session.execute(statement, {"sender_id": sender}).all()]


def test_reads_and_counts_equal_rasas_queries_across_sessions_and_senders(store):
    first, other = DialogueStateTracker("alice", []), DialogueStateTracker("bob", [])
    _session(first, ["你好", "查余额"], start=1000.0)
    _session(other, ["转账"], start=1500.0)
    asyncio.run(store.save(first))
    asyncio.run(store.save(other))
    _session(first, ["我要挂失", "6688", "好的"], start=2000.0)  # a second session for alice
    asyncio.run(store.save(first))

    for sender in ("alice", "bob", "nobody"):
        for all_sessions in (False, True):
            assert _ours(store, sender, all_sessions) == _rasas(store, sender, all_sessions)
    assert len(_ours(store, "alice", True)) == len(first.events) == 3 + 2 * 4 + 3 + 3 * 4
    assert len(_ours(store, "alice", False)) == 3 + 3 * 4
    with store.session_scope() as session:
        rasas_count = store._event_query(session, "alice", False).order_by(None).with_entities(
            sa.func.count(store.SQLEvent.id)).scalar()
        assert session.execute(store._statements.session_count, {"sender_id": "alice"}).scalar() == rasas_count == 15


def test_a_saved_tracker_reads_back_whole_and_a_second_save_adds_nothing(store):
    tracker = DialogueStateTracker("carol", [])
    _session(tracker, ["信用卡年费怎么收", "谢谢"], start=3000.0)
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))  # nothing new: nothing stored twice
    store.domain = Domain.from_dict({"slots": {"amount": {"type": "any", "mappings": [{"type": "custom"}]}}})
    read = asyncio.run(store.retrieve("carol"))
    assert [e.as_dict() for e in read.events] == [e.as_dict() for e in tracker.events]
    assert read.get_slot("amount") == 2
