"""Actions against a real sandbox bank (SQLite in a temp dir): login gate, answers, refusals, outages."""
import datetime as dt

import pytest
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import common
from bot.actions.accounts import ActionCheckBalance
from bot.actions.common import call_bank
from bot.actions.products import ActionExchangeRate
from bot.banking import errors
from bot.banking.sandbox import SandboxBank
from bot.identity import identity_metadata
from bot.settings import REPO_ROOT

NLG = TemplatedNaturalLanguageGenerator(Domain.load(str(REPO_ROOT / "bot" / "domain")).responses)


@pytest.fixture(autouse=True)
def bank(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_SECRETS_DIR", str(tmp_path / "secrets"))
    sandbox = SandboxBank(f"sqlite:///{tmp_path / 'bank.db'}", today=lambda: dt.date(2026, 11, 24))
    monkeypatch.setattr(common, "backend", lambda: sandbox)
    monkeypatch.setattr("bot.actions.accounts.backend", lambda: sandbox)
    monkeypatch.setattr("bot.actions.products.backend", lambda: sandbox)
    return sandbox


def _tracker(text, customer=None, entities=()):
    """A tracker whose newest user message was sealed by the REST channel for `customer`."""
    metadata = identity_metadata(customer, "rest", "rest:s1", "m1")
    latest = {"text": text, "intent": {"name": "x"}, "entities": list(entities), "metadata": metadata}
    events = [{"event": "user", "text": text, "message_id": "m1", "metadata": metadata}]
    return Tracker("rest:s1", {}, latest, events, False, None, {}, "action_listen")


def _run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


def _text(message):
    """What the customer reads: a response is rendered as Rasa does it (Chinese default, no slots set)."""
    if not message.get("response"):
        return message["text"]
    values = {k: v for k, v in message.items() if k not in ("response", "template", "buttons")}
    return NLG.generate_from_slots(message["response"], {}, "rest", **values)["text"]


def test_balance_needs_a_login_and_reveals_nothing_without_one():
    [message], _ = _run(ActionCheckBalance(), _tracker("查余额"))
    assert message["response"] == "utter_login_required"


def test_balance_of_a_logged_in_customer():
    [message], _ = _run(ActionCheckBalance(), _tracker("查余额", "C001"))
    assert "6688" in _text(message) and "52,380.50" in _text(message)


def test_an_unknown_card_is_a_polite_refusal_with_the_valid_options():
    entities = [{"entity": "card_last4", "value": "0000"}]
    [message, options], _ = _run(ActionCheckBalance(), _tracker("尾号0000余额", "C001", entities))
    assert message["text"] == errors.CardNotFound.message_zh
    assert options["response"] == "utter_your_cards"
    assert {b["payload"] for b in options["buttons"]} >= {'/check_balance{"card_last4": "6688"}',
                                                          '/check_balance{"card_last4": "4872"}'}


def test_exchange_rate_for_one_currency_and_for_the_majors():
    [usd], _ = _run(ActionExchangeRate(), _tracker("美元汇率", entities=[{"entity": "currency", "value": "USD"}]))
    assert "美元" in _text(usd) and "欧元" not in _text(usd)
    [majors], _ = _run(ActionExchangeRate(), _tracker("汇率"))
    assert all(name in _text(majors) for name in ("美元", "欧元", "日元", "港币", "英镑"))


def test_call_bank_turns_refusals_and_outages_into_replies():
    dispatcher = CollectingDispatcher()

    def refused():
        raise errors.LimitExceeded("too much")

    def outage():
        raise ConnectionError("core banking down")

    assert call_bank(dispatcher, "a", refused) is False
    assert call_bank(dispatcher, "b", outage) is False
    assert call_bank(dispatcher, "c", lambda: None) is True
    assert dispatcher.messages[0]["text"] == errors.LimitExceeded.message_zh
    assert dispatcher.messages[1]["response"] == "utter_backend_unavailable"


def test_a_second_task_asked_with_the_first_is_offered_when_the_first_is_done():
    from bot.actions.service import ActionSubmitComplaint

    tracker = _tracker("服务太差了")
    tracker.slots.update({"pending_task": "check_balance", "complaint_text": "服务太差了"})
    messages, events = _run(ActionSubmitComplaint(), tracker)
    assert messages[-1]["response"] == "utter_offer_check_balance"
    assert {"event": "slot", "timestamp": None, "name": "pending_task", "value": None} in events
    assert "余额" in _text(messages[-1])
    tracker.slots["pending_task"] = None
    messages, _ = _run(ActionSubmitComplaint(), tracker)
    assert all(m.get("response") != "utter_offer_check_balance" for m in messages)


def test_a_resent_transfer_confirmation_submits_one_operation(bank, monkeypatch):
    """The confirming message ran twice (its first answer was lost with the tracker store): the
    customer is told the same reference and the bank holds one operation, not two."""
    from bot.actions.transfer import ActionSubmitTransfer

    monkeypatch.setattr("bot.actions.transfer.backend", lambda: bank)
    slots = {"confirmed": True, "card_last4": "6688", "payee": "张三", "amount": "500"}

    def confirming(message_id, client_id):
        metadata = {**identity_metadata("C001", "rest", "rest:s1", message_id), "message_id": client_id}
        latest = {"text": "确认", "intent": {"name": "affirm"}, "entities": [], "metadata": metadata,
                  "message_id": message_id}
        events = [{"event": "user", "text": "确认", "message_id": message_id, "metadata": metadata}]
        return Tracker("rest:s1", slots, latest, events, False, None, {}, "action_listen")

    references = []
    for message_id in ("rasa-1", "rasa-2"):  # Rasa gives each copy its own id; the client's id is the same
        messages, _ = _run(ActionSubmitTransfer(), confirming(message_id, "client-7"))
        references.append(next(m["operation_reference"] for m in messages if m.get("operation_reference")))
    assert references[0] == references[1]
    messages, _ = _run(ActionSubmitTransfer(), confirming("rasa-3", "client-8"))  # a new confirmation
    assert next(m["operation_reference"] for m in messages if m.get("operation_reference")) != references[0]
