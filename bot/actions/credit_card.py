"""credit_card_bill, credit_card_repay (form) and apply_credit_card (form)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.accounts import BankReadAction
import datetime as dt

from bot.actions.common import backend, buttons, customer_id, entity, inform_payload, turn_command
from bot.actions.forms import (
    MONTH_EN,
    ActionAskCard,
    ActionAskConfirm,
    TaskFormValidation,
    TaskSubmit,
    amount_text,
    eligible_cards,
    english,
    money,
    reply,
    request_key,
)


def outstanding(statement) -> Decimal:
    return max(statement.total_due - statement.paid_amount, Decimal(0))


def day_text(day: dt.date, en: bool, year: bool = False) -> Text:
    """"03月05日" / "2026年03月05日" as on the statement, "5 March" / "5 March 2026" in English."""
    if en:
        return f"{day.day} {MONTH_EN[day.month - 1]}" + (f" {day.year}" if year else "")
    return f"{day:%Y年%m月%d日}" if year else f"{day:%m月%d日}"


class ActionCreditCardBill(BankReadAction):
    def name(self) -> Text:
        return "action_credit_card_bill"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Text) -> None:
        en = english(tracker)
        s = backend().credit_card_statement(cid, entity(tracker, "card_last4"))
        left = outstanding(s)
        statement = dict(card_last4=s.card_last4, period_start=day_text(s.period_start, en),
                         period_end=day_text(s.period_end, en), total_due=amount_text(s.total_due, en),
                         paid=amount_text(s.paid_amount, en), due_date=day_text(s.due_date, en, year=True))
        if left == 0:
            dispatcher.utter_message(response="utter_credit_card_bill_paid", **statement)
        else:
            dispatcher.utter_message(response="utter_credit_card_bill_due", **statement,
                                     outstanding=amount_text(left, en),
                                     minimum=amount_text(min(s.minimum_due, left), en))


class ValidateRepayForm(TaskFormValidation):
    card_kinds = ("credit",)

    def name(self) -> Text:
        return "validate_repay_form"

    def amount_problem(self, amount: Decimal, tracker: Tracker) -> Optional[Dict[Text, Any]]:
        card = tracker.get_slot("card_last4")
        if not card:
            return None
        left = outstanding(backend().credit_card_statement(customer_id(tracker), card))
        if left == 0:
            return reply("utter_repay_nothing_due")
        if amount > left:
            return reply("utter_repay_over_outstanding", outstanding=amount_text(left, english(tracker)))
        return None


class ActionAskRepayCard(ActionAskCard):
    kinds = ("credit",)
    response = "utter_repay_which_card"

    def name(self) -> Text:
        return "action_ask_repay_form_card_last4"


class ActionAskRepayAmount(Action):
    """Offers the full and the minimum repayment as one-click choices."""

    def name(self) -> Text:
        return "action_ask_repay_form_amount"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        en = english(tracker)
        s = backend().credit_card_statement(customer_id(tracker), tracker.get_slot("card_last4"))
        left = outstanding(s)
        minimum = min(s.minimum_due, left)
        # The two choices are the response's buttons, filled with the amounts; English titles come with it.
        dispatcher.utter_message(response="utter_repay_how_much", outstanding=amount_text(left, en),
                                 minimum=amount_text(minimum, en),
                                 full_payload=inform_payload("amount", str(left)),
                                 minimum_payload=inform_payload("amount", str(minimum)))
        return []


def repay_source(tracker: Tracker):
    debit = eligible_cards(tracker, ("debit",))
    return debit[0] if debit else None


class ActionAskRepayConfirm(ActionAskConfirm):
    def name(self) -> Text:
        return "action_ask_repay_form_confirmed"

    def summary(self, tracker: Tracker) -> Dict[Text, Any]:
        source = repay_source(tracker)
        card_last4 = tracker.get_slot("card_last4")
        amount = money(tracker.get_slot("amount"), english(tracker))
        if source:
            return reply("utter_confirm_repay_from_debit", source_last4=source.last4, card_last4=card_last4,
                         amount=amount)
        return reply("utter_confirm_repay", card_last4=card_last4, amount=amount)


class ActionSubmitRepay(TaskSubmit):
    def name(self) -> Text:
        return "action_submit_repay"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        source = repay_source(tracker)
        if source is None:
            dispatcher.utter_message(response="utter_repay_no_debit_card")
            return
        operation = backend().request_credit_card_repayment(
            cid, tracker.get_slot("card_last4"), Decimal(tracker.get_slot("amount")), source.last4,
            request_key=request_key(tracker))
        dispatcher.utter_message(response="utter_repay_submitted", operation_reference=operation.reference)


# English words for the distinctive part of a product name ("示例银行白金信用卡" -> 白金).
PRODUCT_WORDS_EN = {"白金": "platinum", "标准": "standard", "青春": "youth", "车主": "car"}


def product_named(text: Text, products: List[Text]) -> Optional[Text]:
    lowered = text.lower()
    named = []
    for product in products:
        stem = product.removeprefix("示例银行").removesuffix("信用卡")
        if stem and (stem in text or PRODUCT_WORDS_EN.get(stem, "\0") in lowered):
            named.append(product)
    return named[0] if len(named) == 1 else None


class ValidateApplyCardForm(TaskFormValidation):
    def name(self) -> Text:
        return "validate_apply_card_form"

    async def extract_card_product(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """"申请白金信用卡", "那标准卡吧", "the platinum card": a product named in any wording."""
        if tracker.get_slot("card_product") and turn_command(tracker).get("act") != "correct_slots":
            return {}
        product = product_named(tracker.latest_message.get("text") or "", backend().credit_card_products())
        return {"card_product": product} if product else {}

    def validate_card_product(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        products = backend().credit_card_products()
        if value in products:
            return {"card_product": value}
        dispatcher.utter_message(response="utter_card_product_unknown")
        return {"card_product": None}


class ActionAskCardProduct(Action):
    def name(self) -> Text:
        return "action_ask_apply_card_form_card_product"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(
            response="utter_apply_which_card_product",
            buttons=buttons((p, inform_payload("card_product", p)) for p in backend().credit_card_products()))
        return []


class ActionAskApplyConfirm(ActionAskConfirm):
    def name(self) -> Text:
        return "action_ask_apply_card_form_confirmed"

    def summary(self, tracker: Tracker) -> Dict[Text, Any]:
        return reply("utter_confirm_apply_card", card_product=tracker.get_slot("card_product"))


class ActionSubmitApplyCard(TaskSubmit):
    def name(self) -> Text:
        return "action_submit_apply_card"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        operation = backend().apply_credit_card(cid, tracker.get_slot("card_product"), request_key=request_key(tracker))
        dispatcher.utter_message(response="utter_apply_card_submitted",
                                 operation_reference=operation.reference)
