"""The action server's request: past messages without their knowledge-base assessment (bot/action_payload.py)."""
from __future__ import annotations

import json

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from bot import action_payload

KB = {"decision": "answer", "confidence": 0.97, "hits": [{"faq_id": "card_annual_fee", "text": "年费" * 200}]}


def _user(text: str, kb: dict | None = KB) -> UserUttered:
    parse = {"intent": {"name": "faq", "confidence": 0.9}, "entities": [], "text": text}
    if kb is not None:
        parse["kb"] = kb
    return UserUttered(text, intent=parse["intent"], parse_data=parse)


def _tracker() -> DialogueStateTracker:
    events = [ActionExecuted("action_listen"), _user("信用卡年费多少"), BotUttered("……"),
              ActionExecuted("action_listen"), _user("借记卡呢"), ActionExecuted("action_answer_faq"),
              ActionExecuted("action_listen"), _user("挂失收费吗")]
    return DialogueStateTracker.from_events("c1", events)


def test_only_the_newest_user_event_keeps_its_assessment():
    events = _tracker().current_state(EventVerbosity.ALL)["events"]
    trimmed = action_payload.trimmed_events(events)
    users = [e for e in trimmed if e["event"] == "user"]
    assert [("kb" in e["parse_data"]) for e in users] == [False, False, True]
    assert [e["parse_data"]["intent"] for e in users] == [e["parse_data"]["intent"] for e in events
                                                          if e["event"] == "user"]
    others = [e for e in trimmed if e["event"] != "user"]
    assert others == [e for e in events if e["event"] != "user"]
    assert all("kb" in e["parse_data"] for e in events if e["event"] == "user")  # the input is not changed


def test_events_without_an_assessment_are_passed_through_as_they_are():
    events = [{"event": "user", "text": "hi", "parse_data": {"text": "hi"}}, {"event": "user", "text": "x"},
              {"event": "user", "text": "y", "parse_data": "odd"}, {"event": "bot", "text": "…"}]
    assert action_payload.trimmed_events(events) == events
    assert action_payload.trimmed_events([]) == []


def test_the_request_rasa_sends_is_trimmed_and_latest_message_stays_whole():
    action_payload.install()
    action_payload.install()  # idempotent
    domain = Domain.from_dict({"actions": ["action_answer_faq"]})
    tracker = _tracker()
    action = RemoteAction("action_answer_faq", EndpointConfig("http://127.0.0.1:1/webhook"))
    payload = action._action_call_format(tracker, domain)
    users = [e for e in payload["tracker"]["events"] if e["event"] == "user"]
    assert ["kb" in e["parse_data"] for e in users] == [False, False, True]
    assert payload["tracker"]["latest_message"]["kb"] == KB
    assert payload["next_action"] == "action_answer_faq" and payload["sender_id"] == "c1"
    whole = tracker.current_state(EventVerbosity.ALL)
    assert len(json.dumps(whole)) - len(json.dumps(payload["tracker"])) >= 2 * len(json.dumps(KB))
    assert all("kb" in e.parse_data for e in tracker.events if isinstance(e, UserUttered))  # the tracker kept it
