"""The several-asks measure (intents/several_asks.py): repeatable composites and an honest check."""
from __future__ import annotations

from intents.several_asks import composites, handled

ROWS = [("帮我查下余额", "task", "check_balance"), ("看看美元汇率", "task", "exchange_rate"),
        ("Check my balance please", "task", "check_balance"), ("Show me the dollar rate", "task", "exchange_rate"),
        ("跨行转账收手续费吗", "faq", "transfer.fee"), ("Is there a fee for transfers", "faq", "transfer.fee")]


def test_composites_repeat_exactly_and_keep_one_language():
    first, again = composites(ROWS, count=10), composites(ROWS, count=10)
    assert first == again and len(first) == 20
    for case in first:  # an English request is joined to an English ask, a Chinese one to a Chinese ask
        assert case["text"].isascii() or not case["text"][0].isascii()


def _parse(parts_kb, intent, parts):
    return {"text": "…", "intent": {"name": intent, "confidence": 0.9}, "intent_ranking": [],
            "entities": [], "kb": {"decision": "no_answer", "hits": [], "parts": parts_kb}, "parts": parts}


def test_a_request_and_a_question_count_only_when_both_are_served():
    parts = [{"text": "帮我查下余额", "intent": "check_balance", "confidence": 0.95, "question": 0.1,
              "kb": {"decision": "no_answer"}},
             {"text": "跨行转账收手续费吗", "intent": "faq", "confidence": 0.9, "question": 0.95,
              "kb": {"decision": "answer", "faq_id": "transfer.fee"}}]
    kb_parts = [{"text": "跨行转账收手续费吗", "decision": "answer", "hits": [{"faq_id": "transfer.fee"}]}]
    case = {"kind": "request+question", "task": "check_balance", "second": "transfer.fee"}
    assert handled(_parse(kb_parts, "check_balance", parts), case)
    assert not handled(_parse(kb_parts, "check_balance", parts), {**case, "second": "transfer.limit"})
    assert not handled(_parse(kb_parts, "check_balance", parts[:1]), case)  # the question was not read
