"""The action server's side of the human handoff: ask the agent desk to queue this conversation."""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

import requests
from rasa_sdk import Tracker

from bot.dialogue.history import recent_events
from bot.identity import channel_of
from bot.settings import load_desk_settings

log = logging.getLogger(__name__)
TIMEOUT_S = 3.0
# Which bot actions before "转人工" tell us why the customer wants a person.
REASON_BY_ACTION = {"action_submit_complaint": "complaint", "action_fraud_report": "fraud_report",
                    "utter_offer_human": "fallback"}


def handoff_reason(tracker: Tracker) -> Text:
    """What the bot did just before the customer asked for a person (this turn or the one before)."""
    users_seen = 0
    for event in reversed(recent_events(tracker.events)):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                break
        elif event.get("event") == "action" and event.get("name") in REASON_BY_ACTION:
            return REASON_BY_ACTION[event["name"]]
    return "request_human"


def request_handoff(tracker: Tracker, reason: Text, priority: Text,
                    customer: Optional[Text]) -> Optional[Dict[Text, Any]]:
    """The desk's answer ({"status": "queued" | "leave_message", ...}) or None if it is unreachable."""
    settings = load_desk_settings()
    # The conversation's namespace names its channel; a client cannot choose it (docs/security.md).
    body = {"sender_id": tracker.sender_id, "channel": channel_of(tracker.sender_id) or "rest",
            "reason": reason, "priority": priority, "customer_id": customer}
    try:
        response = requests.post(f"{settings.desk_url}/agent/internal/handoff", json=body, timeout=TIMEOUT_S,
                                 headers={"Authorization": f"Bearer {settings.service_token}"})
        response.raise_for_status()
        answer = response.json()
    except (requests.RequestException, ValueError) as exc:
        log.warning("agent desk unreachable (%s); leaving a message instead", type(exc).__name__)
        return None
    return answer if isinstance(answer, dict) and answer.get("status") in {"queued", "leave_message"} else None
