"""Conversation control shared by all flows: starting or switching a task, cancelling, asides.

A customer may switch task mid-flow ("先帮我查下余额"), cancel ("算了"), or ask
a question or chat in the middle of a flow and then carry on with the slots
kept. Rules (bot/data/flow_rules.yml, written by bot/flows.py) route those
turns here; ``task_ready`` tells the rules whether the flow may start.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import customer_id, reset_task, turn_command, turn_intent
from bot.actions.faq import ActionAnswerFaq
from bot.actions.login import LOGIN_HELP
from bot.dialogue.state import OFFER_PREFIX, PENDING_SLOT
from bot.flows import LOGIN_REQUIRED

# Replies to turns that interrupt a flow without ending it.
ASIDE_RESPONSES = {"greet": "utter_greet_in_flow", "thank": "utter_thank", "chitchat": "utter_chitchat",
                   "bot_challenge": "utter_bot_challenge", "out_of_scope": "utter_out_of_scope",
                   "affirm": "utter_ok", "inform": "utter_inform_unclear"}


# Slots a start command may carry into the new flow (they survive the reset of the old one).
_CARRIED = ("card_last4", "amount", "payee", "city", "district", "currency", "card_product")
# What the channel hid from a message (connectors/messages.py) -> the warning that explains it.
_WARNINGS = {"otp": "utter_warn_otp", "password": "utter_warn_password", "id_number": "utter_warn_id_number",
             "card_number": "utter_warn_card_number"}


def _intent(tracker: Tracker) -> Text:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


class ActionStartTask(Action):
    """Ends whatever flow was running and says whether the new one may start (login)."""

    def name(self) -> Text:
        return "action_start_task"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = turn_intent(tracker)
        events: List[Dict[Text, Any]] = []
        if tracker.active_loop.get("name"):
            dispatcher.utter_message(response="utter_switching_task")
            events += reset_task()
            carried = turn_command(tracker).get("slots") or {}
            events += [SlotSet(name, carried[name]) for name in _CARRIED if carried.get(name) is not None]
        if intent in LOGIN_REQUIRED and not customer_id(tracker):
            dispatcher.utter_message(response=LOGIN_HELP.get(intent, "utter_login_required"))
            return events + [SlotSet("task_ready", False)]
        return events + [SlotSet("task_ready", True)]


class ActionCancelTask(Action):
    def name(self) -> Text:
        return "action_cancel_task"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        running = tracker.active_loop.get("name")
        dispatcher.utter_message(response="utter_cancelled" if running else "utter_deny_ack")
        return reset_task([PENDING_SLOT])


class ActionAnswerAside(Action):
    """Answers a question or remark made in the middle of a flow; the flow then resumes."""

    def name(self) -> Text:
        return "action_answer_aside"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kind = turn_command(tracker).get("aside") or _intent(tracker)
        if kind == "inform":  # a value this flow cannot use: a rung of the fallback ladder like a no-answer
            return ActionAnswerFaq.not_understood(dispatcher, tracker, "utter_inform_unclear")
        response = ASIDE_RESPONSES.get(kind)
        if response:
            dispatcher.utter_message(response=response)
            return []
        events = ActionAnswerFaq().run(dispatcher, tracker, domain)
        _offer_task(dispatcher, tracker, domain)
        return events


def _offer_task(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> None:
    """"挂失要怎么办" was answered from the knowledge base: offer to do it now ("需要现在帮您挂失吗？")."""
    command = turn_command(tracker)
    if command.get("act") not in (None, "answer_question"):  # e.g. the task itself starts next
        return
    offer = OFFER_PREFIX + str(command.get("intent"))
    answered = ((tracker.latest_message or {}).get("kb") or {}).get("decision") == "answer"
    if answered and not tracker.active_loop.get("name") and offer in (domain.get("responses") or {}):
        dispatcher.utter_message(response=offer)


class ActionHandleInform(Action):
    """Slot values given while no flow is running: keep nothing, ask what the customer wants.

    An "inform" that carries no value at all ("就是那个事啊") was not understood: it counts on
    the fallback ladder like any other turn the bot could not use, so a second one offers a human.
    """

    def name(self) -> Text:
        return "action_handle_inform"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        cleared = [SlotSet(name, None) for name in ("card_last4", "amount", "payee")]
        if not (tracker.latest_message or {}).get("entities"):
            return ActionAnswerFaq.not_understood(dispatcher, tracker, "utter_ask_what_task") + cleared
        dispatcher.utter_message(response="utter_ask_what_task")
        return cleared


class ActionCloseFlow(Action):
    """Ends the running flow without a word (the customer is leaving; the goodbye follows)."""

    def name(self) -> Text:
        return "action_close_flow"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        return reset_task()


class ActionWarnSensitive(Action):
    """A secret typed into the chat: the channel already hid it; say why it must never be sent."""

    def name(self) -> Text:
        return "action_warn_sensitive"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kinds = (tracker.latest_message.get("metadata") or {}).get("redacted") or []
        for kind in dict.fromkeys(k for k in kinds if k in _WARNINGS):
            dispatcher.utter_message(response=_WARNINGS[kind])
        return []
