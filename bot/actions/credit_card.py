"""credit_card_bill, credit_card_repay (form) and apply_credit_card (form)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.accounts import BankReadAction
from bot.actions.common import backend, buttons, customer_id, entity, inform_payload, yuan
from bot.actions.forms import (
    ActionAskCard,
    ActionAskConfirm,
    TaskFormValidation,
    TaskSubmit,
    eligible_cards,
    money,
)


def outstanding(statement) -> Decimal:
    return max(statement.total_due - statement.paid_amount, Decimal(0))


class ActionCreditCardBill(BankReadAction):
    def name(self) -> Text:
        return "action_credit_card_bill"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Text) -> None:
        s = backend().credit_card_statement(cid, entity(tracker, "card_last4"))
        left = outstanding(s)
        status = "本期已还清。" if left == 0 else f"还需还款 {yuan(left)}，最低还款 {yuan(min(s.minimum_due, left))}。"
        dispatcher.utter_message(
            text=(f"信用卡尾号 {s.card_last4} 本期账单（{s.period_start:%m月%d日}–{s.period_end:%m月%d日}）："
                  f"应还 {yuan(s.total_due)}，已还 {yuan(s.paid_amount)}，到期还款日 {s.due_date:%Y年%m月%d日}。"
                  + status),
            buttons=buttons([("现在还款", "/credit_card_repay")]) if left else None)


class ValidateRepayForm(TaskFormValidation):
    card_kinds = ("credit",)

    def name(self) -> Text:
        return "validate_repay_form"

    def amount_problem(self, amount: Decimal, tracker: Tracker) -> Optional[Text]:
        card = tracker.get_slot("card_last4")
        if not card:
            return None
        left = outstanding(backend().credit_card_statement(customer_id(tracker), card))
        if left == 0:
            return "这张信用卡本期账单已还清，无需还款。"
        if amount > left:
            return f"本期待还 {yuan(left)}，还款金额请不要超过待还金额。"
        return None


class ActionAskRepayCard(ActionAskCard):
    kinds = ("credit",)
    prompt = "请问要还哪张信用卡？"

    def name(self) -> Text:
        return "action_ask_repay_form_card_last4"


class ActionAskRepayAmount(Action):
    """Offers the full and the minimum repayment as one-click choices."""

    def name(self) -> Text:
        return "action_ask_repay_form_amount"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        s = backend().credit_card_statement(customer_id(tracker), tracker.get_slot("card_last4"))
        left = outstanding(s)
        minimum = min(s.minimum_due, left)
        dispatcher.utter_message(
            text=f"本期待还 {yuan(left)}，最低还款 {yuan(minimum)}。请问还多少？",
            buttons=buttons([(f"全额还款 {yuan(left)}", inform_payload("amount", str(left))),
                             (f"最低还款 {yuan(minimum)}", inform_payload("amount", str(minimum)))]))
        return []


def repay_source(tracker: Tracker):
    debit = eligible_cards(tracker, ("debit",))
    return debit[0] if debit else None


class ActionAskRepayConfirm(ActionAskConfirm):
    confirm_title = "确认还款"

    def name(self) -> Text:
        return "action_ask_repay_form_confirmed"

    def summary(self, tracker: Tracker) -> Text:
        source = repay_source(tracker)
        source_text = f"从借记卡尾号 {source.last4} 扣款，" if source else ""
        return (f"请核对：{source_text}为信用卡尾号 {tracker.get_slot('card_last4')} 还款 "
                f"{money(tracker.get_slot('amount'))}。确认后需在示例银行App中完成安全验证。确认提交吗？")


class ActionSubmitRepay(TaskSubmit):
    def name(self) -> Text:
        return "action_submit_repay"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        source = repay_source(tracker)
        if source is None:
            dispatcher.utter_message(text="您名下没有可用于还款的借记卡，请在示例银行App中选择其他还款方式。")
            return
        operation = backend().request_credit_card_repayment(
            cid, tracker.get_slot("card_last4"), Decimal(tracker.get_slot("amount")), source.last4)
        dispatcher.utter_message(
            text=(f"还款申请已提交（编号 {operation.reference}），请在示例银行App“待确认交易”中完成安全验证，"
                  "验证通过后立即入账。"),
            operation_reference=operation.reference)


class ValidateApplyCardForm(TaskFormValidation):
    def name(self) -> Text:
        return "validate_apply_card_form"

    def validate_card_product(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        products = backend().credit_card_products()
        if value in products:
            return {"card_product": value}
        dispatcher.utter_message(text="请从下面的卡种中选择一种。")
        return {"card_product": None}


class ActionAskCardProduct(Action):
    def name(self) -> Text:
        return "action_ask_apply_card_form_card_product"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(
            text="示例银行目前可申请以下信用卡，请选择（权益和年费以示例银行公告为准）：",
            buttons=buttons((p, inform_payload("card_product", p)) for p in backend().credit_card_products()))
        return []


class ActionAskApplyConfirm(ActionAskConfirm):
    confirm_title = "确认申请"

    def name(self) -> Text:
        return "action_ask_apply_card_form_confirmed"

    def summary(self, tracker: Tracker) -> Text:
        return (f"将为您提交「{tracker.get_slot('card_product')}」的申请，我们会根据您的资料进行审核。"
                "确认提交吗？")


class ActionSubmitApplyCard(TaskSubmit):
    def name(self) -> Text:
        return "action_submit_apply_card"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        operation = backend().apply_credit_card(cid, tracker.get_slot("card_product"))
        dispatcher.utter_message(
            text=(f"申请已提交（编号 {operation.reference}）。审核结果将通过短信和示例银行App通知您，"
                  "一般需要数个工作日，以示例银行公告为准。"),
            operation_reference=operation.reference)
