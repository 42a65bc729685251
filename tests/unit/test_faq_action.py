"""The FAQ action records provenance: bot event metadata {faq_id, score} and slot kb_answer_id."""
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.faq import ActionAnswerFaq


def _tracker(kb: dict) -> Tracker:
    latest = {"text": "开户带啥", "intent": {"name": "faq", "confidence": 0.9}, "entities": [], "kb": kb}
    return Tracker("c1", {}, latest, [], False, None, {}, "action_listen")


def test_confident_hit_is_answered_with_provenance():
    hit = {"faq_id": "account.open_materials", "score": 0.94, "question": "q", "answer": "请携带身份证。"}
    dispatcher = CollectingDispatcher()
    events = ActionAnswerFaq().run(dispatcher, _tracker({"decision": "answer", "hits": [hit]}), {})
    [message] = dispatcher.messages
    assert message["text"] == "请携带身份证。"
    assert (message["faq_id"], message["score"]) == ("account.open_materials", 0.94)
    assert events == [{"event": "slot", "timestamp": None, "name": "kb_answer_id",
                       "value": "account.open_materials"}]


def test_unconfident_or_missing_kb_says_so_and_clears_the_slot():
    for kb in ({"decision": "no_answer", "hits": [{"faq_id": "x", "score": 0.5}]}, {}, None):
        dispatcher = CollectingDispatcher()
        events = ActionAnswerFaq().run(dispatcher, _tracker(kb), {})
        assert dispatcher.messages[0]["response"] == "utter_kb_no_answer"
        assert "faq_id" not in dispatcher.messages[0]
        assert events[0]["name"] == "kb_answer_id" and events[0]["value"] is None
