"""What every flow's actions share: the bank backend, the customer's identity, formatting.

Personal data never reaches a log line unmasked (bot.banking.masking).
"""
from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Callable, Dict, Iterable, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet

from bot.identity import current_customer

log = logging.getLogger(__name__)

# Slots a task flow fills; cleared when the flow ends, is cancelled or is switched away from.
TASK_SLOTS = ("card_last4", "amount", "payee", "confirmed", "city", "district", "branch_id",
              "service", "appointment_date", "time_slot", "currency", "loan_type", "risk_level",
              "card_product", "complaint_text", "requested_slot")


@lru_cache(maxsize=1)
def backend():
    from bot.banking import load_backend
    from bot.settings import load_settings

    return load_backend(load_settings().bank_db_url)


def today() -> dt.date:
    return dt.date.today()


def customer_id(tracker: Tracker) -> Optional[Text]:
    """The customer the channel verified on the CURRENT message; nothing is inherited (bot/identity.py)."""
    return current_customer(tracker.sender_id, tracker.events)


def turn_command(tracker: Tracker) -> Dict[Text, Any]:
    """How the dialogue policy read the current turn (bot/dialogue), or {} when Rasa's rules handled it."""
    record = tracker.get_slot("dialogue_turn")
    message_id = (tracker.latest_message or {}).get("message_id")
    if not isinstance(record, dict) or not message_id or record.get("turn_id") != message_id:
        return {}
    return record.get("command") or {}


def turn_intent(tracker: Tracker) -> Text:
    """The task this turn is about: the policy's reading when it made one, else the NLU intent."""
    return turn_command(tracker).get("intent") or (tracker.latest_message.get("intent") or {}).get("name") or ""


def english(tracker: Tracker) -> bool:
    """Does the customer write in English? (the `language` slot, bot/domain/dialogue.yml)

    Replies are domain responses with a Chinese default and an English variation; Python only
    picks the language for what it composes itself: list lines, option buttons, labels, values.
    """
    return tracker.get_slot("language") == "en"


def entity(tracker: Tracker, name: Text) -> Any:
    """A value the customer gave in this turn, or one the dialogue policy carried over ("那日元呢")."""
    found = next(tracker.get_latest_entity_values(name), None)
    return found if found is not None else (turn_command(tracker).get("slots") or {}).get(name)


def to_amount(value: Any) -> Optional[Decimal]:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def yuan(amount: Decimal) -> Text:
    return f"{amount:,.2f} 元"


def date_zh(day: dt.date) -> Text:
    weekday = "一二三四五六日"[day.weekday()]
    return f"{day.month}月{day.day}日（周{weekday}）"


def offer_pending(dispatcher: Any, tracker: Tracker) -> List[Dict[Text, Any]]:
    """A flow is done: offer the second task the customer asked for in the same message ("…，再帮我查余额")."""
    from bot.dialogue.state import OFFER_PREFIX, PENDING_SLOT

    task = tracker.get_slot(PENDING_SLOT)
    if not task:
        return []
    dispatcher.utter_message(response=OFFER_PREFIX + str(task))
    return [SlotSet(PENDING_SLOT, None)]


def reset_task(extra: Iterable[Text] = ()) -> List[Dict[Text, Any]]:
    """Events that end any running flow and forget its slots."""
    return [ActiveLoop(None)] + [SlotSet(name, None) for name in (*TASK_SLOTS, *extra)]


def buttons(options: Iterable[tuple[Text, Text]]) -> List[Dict[Text, Text]]:
    """(title, payload) pairs as Rasa buttons."""
    return [{"title": title, "payload": payload} for title, payload in options]


def inform_payload(slot: Text, value: Text) -> Text:
    import json

    return "/inform" + json.dumps({slot: value}, ensure_ascii=False)


def call_bank(dispatcher: Any, action_name: Text, work: Callable[[], None]) -> bool:
    """Run a backend call; a refusal or an outage is told to the customer, never raised."""
    from bot.banking.errors import BankingError

    try:
        work()
        return True
    except BankingError as exc:
        dispatcher.utter_message(text=exc.message_zh)
    except Exception:
        log.exception("%s failed", action_name)
        dispatcher.utter_message(response="utter_backend_unavailable")
    return False
