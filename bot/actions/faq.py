"""Answer knowledge questions from the hits the NLU pipeline attached to the message."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

KB_ANSWER_SLOT = "kb_answer_id"


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = tracker.latest_message.get("kb") or {}
        hits = kb.get("hits") or []
        if kb.get("decision") == "answer" and hits:
            best = hits[0]
            # Provenance contract: event metadata {faq_id, score} + slot kb_answer_id.
            dispatcher.utter_message(text=best["answer"], faq_id=best["faq_id"], score=best["score"])
            return [SlotSet(KB_ANSWER_SLOT, best["faq_id"])]
        dispatcher.utter_message(response="utter_kb_no_answer")
        return [SlotSet(KB_ANSWER_SLOT, None)]
