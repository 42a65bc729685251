"""transfer_money: payee, amount, from card, confirm, then a secure confirmation in the app.

Money never moves from the chat: the bank app asks for the customer's own
authentication (never a password or SMS code typed into the conversation).
New payees are added in the app, where their account number can be checked.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import backend, buttons, customer_id, english, inform_payload
from bot.actions.forms import (ActionAskCard, ActionAskConfirm, TaskFormValidation, TaskSubmit, amount_text,
                               money, reply, request_key)


def _payees(tracker: Tracker) -> list:
    cid = customer_id(tracker)
    return backend().payees(cid) if cid else []


class ValidateTransferForm(TaskFormValidation):
    card_kinds = ("debit",)

    def name(self) -> Text:
        return "validate_transfer_form"

    def validate_payee(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: DomainDict) -> Dict[Text, Any]:
        name = str(value or "").strip()
        known = {p.name: p for p in _payees(tracker)}
        if name in known:
            return {"payee": name}
        dispatcher.utter_message(
            response="utter_payee_unknown", payee=name,
            buttons=buttons((p.name, inform_payload("payee", p.name)) for p in known.values()))
        return {"payee": None}

    def amount_problem(self, amount: Decimal, tracker: Tracker) -> Optional[Dict[Text, Any]]:
        en = english(tracker)
        limits = backend().transfer_limits(customer_id(tracker))
        if amount > limits.per_transaction:
            return reply("utter_transfer_over_single_limit", limit=amount_text(limits.per_transaction, en))
        if limits.used_today + amount > limits.daily:
            left = max(limits.daily - limits.used_today, Decimal(0))
            return reply("utter_transfer_over_daily_limit", remaining=amount_text(left, en),
                         daily_limit=amount_text(limits.daily, en))
        return None


class ActionAskTransferPayee(Action):
    def name(self) -> Text:
        return "action_ask_transfer_form_payee"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        en = english(tracker)
        dispatcher.utter_message(
            response="utter_transfer_which_payee",
            buttons=buttons((f"{p.name} ({p.bank} {p.account_masked})" if en else
                             f"{p.name}（{p.bank} {p.account_masked}）", inform_payload("payee", p.name))
                            for p in _payees(tracker)))
        return []


class ActionAskTransferCard(ActionAskCard):
    kinds = ("debit",)
    response = "utter_transfer_which_card"

    def name(self) -> Text:
        return "action_ask_transfer_form_card_last4"


class ActionAskTransferConfirm(ActionAskConfirm):
    def name(self) -> Text:
        return "action_ask_transfer_form_confirmed"

    def summary(self, tracker: Tracker) -> Dict[Text, Any]:
        return reply("utter_confirm_transfer", card_last4=tracker.get_slot("card_last4"),
                     payee=tracker.get_slot("payee"),
                     amount=money(tracker.get_slot("amount"), english(tracker)))


class ActionSubmitTransfer(TaskSubmit):
    def name(self) -> Text:
        return "action_submit_transfer"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        operation = backend().request_transfer(cid, tracker.get_slot("card_last4"), tracker.get_slot("payee"),
                                               Decimal(tracker.get_slot("amount")), request_key=request_key(tracker))
        dispatcher.utter_message(response="utter_transfer_submitted", operation_reference=operation.reference)
