"""A long conversation rolls into a new session without changing what the bot reads (bot/session_rollover.py).
The end-to-end check over a real server is in tests/integration/test_rest_roundtrip.py."""
from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered, ConversationPaused, Event, SessionStarted,
                                     SlotSet, UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.history import recent_events, since_session_start
from bot.dialogue.state import dialogue_state
from bot.idempotent_turns import earlier_turn
from bot.session_rollover import (_rolling_over, conversation_events, rollover_due, rollover_events,
                                  session_turns)
from bot.settings import REPO_ROOT
from bot.tracker_store import PrivateSQLTrackerStore

DOMAIN = Domain.load(str(REPO_ROOT / "bot" / "domain"))
BUTTONS = {"buttons": [{"title": "上海浦东支行", "payload": '/inform{"branch_id": "SH01"}'},
                       {"title": "上海徐汇支行", "payload": '/inform{"branch_id": "SH02"}'}]}


def small_talk(n: int, start: int = 0) -> list[Event]:
    events: list[Event] = []
    for i in range(start, start + n):
        events += [UserUttered(f"你好{i}", {"name": "greet"}, metadata={"message_id": f"m-{i}"}),
                   ActionExecuted("utter_greet"), BotUttered(f"您好{i}"), ActionExecuted("action_listen")]
    return events


def exchange_rate_then_buttons() -> list[Event]:
    """A task that just ended (exchange rate, USD) and a reply offering two branches as buttons."""
    return [UserUttered("美元汇率", {"name": "exchange_rate"}, [{"entity": "currency", "value": "USD"}]),
            ActionExecuted("action_start_task"), SlotSet("currency", "USD"), ActionExecuted("action_exchange_rate"),
            BotUttered("美元 7.1"), ActionExecuted("action_listen"),
            UserUttered("上海的网点", {"name": "find_branch"}), ActionExecuted("utter_which_branch"),
            BotUttered("哪一家？", BUTTONS), ActionExecuted("action_listen")]


def tracker_of(events: list[Event]) -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"), *events]
    for event in events:  # in the order they happened: Rasa's SQL store finds a session's start by its timestamp
        event.timestamp = time.time()
    return DialogueStateTracker.from_events("rest:c1", events, DOMAIN.slots)


def next_turn_state(tracker: DialogueStateTracker):
    """The state the next customer message ("第二个") is read against."""
    events = [e.as_dict() for e in tracker.events] + [{"event": "user", "text": "第二个", "parse_data": {}}]
    return dialogue_state(events, tracker.current_slot_values(), tracker.active_loop_name)


def rolled(tracker: DialogueStateTracker) -> DialogueStateTracker:
    copy = tracker.copy()
    copy.update_with_events(rollover_events(copy), DOMAIN)
    return copy


def test_a_session_rolls_over_after_enough_turns_only_outside_forms_questions_and_handoffs():
    tracker = tracker_of(small_talk(4))
    assert session_turns(tracker) == 4
    assert rollover_due(tracker, 4) and not rollover_due(tracker, 5) and not rollover_due(tracker, 0)
    in_form = tracker.copy()
    in_form.update_with_events([ActiveLoop("transfer_form")], DOMAIN)
    asking = tracker.copy()
    asking.update_with_events([SlotSet("requested_slot", "amount")], DOMAIN)
    paused = tracker.copy()
    paused.update_with_events([ConversationPaused()], DOMAIN)
    assert not any(rollover_due(t, 4) for t in (in_form, asking, paused))
    assert session_turns(rolled(tracker)) == 0


def test_the_rollover_changes_nothing_the_next_turn_reads():
    tracker = tracker_of(small_talk(5) + exchange_rate_then_buttons())
    tracker.update_with_events([SlotSet("language", "zh"), SlotSet("card_last4", "6688")], DOMAIN)
    after = rolled(tracker)
    assert after.current_slot_values() == tracker.current_slot_values()
    before_state, after_state = next_turn_state(tracker), next_turn_state(after)
    assert after_state == before_state
    assert [c.title for c in after_state.choices] == ["上海浦东支行", "上海徐汇支行"]
    assert after_state.last_task.intent == "exchange_rate" and after_state.last_task.values == {"currency": "USD"}
    assert after_state.last_card == "6688"


def test_carried_turns_are_bounded_and_never_nest():
    tracker = tracker_of(small_talk(30))
    for round_ in range(3):
        tracker.update_with_events(rollover_events(tracker) + small_talk(30, start=100 * (round_ + 1)), DOMAIN)
    [*_, last] = [e for e in tracker.events if isinstance(e, SessionStarted)]
    carried = last.metadata["rollover"]["carried"]
    assert sum(e["event"] == "user" for e in carried) == 3
    assert not any(e["event"] == "session_started" for e in carried)


def test_a_resent_message_from_before_the_rollover_is_still_one_turn():
    tracker = rolled(tracker_of(small_talk(6)))
    user, replies = earlier_turn(tracker, "m-5")
    assert user.text == "你好5" and [r.text for r in replies] == ["您好5"]


def test_recent_history_across_a_rollover_is_the_carried_tail_then_the_new_session():
    events = [{"event": "user", "text": "a"}, {"event": "session_started",
              "metadata": {"rollover": {"carried": [{"event": "user", "text": "b"}]}}}, {"event": "user", "text": "c"}]
    assert [e["text"] for e in recent_events(events)] == ["b", "c"]
    assert recent_events(events[2:]) == events[2:]
    assert since_session_start([{"event": "session_started"}, *events]) == [{"event": "session_started"}, *events]


def test_the_processor_hook_rolls_over_once_the_session_is_long_enough():
    calls = []

    async def rasa_update(processor, tracker, output_channel, metadata=None):
        calls.append(tracker.sender_id)

    hook = _rolling_over(rasa_update, turns=4)
    processor = SimpleNamespace(domain=DOMAIN)
    short, long = tracker_of(small_talk(3)), tracker_of(small_talk(4))
    asyncio.run(hook(processor, short, None))
    asyncio.run(hook(processor, long, None))
    assert len(calls) == 2
    assert not any(isinstance(e, SessionStarted) and e.metadata for e in short.events)
    assert [e for e in long.events if isinstance(e, SessionStarted)][-1].metadata["rollover"]["carried"]


@pytest.fixture
def store(tmp_path):
    return PrivateSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))


def test_stored_rollover_reads_back_and_people_still_see_the_whole_conversation(store):
    tracker = tracker_of(small_talk(5) + exchange_rate_then_buttons())
    asyncio.run(store.save(tracker))
    tracker = asyncio.run(store.retrieve("rest:c1"))
    tracker.update_with_events(rollover_events(tracker) + small_talk(1, start=50), DOMAIN)
    asyncio.run(store.save(tracker))

    loaded = asyncio.run(store.retrieve("rest:c1"))
    assert isinstance(loaded.events[0], SessionStarted) and loaded.events[0].metadata["rollover"]["carried"]
    assert session_turns(loaded) == 1 and loaded.get_slot("currency") == "USD"
    said = [e["text"] for e in asyncio.run(conversation_events(store, "rest:c1")) if e["event"] == "user"]
    assert said == [f"你好{i}" for i in range(5)] + ["美元汇率", "上海的网点", "你好50"]
