"""The bot's satisfaction question and its answer (bot/dialogue/satisfaction.py says when and why)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import turn_command
from bot.dialogue.satisfaction import LOW_SCORE, QUESTION, SCORE, score_of, should_ask


class ActionAskBotCsat(Action):
    """After the goodbye: the 1–5 question, when the bot served this conversation alone and has not asked."""

    def name(self) -> Text:
        return "action_ask_bot_csat"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        if should_ask(tracker.events):
            dispatcher.utter_message(response="utter_ask_bot_csat", **{QUESTION: True})
        return []


class ActionRecordBotCsat(Action):
    """The customer's score, kept in the thank-you message's metadata (the analytics fold reads it there)."""

    def name(self) -> Text:
        return "action_record_bot_csat"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        score = (turn_command(tracker).get("slots") or {}).get("bot_csat") or score_of(
            tracker.latest_message.get("text") or "")
        if score is None:  # only the policy runs this action, after reading a score; never guess one
            return []
        response = "utter_bot_csat_thanks_low" if score <= LOW_SCORE else "utter_bot_csat_thanks"
        dispatcher.utter_message(response=response, **{SCORE: int(score)})
        return []
