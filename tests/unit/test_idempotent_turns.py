"""Which earlier answers a resent message gets (bot/idempotent_turns.py); the server test is in
tests/integration/test_rest_roundtrip.py."""
from __future__ import annotations

from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.idempotent_turns import client_message_id, earlier_turn, invalid_client_message_id, same_customer
from connectors.messages import customer_message


def _tracker() -> DialogueStateTracker:
    return DialogueStateTracker.from_events("rest:a", [
        UserUttered("你好", {"name": "greet"}, metadata={"message_id": "m-1"}),
        BotUttered("您好", {"buttons": [{"title": "查余额", "payload": "/check_balance"}]}),
        ActionExecuted("action_listen"),
        UserUttered("查余额", {"name": "check_balance"}, metadata={"message_id": "m-2"}),
        BotUttered("请先登录"), BotUttered("登录后再问我"),
        ActionExecuted("action_listen"),
        UserUttered("谢谢", {"name": "thank"}),
        BotUttered("不客气"),
    ], [])


def test_the_replies_to_a_client_id_are_the_bot_events_up_to_the_next_user_message():
    tracker = _tracker()
    user, replies = earlier_turn(tracker, "m-1")
    assert user.text == "你好" and [(b.text, b.data.get("buttons")) for b in replies] == [
        ("您好", [{"title": "查余额", "payload": "/check_balance"}])]
    user, replies = earlier_turn(tracker, "m-2")
    assert user.text == "查余额" and [b.text for b in replies] == ["请先登录", "登录后再问我"]


def test_an_unknown_id_or_conversation_is_a_new_turn():
    assert earlier_turn(_tracker(), "m-3") is None
    assert earlier_turn(None, "m-1") is None


def test_client_ids_are_bounded_text():
    assert client_message_id({"message_id": "a1_.:-"}) == "a1_.:-"
    for bad in (7, "", "x" * 65, "有空格 的", None):
        assert client_message_id({"message_id": bad}) is None
        assert invalid_client_message_id({"message_id": bad}) is not None
    assert invalid_client_message_id({}) is None and invalid_client_message_id(None) is None


def test_a_resend_is_replayed_only_for_the_identity_verified_on_the_first_copy(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_SECRETS_DIR", str(tmp_path))

    def sent(customer):
        return customer_message("查余额", None, "rest", "abc", customer, metadata={"message_id": "m-1"})

    def stored(customer) -> UserUttered:
        message = sent(customer)
        return UserUttered(message.text, metadata=message.metadata, message_id=message.message_id)

    assert same_customer(sent("C001"), stored("C001"))
    assert same_customer(sent(None), stored(None))
    assert not same_customer(sent(None), stored("C001"))  # the token left out: no replay of account data
    assert not same_customer(sent("C002"), stored("C001"))
    assert not same_customer(sent("C001"), stored(None))
