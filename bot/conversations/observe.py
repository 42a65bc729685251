"""What the assistant did in one turn, from its REST replies and the tracker after the turn.

Where things sit (Rasa 3.6, custom actions through rasa_sdk): keyword arguments of
``dispatcher.utter_message(text=..., faq_id=..., handoff=...)`` that are not text, buttons,
image, elements, quick_replies, attachment or custom become the bot event's ``metadata`` in the
tracker; ``custom=...`` becomes ``data.custom``. The REST channel only sends text, buttons,
image, attachment and custom, so provenance (faq_id) and handoff details are read from the
tracker's bot events of the turn (those after the latest user event).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.flows import TASK_ENTRY

# form name -> the task intent that starts it (actions that are not forms never hold a loop)
FORM_TO_FLOW: dict[str, str] = {entry: intent for intent, entry in TASK_ENTRY.items()}
FAQ_KEY = "faq_id"
HANDOFF_KEY = "handoff"
SEAL_KEY = "verified_identity"  # bot.identity.IDENTITY_METADATA_KEY: the channel's seal on a user event


@dataclass
class Observation:
    """The state after a turn, in the terms of a turn's `expect` keys."""

    flow: str | None = None
    asks: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    faq_ids: list[str] = field(default_factory=list)
    handoff: bool = False
    buttons: bool = False
    texts: list[str] = field(default_factory=list)
    paused: bool = False
    customer: str | None = None  # whom the channel verified on this turn's message (None: anonymous)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sealed_customer(events: Iterable[Mapping[str, Any]]) -> str | None:
    """The customer id the channel sealed onto the latest user event (not verified here)."""
    for event in reversed(list(events)):
        if event.get("event") == "user":
            seal = (event.get("metadata") or {}).get(SEAL_KEY)
            return seal.get("customer_id") if isinstance(seal, Mapping) else None
    return None


def turn_bot_events(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The bot events after the latest user event (this turn's answers)."""
    events = list(events)
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            events = events[index + 1:]
            break
    return [e for e in events if e.get("event") == "bot"]


def _custom_parts(event_or_reply: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The places custom data can sit: bot event metadata / data.custom, a reply's custom."""
    data = event_or_reply.get("data")
    parts = [event_or_reply.get("metadata"), event_or_reply.get("custom"),
             data.get("custom") if isinstance(data, Mapping) else None]
    return [p for p in parts if isinstance(p, Mapping)]


def _carried(items: Iterable[Mapping[str, Any]], key: str) -> list[Any]:
    return [part[key] for item in items for part in _custom_parts(item) if part.get(key)]


def flow_of(tracker: Mapping[str, Any]) -> str | None:
    """The task intent of the tracker's active form (an unknown form's own name), or None."""
    loop = tracker.get("active_loop") or {}
    name = loop.get("name") if isinstance(loop, Mapping) else None
    return FORM_TO_FLOW.get(name, name) if name else None


def observe(replies: list[Mapping[str, Any]], tracker: Mapping[str, Any]) -> Observation:
    """An Observation from one turn's REST replies and the conversation's tracker after it."""
    slots = dict(tracker.get("slots") or {})
    all_events = tracker.get("events") or []
    events = turn_bot_events(all_events)
    faq_ids = list(dict.fromkeys(str(v) for v in _carried([*events, *replies], FAQ_KEY)))
    paused = bool(tracker.get("paused"))
    return Observation(
        flow=flow_of(tracker),
        asks=slots.get("requested_slot"),
        slots=slots,
        faq_ids=faq_ids,
        handoff=paused or bool(_carried([*events, *replies], HANDOFF_KEY)),
        buttons=any(reply.get("buttons") for reply in replies),
        texts=[reply["text"] for reply in replies if isinstance(reply.get("text"), str)],
        paused=paused,
        customer=sealed_customer(all_events),
    )
