"""The NLU graph component attaches KB hits and the answer decision to parsed messages."""
import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.kb_retrieval import ANSWER, KB_KEY, NO_ANSWER, UNAVAILABLE, KnowledgeBaseRetrieval


@pytest.fixture(scope="module")
def component(retriever):
    comp = KnowledgeBaseRetrieval({**KnowledgeBaseRetrieval.get_default_config()})
    comp._retriever = retriever  # the same real retriever the session already loaded
    return comp


def _kb(component, text):
    [message] = component.process([Message(data={"text": text})])
    assert KB_KEY in message.as_dict(only_output_properties=True)
    return message.get(KB_KEY)


def test_a_knowledge_question_is_marked_answerable(component):
    kb = _kb(component, "存款保险最多保多少钱")
    assert kb["decision"] == ANSWER
    assert kb["hits"][0]["faq_id"] == "deposit_wealth.deposit_insurance"
    assert len(kb["hits"]) == 3 and kb["index_version"].startswith("v")


@pytest.mark.parametrize("text", ["今天天气怎么样", "帮我订一张去上海的机票", ""])
def test_chitchat_and_empty_text_get_no_answer(component, text):
    assert _kb(component, text)["decision"] == NO_ANSWER


def test_a_missing_index_degrades_to_unavailable_instead_of_failing(tmp_path):
    comp = KnowledgeBaseRetrieval({"top_k": 3, "index_dir": str(tmp_path)})
    assert _kb(comp, "开户要带什么")["decision"] == UNAVAILABLE
