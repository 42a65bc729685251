"""The NLU graph component attaches the KB assessment (hits, confidence, decision) to parsed messages."""
from types import SimpleNamespace

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.kb_retrieval import KB_KEY, UNAVAILABLE, KnowledgeBaseRetrieval
from knowledge_base.scoring import ANSWER, NO_ANSWER


@pytest.fixture(scope="module")
def component(retriever):
    comp = KnowledgeBaseRetrieval(KnowledgeBaseRetrieval.get_default_config())
    comp._live = SimpleNamespace(current=retriever)  # the real retriever the session already loaded
    return comp


def _kb(component, text):
    [message] = component.process([Message(data={"text": text})])
    assert KB_KEY in message.as_dict(only_output_properties=True)
    return message.get(KB_KEY)


def test_a_clear_knowledge_question_is_answered(component):
    kb = _kb(component, "信用卡的免息还款期最长多少天")
    assert kb["decision"] == ANSWER and kb["confidence"] > 0.5
    assert kb["hits"][0]["faq_id"] == "credit_card.interest_free_period"
    assert len(kb["hits"]) == 3 and kb["index_version"].startswith("v")


@pytest.mark.parametrize("text", ["今天天气怎么样", "帮我订一张去上海的机票", "", "你好"])
def test_chitchat_and_empty_text_get_no_answer(component, text):
    assert _kb(component, text)["decision"] == NO_ANSWER


def test_a_missing_index_degrades_to_unavailable_instead_of_failing(tmp_path):
    comp = KnowledgeBaseRetrieval({"top_k": 3, "index_dir": str(tmp_path)})
    assert _kb(comp, "开户要带什么")["decision"] == UNAVAILABLE
