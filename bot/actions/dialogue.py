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

from bot.actions.common import customer_id, reset_task
from bot.actions.faq import ActionAnswerFaq
from bot.actions.login import LOGIN_HELP
from bot.flows import LOGIN_REQUIRED

# Replies to turns that interrupt a flow without ending it.
ASIDE_RESPONSES = {"greet": "utter_greet_in_flow", "thank": "utter_thank", "chitchat": "utter_chitchat",
                   "bot_challenge": "utter_bot_challenge", "out_of_scope": "utter_out_of_scope",
                   "affirm": "utter_ok", "inform": "utter_inform_unclear"}


def _intent(tracker: Tracker) -> Text:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


class ActionStartTask(Action):
    """Ends whatever flow was running and says whether the new one may start (login)."""

    def name(self) -> Text:
        return "action_start_task"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = _intent(tracker)
        events: List[Dict[Text, Any]] = []
        if tracker.active_loop.get("name"):
            dispatcher.utter_message(response="utter_switching_task")
            events += reset_task()
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
        return reset_task()


class ActionAnswerAside(Action):
    """Answers a question or remark made in the middle of a flow; the flow then resumes."""

    def name(self) -> Text:
        return "action_answer_aside"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        response = ASIDE_RESPONSES.get(_intent(tracker))
        if response:
            dispatcher.utter_message(response=response)
            return []
        return ActionAnswerFaq().run(dispatcher, tracker, domain)


class ActionHandleInform(Action):
    """Slot values given while no flow is running: keep nothing, ask what the customer wants."""

    def name(self) -> Text:
        return "action_handle_inform"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_ask_what_task")
        return [SlotSet(name, None) for name in ("card_last4", "amount", "payee")]
