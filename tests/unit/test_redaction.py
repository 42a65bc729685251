"""Secrets typed into the chat are hidden before Rasa, logs or agents see them (connectors/redaction.py)."""
from __future__ import annotations

import pytest

from connectors.messages import customer_message
from connectors.redaction import redact


@pytest.mark.parametrize("text,secret,kind", [
    ("我收到一个验证码 552903，发给你你帮我弄", "552903", "otp"),
    ("my OTP is 483920", "483920", "otp"),
    ("交易密码是147258", "147258", "password"),
    ("信用卡背面安全码是917", "917", "password"),
    ("我身份证号是110101199001010011，你查一下", "110101199001010011", "id_number"),
    ("卡号6217000000016688丢了", "6217000000016688", "card_number"),
])
def test_secrets_are_hidden_and_named(text, secret, kind):
    hidden = redact(text)
    assert secret not in hidden.text
    assert kind in hidden.kinds


@pytest.mark.parametrize("text", ["转账5000给张三", "尾号6688的卡", "验证码一直收不到怎么办", "我忘了登录密码",
                                  "下周三上午十点", "手机银行转账限额多少"])
def test_ordinary_messages_pass_unchanged(text):
    assert redact(text).text == text and redact(text).kinds == ()


def test_the_channel_hands_rasa_the_hidden_text_and_what_was_hidden():
    message = customer_message("验证码 552903 给你", None, "rest", "abc", None, metadata={"redacted": ["forged"]})
    assert "552903" not in message.text
    assert message.metadata["redacted"] == ["otp"]


def test_a_client_cannot_claim_a_redaction():
    message = customer_message("你好", None, "rest", "abc", None, metadata={"redacted": ["otp"]})
    assert "redacted" not in message.metadata
