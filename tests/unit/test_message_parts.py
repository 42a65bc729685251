"""Splitting a message into its separate asks (bot/nlu/message_parts.py)."""
from __future__ import annotations

import pytest

from bot.nlu.linear_intents import LinearIntentModel
from bot.nlu.message_parts import ASK_KEY, clauses, message_parts


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


def test_clauses_split_at_commas_but_not_inside_an_amount():
    assert clauses("你好，打扰一下，给张三转1,000元, 谢谢") == ["你好", "打扰一下", "给张三转1,000元", "谢谢"]
    assert clauses("我想查一下余额") == ["我想查一下余额"]


COURTESY_AND_ASKS = {
    "greet": ["你好", "您好", "打扰一下", "hello", "在吗", "早上好", "你好呀", "请问在吗"],
    "thank": ["谢谢", "谢谢啦", "多谢", "非常感谢", "先谢谢了", "thanks"],
    "goodbye": ["再见", "拜拜", "就这样吧拜拜", "bye"],
    "faq": ["房贷要准备什么材料", "转账手续费怎么收", "开户要带什么证件", "信用卡年费多少", "办房贷需要哪些资料",
            "跨行转账收费吗"],
    "report_card_loss": ["我要挂失", "卡丢了帮我挂失", "帮我把银行卡挂失", "我的卡不见了要挂失"],
}


@pytest.fixture(scope="module")
def linear_component(encoder, tmp_path_factory):
    """The real component, trained on a few courtesy, question and task examples with the real encoder."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.linear_intents import LinearIntentClassifier

    data = TrainingData([Message({"text": t, "intent": i}) for i, texts in COURTESY_AND_ASKS.items() for t in texts])
    storage, resource = LocalModelStorage(tmp_path_factory.mktemp("linear")), Resource("linear")
    config = LinearIntentClassifier.get_default_config()
    LinearIntentClassifier.create(config, storage, resource, None).train(data)
    return LinearIntentClassifier.load(config, storage, resource, None)


def _read(component, text, diet_intent):
    """``text`` as DIET read it (one intent, sure), then the linear component."""
    from rasa.shared.nlu.training_data.message import Message

    ranking = [{"name": diet_intent, "confidence": 0.9}, {"name": "faq", "confidence": 0.1}]
    message = Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking})
    component.process([message])
    return message


def test_courtesy_around_a_question_gives_way_to_the_question(linear_component):
    message = _read(linear_component, "你好，打扰一下，办房贷要准备什么材料，谢谢啦", "greet")
    assert message.get(ASK_KEY) == "办房贷要准备什么材料"
    assert message.get("intent")["name"] == "faq"


def test_a_message_read_as_a_task_keeps_its_intent_but_is_looked_up_by_its_ask(linear_component):
    message = _read(linear_component, "你好，我的卡不见了要挂失，谢谢", "report_card_loss")
    assert message.get(ASK_KEY) == "我的卡不见了要挂失"
    assert message.get("intent")["name"] == "report_card_loss"


@pytest.mark.parametrize("text", ["你好，谢谢", "转账手续费怎么收，信用卡年费多少", "我要挂失"])
def test_no_ask_without_courtesy_around_something_else(linear_component, text):
    assert _read(linear_component, text, "faq").get(ASK_KEY) is None
