"""Building blocks shared by the task forms: card choice, amounts, confirmation, submit.

Each flow module subclasses these; a form asks only for slots still empty, a
slot is checked when it is filled (also when the customer corrects it later,
"不对，是4872"), and nothing changes before the customer confirms.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import (backend, buttons, call_bank, customer_id, date_zh, english, entity, inform_payload,
                                offer_pending, reset_task, to_amount, turn_command, yuan)
from bot.dialogue.state import PENDING_SLOT
from bot.nlu.entity_values import parse_bare_amount


_LAST4 = re.compile(r"(?<!\d)\d{4}(?!\d)")
_CORRECTION = re.compile(r"^(不对|不是|错了|改成|改为|换成|应该是|是)[，,。\s]*(是|改成|改为)?")


def _bare_last4(tracker: Tracker) -> Optional[Text]:
    """The one standalone 4-digit number of a short message, if that is all it holds."""
    text = (tracker.latest_message.get("text") or "").strip()
    found = _LAST4.findall(text)
    rest = _CORRECTION.sub("", _LAST4.sub("", text)).strip(" ，,。.!！那张这张卡的号尾")
    return found[0] if len(found) == 1 and not rest else None


CARD_KIND_ZH = {"debit": "借记卡", "credit": "信用卡"}
CARD_KIND_EN = {"debit": "debit card", "credit": "credit card"}
# Names of the fixed options, for English replies and buttons (the slot values stay Chinese).
CITY_EN = {"北京": "Beijing", "上海": "Shanghai", "广州": "Guangzhou", "深圳": "Shenzhen", "杭州": "Hangzhou"}
SERVICE_EN = {"大额取现": "large cash withdrawal", "开户": "account opening", "外币兑换": "foreign currency exchange",
              "理财咨询": "wealth management advice", "贷款面谈": "loan consultation", "其他业务": "other services"}
WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December")


def eligible_cards(tracker: Tracker, kinds: tuple[str, ...]) -> list:
    cid = customer_id(tracker)
    if not cid:
        return []
    return [c for c in backend().cards(cid) if c.kind in kinds]


def card_label(card, en: bool = False) -> Text:
    """"借记卡 尾号6688" / "debit card ending 6688"."""
    if en:
        return f"{CARD_KIND_EN.get(card.kind, card.kind)} ending {card.last4}"
    return f"{CARD_KIND_ZH.get(card.kind, card.kind)} 尾号{card.last4}"


def capitalised(text: Text) -> Text:
    """A button title or a line start: "debit card ending 6688" → "Debit card ending 6688"."""
    return text[:1].upper() + text[1:]


def reply(response: Text, **variables: Any) -> Dict[Text, Any]:
    """A domain response and the values of its {placeholders}: `dispatcher.utter_message(**reply(...))`."""
    return {"response": response, **variables}


def amount_text(amount: Decimal, en: bool = False) -> Text:
    """"1,200.00 元" / "CNY 1,200.00"."""
    return f"CNY {amount:,.2f}" if en else yuan(amount)


def date_text(day: dt.date, en: bool = False) -> Text:
    """"12月3日（周三）" / "Wednesday 3 December"."""
    return f"{WEEKDAY_EN[day.weekday()]} {day.day} {MONTH_EN[day.month - 1]}" if en else date_zh(day)


def city_name(city: Any, en: bool = False) -> Any:
    return CITY_EN.get(city, city) if en else city


def service_name(service: Any, en: bool = False) -> Any:
    return SERVICE_EN.get(service, service) if en else service


SLOT_LABELS = {"zh": {"amount": "金额", "card_last4": "卡片", "payee": "收款人", "city": "城市", "district": "区域",
                      "branch_id": "网点", "service": "业务", "appointment_date": "日期", "time_slot": "时段",
                      "card_product": "卡种"},
               "en": {"amount": "amount", "card_last4": "card", "payee": "payee", "city": "city",
                      "district": "district", "branch_id": "branch", "service": "service",
                      "appointment_date": "date", "time_slot": "time", "card_product": "card product"}}


def slot_label(name: Text, tracker: Tracker) -> Text:
    labels = SLOT_LABELS["en" if english(tracker) else "zh"]
    return labels.get(name, name)


def display_value(name: Text, value: Any, en: bool = False) -> Text:
    if name == "amount":
        return money(value, en)
    if name == "card_last4":
        return f"the one ending {value}" if en else f"尾号{value}"
    if en and name == "city":
        return str(city_name(value, en))
    if en and name == "service":
        return str(service_name(value, en))
    if en and name == "appointment_date":
        try:
            return date_text(dt.date.fromisoformat(str(value)), en)
        except ValueError:
            return str(value)
    return str(value)


def _card_by_product(text: Text, cards: list) -> Optional[Text]:
    """The one card whose product name ("工资卡" in "示例银行工资卡") the text uses."""
    named = [c.last4 for c in cards if (stem := c.product.removeprefix("示例银行")) and len(stem) >= 3 and stem in text]
    return named[0] if len(named) == 1 else None


class ActionAskCard(Action, ABC):
    """Offers the customer's own cards as buttons instead of asking for a number."""

    @abstractmethod
    def name(self) -> Text:
        """The action name in the domain."""

    kinds: tuple[str, ...] = ("debit", "credit")
    response = "utter_ask_card"  # the question; a response without buttons (the cards are added here)

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        en = english(tracker)
        cards = eligible_cards(tracker, self.kinds)
        dispatcher.utter_message(
            response=self.response,
            buttons=buttons((capitalised(card_label(c, en)), inform_payload("card_last4", c.last4))
                            for c in cards))
        return []


