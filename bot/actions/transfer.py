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

from bot.actions.common import backend, buttons, customer_id, inform_payload, yuan
from bot.actions.forms import ActionAskCard, ActionAskConfirm, TaskFormValidation, TaskSubmit, money


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
            text=f"“{name}”不在您的常用收款人中。为保障资金安全，向新收款人转账请在示例银行App"
                 "“转账”中填写收款账户并完成验证。您可以选择一位常用收款人：",
            buttons=buttons((p.name, inform_payload("payee", p.name)) for p in known.values()))
        return {"payee": None}

    def amount_problem(self, amount: Decimal, tracker: Tracker) -> Optional[Text]:
        limits = backend().transfer_limits(customer_id(tracker))
        if amount > limits.per_transaction:
            return (f"单笔转账限额为 {yuan(limits.per_transaction)}，请换一个金额；"
                    "更高额度可在示例银行App调整或到网点办理。")
        if limits.used_today + amount > limits.daily:
            left = max(limits.daily - limits.used_today, Decimal(0))
            return f"今日转账额度还剩 {yuan(left)}（日限额 {yuan(limits.daily)}），请换一个金额。"
        return None


class ActionAskTransferPayee(Action):
    def name(self) -> Text:
        return "action_ask_transfer_form_payee"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(
            text="请问要转给哪位收款人？",
            buttons=buttons((f"{p.name}（{p.bank} {p.account_masked}）", inform_payload("payee", p.name))
                            for p in _payees(tracker)))
        return []


class ActionAskTransferCard(ActionAskCard):
    kinds = ("debit",)
    prompt = "请问从哪张卡转出？"

    def name(self) -> Text:
        return "action_ask_transfer_form_card_last4"


class ActionAskTransferConfirm(ActionAskConfirm):
    confirm_title = "确认转账"

    def name(self) -> Text:
        return "action_ask_transfer_form_confirmed"

    def summary(self, tracker: Tracker) -> Text:
        return (f"请核对：从借记卡尾号 {tracker.get_slot('card_last4')} 向 {tracker.get_slot('payee')} "
                f"转账 {money(tracker.get_slot('amount'))}。确认后还需在示例银行App中完成安全验证才会转出。"
                "确认提交吗？")


class ActionSubmitTransfer(TaskSubmit):
    def name(self) -> Text:
        return "action_submit_transfer"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        operation = backend().request_transfer(cid, tracker.get_slot("card_last4"), tracker.get_slot("payee"),
                                               Decimal(tracker.get_slot("amount")))
        dispatcher.utter_message(
            text=(f"转账申请已提交（编号 {operation.reference}），请打开示例银行App，在“待确认交易”中完成"
                  "安全验证后资金才会转出。示例银行不会在聊天中向您索要密码或短信验证码，请勿向任何人透露。"),
            operation_reference=operation.reference)
