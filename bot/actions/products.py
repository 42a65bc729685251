"""Public product information, no login needed: loan_inquiry, wealth_products, exchange_rate.

Figures come from the backend and are labelled as indicative: the bank's own
announcements and the approval decide.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import backend, buttons, call_bank, entity, inform_payload, yuan


LOAN_TYPE_ZH = {"mortgage": "住房贷款", "car": "汽车贷款", "consumer": "个人消费贷款", "business": "个人经营贷款"}
MAJOR_CURRENCIES = ("USD", "EUR", "JPY", "HKD", "GBP")


class ProductAction(Action, ABC):

    @abstractmethod
    def name(self) -> Text:
        """The action name in the domain."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        call_bank(dispatcher, self.name(), lambda: self.answer(dispatcher, tracker))
        return [SlotSet(slot, None) for slot in ("loan_type", "currency", "risk_level")]

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        raise NotImplementedError


class ActionLoanInquiry(ProductAction):
    def name(self) -> Text:
        return "action_loan_inquiry"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        loan_type = entity(tracker, "loan_type")
        products = backend().loan_products(loan_type)
        if not products:
            products = backend().loan_products()
        lines = [f"· {p.name}（{LOAN_TYPE_ZH.get(p.loan_type, p.loan_type)}）：{p.rate_text}，"
                 f"最高 {yuan(p.max_amount)}，最长 {p.max_term_months} 个月" for p in products]
        dispatcher.utter_message(
            text="示例银行的贷款产品参考如下：\n" + "\n".join(lines)
                 + "\n实际额度和利率以审批结果及示例银行公告为准。需要的话可以预约网点客户经理面谈。",
            buttons=buttons([("预约网点面谈", "/book_appointment"), ("转人工咨询", "/request_human")]))


class ActionWealthProducts(ProductAction):
    def name(self) -> Text:
        return "action_wealth_products"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        risk = entity(tracker, "risk_level")
        products = backend().wealth_products(max_risk=risk) if risk else backend().wealth_products()
        lines = [f"· {p.name}（{p.risk_level}，期限 {p.term_days} 天，{p.min_amount:,.0f} 元起）：{p.expected_yield_text}"
                 for p in products]
        dispatcher.utter_message(
            text="为您找到以下产品：\n" + "\n".join(lines)
                 + "\n理财非存款，产品有风险，投资须谨慎。购买前需完成风险承受能力评估，只能购买与评估结果相匹配的产品。",
            buttons=None if risk else buttons(
                [(f"只看 {level} 及以下", inform_payload("risk_level", level)) for level in ("R1", "R2", "R3")]))


class ActionExchangeRate(ProductAction):
    def name(self) -> Text:
        return "action_exchange_rate"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        currency = entity(tracker, "currency")
        if currency == "CNY":
            currency = None
        rates = backend().exchange_rates(currency)
        if not currency:
            rates = [r for r in rates if r.currency in MAJOR_CURRENCIES]
        lines = [f"· {r.name_zh} {r.currency}：现汇买入 {r.buy}，现钞买入 {r.cash_buy}，卖出 {r.sell}"
                 for r in rates]
        as_of = f"（{rates[0].as_of:%Y-%m-%d %H:%M} 牌价，每 100 外币兑人民币）" if rates else ""
        dispatcher.utter_message(
            text=f"示例银行外汇牌价{as_of}：\n" + "\n".join(lines) + "\n牌价实时变动，以交易时示例银行实时牌价为准。")
