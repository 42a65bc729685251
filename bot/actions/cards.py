"""report_card_loss: choose the card, confirm, freeze it at once, remind the written report."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import backend
from bot.actions.forms import ActionAskCard, ActionAskConfirm, TaskFormValidation, TaskSubmit, reply


class ValidateCardLossForm(TaskFormValidation):
    def name(self) -> Text:
        return "validate_card_loss_form"


class ActionAskCardLossCard(ActionAskCard):
    response = "utter_card_loss_which_card"

    def name(self) -> Text:
        return "action_ask_card_loss_form_card_last4"


class ActionAskCardLossConfirm(ActionAskConfirm):
    def name(self) -> Text:
        return "action_ask_card_loss_form_confirmed"

    def summary(self, tracker: Tracker) -> Dict[Text, Any]:
        return reply("utter_confirm_card_loss", card_last4=tracker.get_slot("card_last4"))


class ActionSubmitCardLoss(TaskSubmit):
    def name(self) -> Text:
        return "action_submit_card_loss"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        receipt = backend().report_card_loss(cid, tracker.get_slot("card_last4"))
        dispatcher.utter_message(response="utter_card_loss_reported", card_last4=receipt.card_last4,
                                 operation_reference=receipt.reference)
