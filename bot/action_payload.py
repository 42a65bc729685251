"""A smaller request to the action server: past messages go without their knowledge-base assessment.

Rasa sends the whole tracker (every event, `EventVerbosity.ALL`) with every call to the action
server, several calls a turn. Each user event carries its parse, and our parse carries the
knowledge base's assessment (`kb`: hits with their texts, the document answer): about 5.7 KB of a
user event's 6.8 KB. Ten turns into a conversation a call was 98 KB of JSON, and encoding it was
7.7 % of the Rasa server's GIL time under 20 concurrent users (py-spy, docs/serving.md).

Actions read the assessment of the current message only (`tracker.latest_message["kb"]`, which is
sent whole); the dialogue policy that reads past turns runs in the Rasa server, on the full
tracker. So every user event but the newest goes without `kb`. The tracker Rasa keeps and stores is
untouched: only the copy sent over HTTP is trimmed.

`install()` wraps `RemoteAction._action_call_format`; installed when the Rasa server loads our
policy (bot/dialogue/policy.py).
"""
from __future__ import annotations

from typing import Any, Dict, List

from bot.nlu.kb_retrieval import KB_KEY

_MARK = "_installed_by_action_payload"
TURN_ONLY_PARSE_KEYS = frozenset({KB_KEY})  # read by the actions of the current turn only


def trimmed_events(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """`events` with every user event but the newest stripped of the turn-only parse keys."""
    newest = max((i for i, event in enumerate(events) if event.get("event") == "user"), default=-1)
    return [_without_turn_only_keys(event) if event.get("event") == "user" and i != newest else event
            for i, event in enumerate(events)]


def _without_turn_only_keys(event: Dict[str, Any]) -> Dict[str, Any]:
    parse = event.get("parse_data")
    if not isinstance(parse, dict) or TURN_ONLY_PARSE_KEYS.isdisjoint(parse):
        return event
    return {**event, "parse_data": {k: v for k, v in parse.items() if k not in TURN_ONLY_PARSE_KEYS}}


def install() -> None:
    """Idempotent; a no-op if Rasa no longer has `RemoteAction._action_call_format`."""
    from rasa.core.actions.action import RemoteAction

    rasas = getattr(RemoteAction, "_action_call_format", None)
    if rasas is None or getattr(rasas, _MARK, False):
        return

    def _action_call_format(self: Any, tracker: Any, domain: Any) -> Dict[str, Any]:
        payload = rasas(self, tracker, domain)
        state = payload.get("tracker")
        if isinstance(state, dict) and isinstance(state.get("events"), list):
            payload["tracker"] = {**state, "events": trimmed_events(state["events"])}
        return payload

    setattr(_action_call_format, _MARK, True)
    RemoteAction._action_call_format = _action_call_format
