"""The conversation's recent events, across a session rollover (bot/session_rollover.py).

A long conversation is cut into sessions so a turn's cost stays bounded; the new session's
`session_started` event carries the tail of the old one in its metadata
(``{"rollover": {"carried": [...]}}``). Everything that reads recent history (the dialogue state,
the FAQ clarification's candidates, the handoff reason, a resent message's answers) reads
``recent_events(events)``, which puts that tail back in front, so a rollover changes nothing they see.

Pure Python on event dicts (Rasa's ``as_dict()`` form, which is also what the action server gets).
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

ROLLOVER = "rollover"
CARRIED = "carried"


def rollover_of(event: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    """The rollover metadata of a `session_started` event that began a rolled-over session, else None."""
    if event.get("event") != "session_started":
        return None
    rollover = (event.get("metadata") or {}).get(ROLLOVER)
    return rollover if isinstance(rollover, Mapping) else None


def recent_events(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """`events` with the newest rollover replaced by the tail it carried (the events before it dropped:
    the tail is their end, and a tracker loaded from the store starts at the rollover anyway)."""
    for index in range(len(events) - 1, -1, -1):
        rollover = rollover_of(events[index])
        if rollover is not None:
            carried = [e for e in rollover.get(CARRIED) or [] if isinstance(e, Mapping)]
            return [*carried, *events[index + 1:]]
    return list(events)


def tail_from(events: Sequence[Mapping[str, Any]], start: int) -> list[dict[str, Any]]:
    """The events from `start` on, as carried by the next rollover: never across a real session start,
    and never another rollover's own carried copy (so carried tails do not nest)."""
    tail: list[dict[str, Any]] = []
    for event in events[max(start, 0):]:
        if event.get("event") == "session_started":
            tail = []
            continue
        tail.append(dict(event))
    return tail


def last_bot_event(history: Sequence[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    """The bot's last message in `history` (events before the current customer message), or None when
    the customer spoke after it."""
    for event in reversed(history):
        if event.get("event") == "user":
            return None
        if event.get("event") == "bot":
            return event
    return None


def since_session_start(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events since the last real session start (rollovers are not one): a whole conversation
    as the customer and an agent know it, from a tracker holding all sessions."""
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started" and rollover_of(events[index]) is None:
            return list(events[index:])
    return list(events)
