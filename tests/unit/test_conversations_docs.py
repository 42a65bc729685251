"""``python -m bot.conversations docs``: what a customer got for a document question, from the replies."""
from bot.actions.faq import choice_payload
from bot.conversations.__main__ import main
from bot.conversations.documents import CITED_RIGHT, CITED_WRONG, NEITHER, OFFERED, Outcome, judge
from knowledge_base.doc_answer import citation_key

ROW = {"text": "跨行转账多少钱", "doc": "fee.html", "section": "二、转账汇款", "facts": ["0.5%", "50元"]}
UNANSWERABLE = {"text": "支票丢了怎么办", "doc": None}


def _button(doc: str, section: str) -> dict:
    return {"title": f"《收费标准》{section}", "payload": choice_payload(citation_key(doc, section))}


def test_a_citation_of_the_expected_section_with_every_fact_is_right():
    replies = [{"text": "手机银行转账免费。"}, {"text": "根据《收费标准》二、转账汇款：柜面转账0.5%，最高50元。"}]
    assert judge(ROW, replies) == Outcome(CITED_RIGHT, facts=True)
    english = [{"text": 'According to the bank\'s document "收费标准", section "二、转账汇款" (quoted in Chinese): 0.5%'}]
    assert judge(ROW, english) == Outcome(CITED_RIGHT, facts=False)  # 50元 is missing


def test_a_citation_of_another_section_is_wrong_and_a_menu_is_only_offered():
    assert judge(ROW, [{"text": "根据《收费标准》三、现金：0.5%，50元"}]).kind == CITED_WRONG
    menu = [{"text": "以下文件内容可能与您的问题有关", "buttons": [_button("fee.html", "三、现金"),
                                                                  _button("fee.html", "二、转账汇款")]}]
    assert judge(ROW, menu) == Outcome(OFFERED)
    assert judge(ROW, [{"text": "…", "buttons": [_button("fee.html", "三、现金")]}]) == Outcome(NEITHER)
    assert judge(ROW, [{"text": "抱歉，这个问题我暂时没有找到准确的答案。"}]) == Outcome(NEITHER)


def test_an_unanswerable_question_is_cited_offered_or_left_alone():
    assert judge(UNANSWERABLE, [{"text": "根据《收费标准》五、其他：挂失10元"}]).kind == CITED_WRONG
    assert judge(UNANSWERABLE, [{"text": "…", "buttons": [_button("fee.html", "五、其他")]}]).kind == OFFERED
    faq_menu = [{"text": "您想咨询的是下面哪个问题？", "buttons": [{"title": "挂失", "payload": choice_payload("card.loss")}]}]
    assert judge(UNANSWERABLE, faq_menu).kind == NEITHER


def test_a_set_that_cannot_be_read_is_refused_before_any_assistant_starts(tmp_path, capsys):
    assert main(["docs", "--set", str(tmp_path / "missing.jsonl"), "--in-process"]) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x"}\n', encoding="utf-8")
    assert main(["docs", "--set", str(bad), "--in-process"]) == 2
    err = capsys.readouterr().err
    assert "missing.jsonl" in err and '"doc"' in err and "Traceback" not in err
