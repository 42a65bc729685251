"""Building blocks shared by the task forms: card choice, amounts, confirmation, submit.

Each flow module subclasses these; a form asks only for slots still empty, a
slot is checked when it is filled (also when the customer corrects it later,
"不对，是4872"), and nothing changes before the customer confirms.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import (backend, buttons, call_bank, customer_id, entity, inform_payload, reset_task,
                                to_amount, yuan)
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


def eligible_cards(tracker: Tracker, kinds: tuple[str, ...]) -> list:
    cid = customer_id(tracker)
    if not cid:
        return []
    return [c for c in backend().cards(cid) if c.kind in kinds]


def card_label(card) -> Text:
    return f"{CARD_KIND_ZH.get(card.kind, card.kind)} 尾号{card.last4}"


class ActionAskCard(Action, ABC):
    """Offers the customer's own cards as buttons instead of asking for a number."""

    @abstractmethod
    def name(self) -> Text:
        """The action name in the domain."""

    kinds: tuple[str, ...] = ("debit", "credit")
    prompt = "请问是哪一张卡？请选择或告诉我卡号后四位。"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        cards = eligible_cards(tracker, self.kinds)
        dispatcher.utter_message(
            text=self.prompt,
            buttons=buttons((card_label(c), inform_payload("card_last4", c.last4)) for c in cards))
        return []


class TaskFormValidation(FormValidationAction, ABC):
    """Slot checks every task form shares."""

    @abstractmethod
    def name(self) -> Text:
        """The action name in the domain."""

    card_kinds: tuple[str, ...] = ("debit", "credit")

    async def extract_card_last4(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        cards = eligible_cards(tracker, self.card_kinds)
        if tracker.get_slot("card_last4") is None and len(cards) == 1:
            return {"card_last4": cards[0].last4}  # one card: nothing to ask
        if entity(tracker, "card_last4"):
            return {}
        digits = _bare_last4(tracker)
        requested = tracker.get_slot("requested_slot")
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
        if cards:
            dispatcher.utter_message(
                text=f"没有找到您名下尾号为 {last4 or '（空）'} 的可用卡片。您名下的卡有："
                     + "、".join(card_label(c) for c in cards) + "。")
        else:
            dispatcher.utter_message(text="没有找到您名下可办理此业务的卡片。")
        return {"card_last4": None}

    def validate_amount(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> Dict[Text, Any]:
        amount = to_amount(value)
        if amount is None or amount <= 0:
            dispatcher.utter_message(text="金额需要大于 0，请告诉我具体金额，例如“5000元”。")
            return {"amount": None}
        if amount != amount.quantize(Decimal("0.01")):
            dispatcher.utter_message(text="金额最多精确到分（两位小数），请重新告诉我金额。")
            return {"amount": None}
        problem = self.amount_problem(amount, tracker)
        if problem:
            dispatcher.utter_message(text=problem)
            return {"amount": None}
        return {"amount": str(amount)}

    def amount_problem(self, amount: Decimal, tracker: Tracker) -> Optional[Text]:
        """A flow-specific reason to refuse the amount, or None."""
        return None

    def validate_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> Dict[Text, Any]:
        corrected = set(tracker.slots_to_validate()) - {"confirmed", "requested_slot"}
        if corrected:  # "不对，是4872": the summary changed, so ask again
            return {"confirmed": None}
        return {"confirmed": bool(value)}


class TaskSubmit(Action, ABC):
    """Runs the confirmed operation once, reports the outcome, and clears the flow's slots."""

    @abstractmethod
    def name(self) -> Text:
        """The action name in the domain."""

    cancelled_text = "好的，已为您取消，没有办理任何业务。还有什么可以帮您？"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.get_slot("confirmed") is not True:
            dispatcher.utter_message(text=self.cancelled_text)
            return reset_task()
        cid = customer_id(tracker)
        call_bank(dispatcher, self.name(), lambda: self.submit(dispatcher, tracker, cid))
        return reset_task()

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        raise NotImplementedError


def money(value: Any) -> Text:
    amount = to_amount(value)
    return yuan(amount) if amount is not None else str(value)


class ActionAskConfirm(Action, ABC):
    """Summarises what is about to happen and asks for an explicit yes or no."""

    @abstractmethod
    def name(self) -> Text:
        """The action name in the domain."""

    confirm_title = "确认"

    def summary(self, tracker: Tracker) -> Text:
        raise NotImplementedError

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text=self.summary(tracker),
                                 buttons=buttons([(self.confirm_title, "/affirm"), ("取消", "/deny")]))
        return []
