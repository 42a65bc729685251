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

from bot.actions.common import backend, call_bank, english, entity, yuan
from bot.actions.forms import amount_text


LOAN_TYPE_ZH = {"mortgage": "住房贷款", "car": "汽车贷款", "consumer": "个人消费贷款", "business": "个人经营贷款"}
LOAN_TYPE_EN = {"mortgage": "home loan", "car": "car loan", "consumer": "personal consumer loan",
                "business": "personal business loan"}
MAJOR_CURRENCIES = ("USD", "EUR", "JPY", "HKD", "GBP")
CURRENCY_EN = {"USD": "US dollar", "EUR": "Euro", "JPY": "Japanese yen", "HKD": "Hong Kong dollar",
               "GBP": "British pound", "AUD": "Australian dollar", "CAD": "Canadian dollar",
               "SGD": "Singapore dollar"}


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
        if english(tracker):
            lines = [f"· {p.name} ({LOAN_TYPE_EN.get(p.loan_type, p.loan_type)}): {p.rate_text}; "
                     f"up to {amount_text(p.max_amount, True)}, for up to {p.max_term_months} months"
                     for p in products]
        else:
            lines = [f"· {p.name}（{LOAN_TYPE_ZH.get(p.loan_type, p.loan_type)}）：{p.rate_text}，"
                     f"最高 {yuan(p.max_amount)}，最长 {p.max_term_months} 个月" for p in products]
        dispatcher.utter_message(response="utter_loan_products", lines="\n".join(lines))


class ActionWealthProducts(ProductAction):
    def name(self) -> Text:
        return "action_wealth_products"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        risk = entity(tracker, "risk_level")
        products = backend().wealth_products(max_risk=risk) if risk else backend().wealth_products()
        if english(tracker):
            lines = [f"· {p.name} ({p.risk_level}, {p.term_days}-day term, from CNY {p.min_amount:,.0f}): "
                     f"{p.expected_yield_text}" for p in products]
        else:
            lines = [f"· {p.name}（{p.risk_level}，期限 {p.term_days} 天，{p.min_amount:,.0f} 元起）："
                     f"{p.expected_yield_text}" for p in products]
        # Without a risk level the reply offers to narrow the list (R1 / R2 / R3 and below) as buttons.
        dispatcher.utter_message(
            response="utter_wealth_products" if risk else "utter_wealth_products_with_filters",
            lines="\n".join(lines))


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
        if english(tracker):
            lines = [f"· {CURRENCY_EN.get(r.currency, r.name_zh)} ({r.currency}): TT buying {r.buy}, "
                     f"cash buying {r.cash_buy}, selling {r.sell}" for r in rates]
        else:
            lines = [f"· {r.name_zh} {r.currency}：现汇买入 {r.buy}，现钞买入 {r.cash_buy}，卖出 {r.sell}"
                     for r in rates]
        if rates:
            dispatcher.utter_message(response="utter_exchange_rates",
                                     as_of=f"{rates[0].as_of:%Y-%m-%d %H:%M}", lines="\n".join(lines))
        else:
            dispatcher.utter_message(response="utter_exchange_rates_without_time", lines="\n".join(lines))
