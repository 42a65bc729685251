"""reset_password, complaint (form), fraud_report and request_human.

Handing over to a person queues the conversation at the agent desk
(connectors/agent_desk) and pauses the bot; outside service hours, or when the
desk cannot be reached, the request becomes a ticket (leave a message).
"""
from __future__ import annotations

import logging
import math
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import (backend, buttons, call_bank, customer_id, english, offer_pending, reset_task,
                                turn_command)
from bot.actions.desk import handoff_reason, request_handoff
from bot.actions.forms import card_label, eligible_cards, request_key
from bot.dialogue.cues import han_count, latin_word_count
from bot.dialogue.history import recent_events

log = logging.getLogger(__name__)
MIN_COMPLAINT_CHARS = 8
MIN_OPENING_DETAIL_CHARS = 20
MIN_OPENING_DETAIL_WORDS = 12
TALK_TO_A_PERSON_NOW = {"zh": "立即转人工", "en": "Talk to a person now"}  # after the freeze buttons
# (outside service hours? (else the desk could not be reached), urgent?) -> the leave-a-message reply
CALLBACK_RESPONSES = {(True, False): "utter_handoff_after_hours",
                      (True, True): "utter_handoff_after_hours_urgent",
                      (False, False): "utter_handoff_unavailable",
                      (False, True): "utter_handoff_unavailable_urgent"}


def tells_what_happened(text: Text) -> bool:
    """More than "我要投诉X": long enough to say what happened (Chinese characters or English words)."""
    return han_count(text) >= MIN_OPENING_DETAIL_CHARS or latin_word_count(text) >= MIN_OPENING_DETAIL_WORDS


def open_ticket(dispatcher: CollectingDispatcher, tracker: Tracker, kind: Text, summary: Text,
                priority: Text = "normal") -> Optional[Any]:
    """Create a ticket; on a backend failure say so instead of pretending."""
    from bot.banking.masking import mask_text

    try:
        return backend().create_ticket(kind, mask_text(summary)[:1000], customer_id(tracker), priority,
                                       request_key=request_key(tracker, purpose=kind))
    except Exception:
        log.exception("could not create a %s ticket", kind)
        dispatcher.utter_message(response="utter_backend_unavailable")
        return None


class ActionResetPassword(Action):
    def name(self) -> Text:
        return "action_reset_password"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_reset_password_steps")
        return []


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_complaint_form"

    def validate_complaint_text(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "").strip()
        # The opening "我要投诉X" names whom; the ticket needs what happened, so ask unless it says that too.
        opening = tracker.get_slot("requested_slot") is None
        if text.startswith("/") or len(text) < MIN_COMPLAINT_CHARS or (opening and not tells_what_happened(text)):
            return {"complaint_text": None}
        return {"complaint_text": text}


def complaint_summary(tracker: Tracker) -> Text:
    """Everything the customer said since the complaint started (whom, then what happened)."""
    said: List[Text] = []
    for event in reversed(recent_events(tracker.events)):
        if event.get("event") == "action" and event.get("name") == "action_start_task":
            break
        if event.get("event") == "user" and not str(event.get("text") or "").startswith("/"):
            said.append(str(event.get("text") or ""))
    return "\n".join(reversed(said)) or (tracker.get_slot("complaint_text") or "")


class ActionSubmitComplaint(Action):
    def name(self) -> Text:
        return "action_submit_complaint"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        ticket = open_ticket(dispatcher, tracker, "complaint", complaint_summary(tracker))
        if ticket:
            dispatcher.utter_message(response="utter_complaint_registered", ticket_reference=ticket.reference)
        return reset_task() + offer_pending(dispatcher, tracker)


