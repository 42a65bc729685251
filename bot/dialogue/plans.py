"""How each command is carried out: the actions to run and the slot events to apply first."""
from __future__ import annotations

from typing import Any

from rasa.shared.core.events import Event, SlotSet

from bot.dialogue.commands import FORM_SLOTS, Command
from bot.dialogue.state import OFFER_PREFIX, PENDING_SLOT, DialogueState
from bot.flows import FORM_SUBMIT, TASK_ENTRY

TURN_SLOT = "dialogue_turn"
# Domain slots a command may set directly (the rest travel in the dialogue_turn slot as values).
# Saying goodbye, then the satisfaction question when the bot served the conversation alone.
GOODBYE = ["utter_goodbye", "action_ask_bot_csat"]
SETTABLE = {slot for slots in FORM_SLOTS.values() for slot in slots} | {"currency"}


def _slot_events(values: dict[str, Any]) -> list[Event]:
    """The values as slot events; a turn that gave usable values ends a run of misunderstood turns."""
    return [SlotSet(name, value) for name, value in values.items() if name in SETTABLE and value is not None] + [
        SlotSet("failed_turns", 0.0)]


def plan_for(command: Command, state: DialogueState) -> tuple[list[str], list[Event]]:
    act, form = command.act, state.active_form
    if act == "warn_sensitive":
        if command.then in (None, "abstain"):
            return ["action_warn_sensitive"], []
        plan, events = plan_for(command.inner(), state)
        return ["action_warn_sensitive", *plan], events
    if act == "cancel_flow":
        return ["action_cancel_task", *(GOODBYE if command.aside == "goodbye" else [])], []
    if act == "ask_correction":
        return ["utter_ask_correction"], []
    if act == "correct_slots":  # the confirmation is still pending, so the form confirms again
        return [form], _slot_events(command.slots)
    if act == "set_slots":
        return [form], _slot_events(command.slots)
    if act in ("answer_question", "small_talk"):
        return ["action_answer_aside"], []
    if act == "continue_flow":
        return ["utter_continue"], []
    if act == "close_flow":
        return ["action_close_flow", *GOODBYE], []
    if act == "handoff":
        return ["action_request_human"], []
    if act in ("start_flow", "follow_up"):
        return _start_plan(command)
    if act == "urgent_details":
        return ["action_fraud_card_details"], []
    if act == "complaint_details":
        return ["action_add_complaint_details"], []
    if act == "rate_bot":
        return ["action_record_bot_csat"], []
    raise ValueError(f"no plan for command {act!r}")


def _start_plan(command: Command) -> tuple[list[str], list[Event]]:
    """Questions asked with the request are answered first; a second task is offered once the first is
    done: right after it when it answers at once, after its form's submit otherwise (TaskSubmit)."""
    entry = TASK_ENTRY[command.intent]
    plan = (["action_answer_aside"] if command.questions else []) + ["action_start_task", entry]
    events = _slot_events(command.slots)
    if command.pending and entry in FORM_SUBMIT:
        events.append(SlotSet(PENDING_SLOT, command.pending))
    elif command.pending:
        plan.append(OFFER_PREFIX + command.pending)
    return plan, events
