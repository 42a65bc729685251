"""check_balance and query_transactions: read-only, for a logged-in customer only."""
from __future__ import annotations

import datetime as dt
import logging
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import backend, call_bank, english, entity, today, yuan
from bot.actions.forms import amount_text, capitalised, card_label
from bot.actions.login import require_login

log = logging.getLogger(__name__)
DEFAULT_HISTORY_DAYS = 30
MAX_LISTED = 10
CARD_READ_TASKS = ("check_balance", "query_transactions", "credit_card_bill")
# (period defaulted to the last 30 days?, more items than listed?) -> the response
TRANSACTION_RESPONSES = {(False, False): "utter_transactions",
                         (True, False): "utter_transactions_default_period",
                         (False, True): "utter_transactions_truncated",
                         (True, True): "utter_transactions_default_period_truncated"}


class BankReadAction(Action, ABC):
    """Login check, then a read from the bank."""

    @abstractmethod
    def name(self) -> Text:
        """The action name in the domain."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        cid = require_login(dispatcher, tracker)
        if cid and not call_bank(dispatcher, self.name(), lambda: self.answer(dispatcher, tracker, cid)) \
                and entity(tracker, "card_last4"):
            self.offer_cards(dispatcher, tracker, cid)
        return [SlotSet("card_last4", None)]

    def offer_cards(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Text) -> None:
        """A card the customer does not have: the reason was said; now the valid options."""
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        task = intent if intent in CARD_READ_TASKS else CARD_READ_TASKS[0]
        cards = backend().cards(cid)
        dispatcher.utter_message(response="utter_your_cards", buttons=[
            {"title": card_label(c, english(tracker)), "payload": f'/{task}{{"card_last4": "{c.last4}"}}'}
            for c in cards])

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Text) -> None:
        raise NotImplementedError


class ActionCheckBalance(BankReadAction):
    def name(self) -> Text:
        return "action_check_balance"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Text) -> None:
        rows = backend().balances(cid, entity(tracker, "card_last4"))
        if english(tracker):
            lines = [f"{capitalised(card_label(card, True))}: {account.currency} {account.balance:,.2f} "
                     "available" for card, account in rows]
        else:
            lines = [f"{card_label(card)}：{account.currency} 可用余额 {yuan(account.balance)}"
                     if account.currency == "CNY" else
                     f"{card_label(card)}：{account.currency} 可用余额 {account.balance:,.2f}"
                     for card, account in rows]
        if lines:
            dispatcher.utter_message(response="utter_balances", lines="\n".join(lines))
        else:
            dispatcher.utter_message(response="utter_no_accounts")


def date_range(tracker: Tracker) -> Tuple[dt.date, dt.date, bool]:
    """(start, end, defaulted) from the date entity; the last 30 days when none was given."""
    value = entity(tracker, "date")
    if isinstance(value, dict):
        try:
            start, end = dt.date.fromisoformat(value["start"]), dt.date.fromisoformat(value["end"])
            return min(start, end), min(max(start, end), today()), False
        except (KeyError, TypeError, ValueError):
            log.warning("ignoring malformed date entity %r", value)
    return today() - dt.timedelta(days=DEFAULT_HISTORY_DAYS - 1), today(), True


class ActionQueryTransactions(BankReadAction):
    def name(self) -> Text:
        return "action_query_transactions"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Text) -> None:
        en = english(tracker)
        start, end, defaulted = date_range(tracker)
        items = backend().transactions(cid, start, end, entity(tracker, "card_last4"))
        first, last = f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}"
        if not items:
            dispatcher.utter_message(response="utter_no_transactions_default_period" if defaulted
                                     else "utter_no_transactions", start=first, end=last)
            return
        spent = sum((t.amount for t in items if t.amount < 0), Decimal(0))
        received = sum((t.amount for t in items if t.amount > 0), Decimal(0))
        card = "card ending " if en else "尾号"
        lines = [f"{t.booked_at:%m-%d} {card}{t.card_last4} {t.counterparty or t.description} "
                 f"{'+' if t.amount > 0 else ''}{t.amount:,.2f}" for t in items[:MAX_LISTED]]
        dispatcher.utter_message(response=TRANSACTION_RESPONSES[defaulted, len(items) > MAX_LISTED],
                                 start=first, end=last, count=len(items), spent=amount_text(-spent, en),
                                 received=amount_text(received, en), lines="\n".join(lines))
