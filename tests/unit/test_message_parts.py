"""Splitting a message into its separate asks (bot/nlu/message_parts.py)."""
from __future__ import annotations

import pytest

from bot.nlu.linear_intents import LinearIntentModel
from bot.nlu.message_parts import message_parts


@pytest.mark.parametrize("text,parts", [
    ("我的卡丢了，另外挂失要收费吗", ["我的卡丢了", "挂失要收费吗"]),
    ("帮我查下余额，再帮我看看美元汇率", ["帮我查下余额", "看看美元汇率"]),
    ("开手机银行要带什么？转账一天最多能转多少", ["开手机银行要带什么", "转账一天最多能转多少"]),
    ("I lost my card, and also what is the fee for a new one", ["I lost my card", "what is the fee for a new one"]),
    ("我想查一下余额", ["我想查一下余额"]),  # one ask: the text itself
    ("好的。谢谢", ["好的。谢谢"]),  # parts too short to be asks
])
def test_a_message_is_split_into_its_asks(text, parts):
    assert message_parts(text) == parts


def test_at_most_three_parts():
    assert len(message_parts("查下余额。查下流水。查下账单。查下汇率。")) == 3


def test_the_part_model_reads_intents_from_characters_and_embeddings():
    import numpy as np

    texts = ["查余额", "余额多少", "看看余额", "转账给他", "我要转账", "转一笔钱"]
    intents = ["check_balance"] * 3 + ["transfer_money"] * 3
    vectors = np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3)
    model = LinearIntentModel().fit(texts, vectors, intents)
    [(first, p1), (second, p2)] = model.predict(["查一下余额", "帮我转账"], np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert (first, second) == ("check_balance", "transfer_money") and min(p1, p2) > 0.5


@pytest.mark.parametrize("text", ["我的工资卡里还有多少余额", "I also lost my card yesterday", "顺便帮我看看这张卡"])
def test_joining_words_that_mean_something_else_do_not_split(text):
    assert message_parts(text) == [text]


def test_the_linear_reading_is_combined_with_diets_ranking():
    """DIET unsure between two intents, the linear model sure: the combination follows the evidence of both."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.linear_intents import LinearIntentClassifier

    component = LinearIntentClassifier(LinearIntentClassifier.get_default_config(), None, None)
    message = Message(data={"text": "给周八转1000", "intent": {"name": "inform", "confidence": 0.55},
                            "intent_ranking": [{"name": "inform", "confidence": 0.55},
                                               {"name": "transfer_money", "confidence": 0.45}]})
    component._blend(message, {"transfer_money": 0.95, "inform": 0.02, "greet": 0.03})
    assert message.get("intent")["name"] == "transfer_money"
    assert 0.8 < message.get("intent")["confidence"] < 0.9
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking] == ["transfer_money", "inform", "greet"]
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-5
    agreeing = Message(data={"text": "查余额", "intent": {"name": "check_balance", "confidence": 0.97},
                             "intent_ranking": [{"name": "check_balance", "confidence": 0.97},
                                                {"name": "inform", "confidence": 0.03}]})
    component._blend(agreeing, {"check_balance": 0.8, "inform": 0.1, "greet": 0.1})
    assert agreeing.get("intent")["confidence"] > 0.9  # both agree: as sure as DIET
