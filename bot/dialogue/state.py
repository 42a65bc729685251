"""The dialogue state a turn is read against, derived from the tracker's events.

Everything here comes from events already in the tracker (no module-level memory), so
any replica reading the same tracker reads the turn the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

from bot.dialogue.history import last_bot_event, recent_events, tail_from
from bot.dialogue.satisfaction import question_pending
from bot.dialogue.slot_values import Choice, choices_from_buttons
from bot.flows import FORM_SUBMIT, TASK_DONE, TASK_ENTRY

FORM_INTENT = {entry: intent for intent, entry in TASK_ENTRY.items() if entry in FORM_SUBMIT}
TASK_SLOT_NAMES = ("card_last4", "amount", "payee", "city", "district", "branch_id", "service",
                   "appointment_date", "time_slot", "currency", "loan_type", "risk_level", "card_product", "date")
LOOKBACK_EVENTS = 400
FOLLOW_UP_TURNS = 2
CARRIED_TURNS = FOLLOW_UP_TURNS + 1  # the turns a session rollover carries over (bot/session_rollover.py)


@dataclass
class LastTask:
    """The most recent task that ran to its end, and the values it ran with (for "那港币呢")."""

    intent: str
    values: dict[str, Any] = field(default_factory=dict)
    turns_ago: int = 0


@dataclass
class DialogueState:
    active_form: Optional[str] = None
    requested_slot: Optional[str] = None
    slots: dict[str, Any] = field(default_factory=dict)
    choices: list[Choice] = field(default_factory=list)
    last_bot_action: Optional[str] = None
    last_task: Optional[LastTask] = None
    last_card: Optional[str] = None
    language: Optional[str] = None
    listed: list[Choice] = field(default_factory=list)  # items the bot's last answer listed (metadata "listed")
    offered_task: Optional[str] = None  # "需要现在帮您挂失吗？" (utter_offer_<intent>) was the bot's last word
    rating_asked: bool = False  # the bot's last word asked for a satisfaction score (bot/dialogue/satisfaction.py)

    @property
    def flow(self) -> Optional[str]:
        return FORM_INTENT.get(self.active_form or "")


def _entities(event: Mapping[str, Any]) -> dict[str, Any]:
    return {e.get("entity"): e.get("value") for e in (event.get("parse_data") or {}).get("entities") or []
            if e.get("entity")}


def _before_current_turn(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Events up to (not including) the newest user message."""
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            return list(events[:index])
    return list(events)


def _last_bot_turn(history: Sequence[Mapping[str, Any]]) -> tuple[Optional[str], list[Choice], list[Choice]]:
    """The last action the bot ran before the customer spoke, the buttons it last offered, the items it listed."""
    action, choices, listed = None, [], []
    for event in reversed(history):
        kind = event.get("event")
        if kind == "user":
            break
        if kind == "bot" and not choices:
            choices = choices_from_buttons((event.get("data") or {}).get("buttons") or [])
        if kind == "bot" and not listed:
            listed = [Choice(str(i.get("name")), "branch_id", i.get("id"), "")
                      for i in (event.get("metadata") or {}).get("listed") or [] if isinstance(i, dict)]
        if kind == "action" and action is None and event.get("name") not in ("action_listen",):
            action = event.get("name")
    return action, choices, listed


OFFER_PREFIX = "utter_offer_"
PENDING_SLOT = "pending_task"  # a second task asked with the first, offered when the first is done


def _offered_task(history: Sequence[Mapping[str, Any]]) -> Optional[str]:
    """The task the bot's last message offered to do now, after a knowledge answer (bot/domain/offers.yml)."""
    utter = str(((last_bot_event(history) or {}).get("metadata") or {}).get("utter_action") or "")
    return utter[len(OFFER_PREFIX):] if utter.startswith(OFFER_PREFIX) else None


def _last_task(history: Sequence[Mapping[str, Any]]) -> Optional[LastTask]:
    turns, task = 0, None
    for index in range(len(history) - 1, -1, -1):
        event = history[index]
        if event.get("event") == "user":
            turns += 1
            if turns > FOLLOW_UP_TURNS:
                return None
        if event.get("event") == "action" and event.get("name") in TASK_DONE:
            task = LastTask(TASK_DONE[event["name"]], turns_ago=turns)
            task.values = _values_of_task(history[:index + 1])
            return task
    return None


def _values_of_task(history: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Slot values and entities the task collected since it started."""
    values: dict[str, Any] = {}
    for event in reversed(history):
        kind = event.get("event")
        if kind == "slot" and event.get("name") in TASK_SLOT_NAMES and event.get("value") is not None:
            values.setdefault(event["name"], event["value"])
        elif kind == "user":
            for name, value in _entities(event).items():
                if name in TASK_SLOT_NAMES:
                    values.setdefault(name, value)
        elif kind == "action" and event.get("name") == "action_start_task":
            break
    return values


def _last_card(history: Iterable[Mapping[str, Any]]) -> Optional[str]:
    for event in reversed(list(history)):
        if event.get("event") == "slot" and event.get("name") == "card_last4" and event.get("value"):
            return str(event["value"])
        if event.get("event") == "user" and _entities(event).get("card_last4"):
            return str(_entities(event)["card_last4"])
    return None


def dialogue_state(events: Sequence[Mapping[str, Any]], slots: Mapping[str, Any],
                   active_form: Optional[str]) -> DialogueState:
    history = _before_current_turn(recent_events(events)[-LOOKBACK_EVENTS:])
    last_action, choices, listed = _last_bot_turn(history)
    return DialogueState(active_form=active_form, requested_slot=slots.get("requested_slot"), slots=dict(slots),
                         choices=choices, last_bot_action=last_action, last_task=_last_task(history),
                         last_card=_last_card(history), language=slots.get("language"), listed=listed,
                         offered_task=_offered_task(history), rating_asked=question_pending(history))


def carried_context(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The end of the history that the next turn's state reads: the last CARRIED_TURNS turns, and back
    to the start of a task that ended within them (its values are the follow-up's context)."""
    events = recent_events(events)[-LOOKBACK_EVENTS:]
    start, users = 0, 0
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            users += 1
            if users == CARRIED_TURNS:
                start = index
                break
    ended = [i for i in range(start, len(events))
             if events[i].get("event") == "action" and events[i].get("name") in TASK_DONE]
    if ended:
        starts = [i for i in range(ended[-1]) if events[i].get("event") == "action"
                  and events[i].get("name") == "action_start_task"]
        start = min(start, starts[-1]) if starts else start
    return tail_from(events, start)
