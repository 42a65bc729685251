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

from bot.actions.common import backend, call_bank, entity, today, yuan
from bot.actions.forms import card_label
from bot.actions.login import require_login

log = logging.getLogger(__name__)
DEFAULT_HISTORY_DAYS = 30
MAX_LISTED = 10


class BankReadAction(Action, ABC):
    """Login check, then a read from the bank."""

    @abstractmethod
    def name(self) -> Text:
        """The action name in the domain."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        cid = require_login(dispatcher, tracker)
        if cid:
            call_bank(dispatcher, self.name(), lambda: self.answer(dispatcher, tracker, cid))
        return [SlotSet("card_last4", None)]

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Text) -> None:
        raise NotImplementedError


class ActionCheckBalance(BankReadAction):
    def name(self) -> Text:
        return "action_check_balance"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Text) -> None:
        rows = backend().balances(cid, entity(tracker, "card_last4"))
        lines = [f"{card_label(card)}：{account.currency} 可用余额 {yuan(account.balance)}"
                 if account.currency == "CNY" else
                 f"{card_label(card)}：{account.currency} 可用余额 {account.balance:,.2f}"
                 for card, account in rows]
        dispatcher.utter_message(text="您的账户余额如下：\n" + "\n".join(lines) if lines
                                 else "没有查到您名下的账户。")


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
        start, end, defaulted = date_range(tracker)
        items = backend().transactions(cid, start, end, entity(tracker, "card_last4"))
        period = f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}" + ("（默认近30天，可以说“上个月”等指定时间）" if defaulted else "")
        if not items:
            dispatcher.utter_message(text=f"{period} 没有查到交易记录。")
            return
        spent = sum((t.amount for t in items if t.amount < 0), Decimal(0))
        received = sum((t.amount for t in items if t.amount > 0), Decimal(0))
        lines = [f"{t.booked_at:%m-%d} 尾号{t.card_last4} {t.counterparty or t.description} "
                 f"{'+' if t.amount > 0 else ''}{t.amount:,.2f}" for t in items[:MAX_LISTED]]
        more = f"\n……共 {len(items)} 笔，完整明细请在示例银行App查看。" if len(items) > MAX_LISTED else ""
        dispatcher.utter_message(
            text=f"{period} 共 {len(items)} 笔交易，支出 {yuan(-spent)}，收入 {yuan(received)}：\n"
                 + "\n".join(lines) + more)
