"""What the widget shows after a reload: the visible turns of a conversation's tracker."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List

MAX_HISTORY = 200


def visible_turns(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """User and bot messages as the widget renders them (newest last)."""
    turns: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user" and event.get("text") and not str(event["text"]).startswith("/"):
            turns.append({"sender": "user", "text": event["text"]})
        elif kind == "bot" and (event.get("text") or (event.get("data") or {}).get("buttons")):
            data = event.get("data") or {}
            turn: Dict[str, Any] = {"sender": "bot", "text": event.get("text") or ""}
            if data.get("buttons"):
                turn["buttons"] = [{"title": b.get("title"), "payload": b.get("payload")} for b in data["buttons"]]
            metadata = event.get("metadata") or {}
            if metadata.get("agent"):
                turn["agent"] = metadata["agent"]
            elif metadata.get("desk_notice"):  # "人工客服 … 已接入" and the like: shown as notices
                turn["notice"] = True
            turns.append(turn)
    return turns[-MAX_HISTORY:]
