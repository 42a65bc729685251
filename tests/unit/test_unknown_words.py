"""Keyboard mashing becomes nlu_fallback; anything with a known word, Chinese or digits is left alone."""
import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.unknown_words import UnknownWordsGuard, latin_words


@pytest.fixture()
def guard():
    return UnknownWordsGuard(model_storage=None, resource=None, vocabulary={"yhk", "balance", "my", "card", "hi"})


@pytest.mark.parametrize("text", ["asdfgh", "zxcv bnm poiu lkjh", "QWERTY!!"])
def test_unknown_latin_words_are_gibberish(guard, text):
    assert guard.is_gibberish(text)


@pytest.mark.parametrize("text", ["yhk", "check my balance", "Hi", "6688", "我的卡", "asdf 余额", "", "👍"])
def test_known_words_chinese_digits_and_emoji_are_left_to_the_classifier(guard, text):
    assert not guard.is_gibberish(text)


def test_process_replaces_the_guess_and_keeps_the_ranking(guard):
    message = Message(data={"text": "asdfgh", "intent": {"name": "affirm", "confidence": 0.95},
                            "intent_ranking": [{"name": "affirm", "confidence": 0.95}]})
    guard.process([message])
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "affirm"]


def test_latin_words_rejects_mixed_text():
    assert latin_words("hello there") == ["hello", "there"] and latin_words("hello 你好") is None