class TaskFormValidation(FormValidationAction, ABC):
    """Slot checks every task form shares."""

    @abstractmethod
    def name(self) -> Text:
        """The action name in the domain."""

    card_kinds: tuple[str, ...] = ("debit", "credit")

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[Dict[Text, Any]]:
        events = await super().run(dispatcher, tracker, domain)
        command = turn_command(tracker)
        if command.get("act") == "correct_slots":
            for event in events:
                name, value = event.get("name"), event.get("value")
                if event.get("event") == "slot" and name in command.get("slots", {}) and value is not None:
                    dispatcher.utter_message(response="utter_corrected", slot_label=slot_label(name, tracker),
                                             value=display_value(name, value, english(tracker)))
        return events

    async def extract_card_last4(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        cards = eligible_cards(tracker, self.card_kinds)
        if tracker.get_slot("card_last4") is None and len(cards) == 1:
            return {"card_last4": cards[0].last4}  # one card: nothing to ask
        if entity(tracker, "card_last4"):
            return {}
        named = _card_by_product(tracker.latest_message.get("text") or "", cards)
        requested = tracker.get_slot("requested_slot")
        if named and (requested == "card_last4" or turn_command(tracker).get("act") == "correct_slots"):
            return {"card_last4": named}  # "用我的工资卡转"
        digits = _bare_last4(tracker)
        if digits and (requested == "card_last4"
                       or (requested == "confirmed" and digits in {c.last4 for c in cards})):
            return {"card_last4": digits}  # "6688" answering the question, or "不对，是4872"
        return {}

    async def extract_amount(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> Dict[Text, Any]:
        if entity(tracker, "amount") or tracker.get_slot("requested_slot") not in ("amount", "confirmed"):
            return {}
        text = _CORRECTION.sub("", tracker.latest_message.get("text") or "")
        amount = parse_bare_amount(text)
        if amount is None or (tracker.get_slot("requested_slot") == "confirmed" and _bare_last4(tracker)
                              in {c.last4 for c in eligible_cards(tracker, self.card_kinds)}):
            return {}
        return {"amount": amount}

    def validate_card_last4(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> Dict[Text, Any]:
        last4 = str(value or "").strip()
        cards = eligible_cards(tracker, self.card_kinds)
        if any(c.last4 == last4 for c in cards):
            return {"card_last4": last4}
        en = english(tracker)
        if cards:
            dispatcher.utter_message(response="utter_card_not_found",
                                     card_last4=last4 or ("(none)" if en else "（空）"),
                                     cards=(", " if en else "、").join(card_label(c, en) for c in cards))
        else:
            dispatcher.utter_message(response="utter_no_eligible_card")
        return {"card_last4": None}

    def validate_amount(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> Dict[Text, Any]:
        amount = to_amount(value)
        if amount is None or amount <= 0:
            dispatcher.utter_message(response="utter_amount_not_positive")
            return {"amount": None}
        if amount != amount.quantize(Decimal("0.01")):
            dispatcher.utter_message(response="utter_amount_too_precise")
            return {"amount": None}
        problem = self.amount_problem(amount, tracker)
        if problem:
            dispatcher.utter_message(**problem)
            return {"amount": None}
        return {"amount": str(amount)}

    def amount_problem(self, amount: Decimal, tracker: Tracker) -> Optional[Dict[Text, Any]]:
        """A flow-specific reason to refuse the amount, as `reply(response, **variables)`, or None."""
        return None

    def validate_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> Dict[Text, Any]:
        corrected = set(tracker.slots_to_validate()) - {"confirmed", "requested_slot"}
        if corrected or value is None:  # "不对，是4872": the summary changed, so ask again
            return {"confirmed": None}
        return {"confirmed": bool(value)}


class TaskSubmit(Action, ABC):
    """Runs the confirmed operation once, reports the outcome, and clears the flow's slots."""

    @abstractmethod
    def name(self) -> Text:
        """The action name in the domain."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.get_slot("confirmed") is not True:
            dispatcher.utter_message(response="utter_cancelled")
            return reset_task([PENDING_SLOT])
        cid = customer_id(tracker)
        call_bank(dispatcher, self.name(), lambda: self.submit(dispatcher, tracker, cid))
        return reset_task() + offer_pending(dispatcher, tracker)

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        raise NotImplementedError


def request_key(tracker: Tracker, purpose: Text = "") -> Optional[Text]:
    """Names the customer's confirming message for the bank, so that a resend of that message (same
    client `metadata.message_id`, after a dropped connection or a store outage) finds the operation
    its first copy created instead of creating a second. Without a client id, Rasa's own message id:
    unique per request, so it never merges two different confirmations. `purpose` keeps apart two
    things one message may create (a ticket of each kind)."""
    latest = tracker.latest_message or {}
    client_id = (latest.get("metadata") or {}).get("message_id")
    turn = client_id if isinstance(client_id, str) and client_id else latest.get("message_id")
    if not turn:
        return None
    return hashlib.sha256(f"{tracker.sender_id}\0{turn}\0{purpose}".encode("utf-8")).hexdigest()


def money(value: Any, en: bool = False) -> Text:
    amount = to_amount(value)
    return amount_text(amount, en) if amount is not None else str(value)


class ActionAskConfirm(Action, ABC):
    """Summarises what is about to happen and asks for an explicit yes or no.

    The summary is a domain response whose buttons are the confirm (/affirm) and cancel (/deny) choices.
    """

    @abstractmethod
    def name(self) -> Text:
        """The action name in the domain."""

    def summary(self, tracker: Tracker) -> Dict[Text, Any]:
        """`reply(response, **variables)` for the summary."""
        raise NotImplementedError

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(**self.summary(tracker))
        return []