class ActionFraudReport(Action):
    """Urgent: stop the loss first, then freeze, then a person."""

    def name(self) -> Text:
        return "action_fraud_report"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_fraud_urgent")
        text = tracker.latest_message.get("text") or ""
        ticket = open_ticket(dispatcher, tracker, "fraud", text, priority="urgent")
        en = english(tracker)
        cards = eligible_cards(tracker, ("debit", "credit"))
        options = [(f"Freeze {card_label(c, en)}" if en else f"冻结{card_label(c)}",
                    '/report_card_loss{"card_last4": "%s"}' % c.last4)
                   for c in cards if c.status == "active"]
        # The ticket number goes in `fraud_ticket`: `ticket_reference` marks complaint tickets
        # (_latest_ticket_reference).
        if options:
            # The freeze buttons come first, so the response has none of its own.
            dispatcher.utter_message(
                response="utter_fraud_logged_freeze_cards" if ticket
                else "utter_fraud_logged_freeze_cards_no_ticket",
                fraud_ticket=ticket.reference if ticket else "",
                buttons=buttons(options + [(TALK_TO_A_PERSON_NOW["en" if en else "zh"], "/request_human")]))
        else:
            dispatcher.utter_message(
                response="utter_fraud_logged" if ticket else "utter_fraud_logged_no_ticket",
                fraud_ticket=ticket.reference if ticket else "")
        return [SlotSet("handoff_priority", "urgent")]


class ActionRequestHuman(Action):
    """Queue the conversation for a person (pausing the bot), or leave a message when nobody can come."""

    def name(self) -> Text:
        return "action_request_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        reason = handoff_reason(tracker)
        priority = tracker.get_slot("handoff_priority") or ("urgent" if reason == "fraud_report" else
                                                            "high" if reason == "complaint" else "normal")
        done = reset_task() + [SlotSet("handoff_priority", None), SlotSet("failed_turns", 0.0)]
        answer = request_handoff(tracker, reason, priority, customer_id(tracker))
        if answer and answer["status"] == "queued":
            ahead, minutes = max(int(answer["position"]) - 1, 0), max(math.ceil(answer["expected_wait_s"] / 60), 1)
            dispatcher.utter_message(
                response="utter_handoff_queued_urgent" if priority == "urgent" else "utter_handoff_queued",
                ahead=ahead, minutes=minutes,
                handoff={"handoff_id": answer["handoff_id"], "priority": priority, "position": answer["position"],
                         "reason": reason})
            return done + [ConversationPaused()]
        ticket = open_ticket(dispatcher, tracker, "callback",
                             f"客户请求人工服务（{reason}）：{tracker.latest_message.get('text') or ''}", priority)
        if ticket:
            hours = (answer or {}).get("hours") or "08:00-22:00"
            dispatcher.utter_message(
                response=CALLBACK_RESPONSES[bool(answer), priority == "urgent"], hours=hours,
                callback_reference=ticket.reference,
                handoff={"reference": ticket.reference, "priority": priority, "reason": reason})
        return done


def _latest_ticket_reference(tracker: Tracker, kind_action: Text) -> Optional[Text]:
    """The ticket the bot opened in `kind_action` earlier in this conversation (newest first)."""
    opened_by = None
    for event in reversed(recent_events(tracker.events)):
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("ticket_reference"):
            opened_by = (event.get("metadata") or {}).get("ticket_reference")
        elif event.get("event") == "action" and event.get("name") == kind_action and opened_by:
            return opened_by
    return None


class ActionFraudCardDetails(Action):
    """Inside fraud handling the card the customer names goes straight into the freeze offer."""

    def name(self) -> Text:
        return "action_fraud_card_details"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        last4 = str((turn_command(tracker).get("slots") or {}).get("card_last4") or "")
        owned = {c.last4 for c in eligible_cards(tracker, ("debit", "credit")) if c.status == "active"}
        response = "utter_fraud_card_noted" if last4 in owned else "utter_fraud_card_unknown"
        dispatcher.utter_message(response=response, card_last4=last4)
        return []


class ActionAddComplaintDetails(Action):
    """What a customer adds right after a complaint goes into that complaint's ticket."""

    def name(self) -> Text:
        return "action_add_complaint_details"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        from bot.banking.masking import mask_text

        reference = _latest_ticket_reference(tracker, "action_submit_complaint")
        text = mask_text(tracker.latest_message.get("text") or "")[:1000]
        if not reference:
            ticket = open_ticket(dispatcher, tracker, "complaint", text)
            reference = ticket.reference if ticket else None
        elif not call_bank(dispatcher, self.name(),
                           lambda: backend().add_ticket_details(reference, customer_id(tracker), text)):
            return []
        if reference:
            dispatcher.utter_message(response="utter_complaint_details_added", ticket_reference=reference)
        return []
