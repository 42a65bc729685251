"""Documents as knowledge: a console upload is a reviewed change, approval makes it live, answers cite it."""
from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace

import pytest

from knowledge_base.index import CURRENT, read_manifest
from knowledge_base.live import LiveRetriever
from knowledge_base.review.changes import Change, ChangeError, apply_changes, change_diff, normalise
from knowledge_base.review.publish import knowledge_content, publish_live
from knowledge_base.review.store import KnowledgeReview, review_engine

TITLE = "示例银行保管箱服务细则"
SECTION = "三、钥匙遗失"
FACT = "钥匙遗失须本人持身份证到开箱网点办理换锁，换锁费800元，由客户承担。"


def _passage(text: str = FACT, section: str = SECTION, doc: str = "safe_box_rules.html") -> dict:
    return {"doc": doc, "title": TITLE, "section": section, "chapter": None, "page": None,
            "text": text, "units": [text]}


def _document(*passages: dict, doc: str = "safe_box_rules.html") -> dict:
    body = "".join(p["text"] for p in passages)
    return {"doc": doc, "sha256": hashlib.sha256(body.encode()).hexdigest(), "passages": list(passages)}


@pytest.mark.parametrize("payload, message", [
    ({**_document(_passage()), "doc": "../etc/passwd"}, "plain file name"),
    ({**_document(_passage()), "sha256": "abc"}, "SHA-256"),
    ({**_document(_passage()), "passages": []}, "1-5000 passages"),
    ({**_document(_passage()), "passages": [{"doc": "safe_box_rules.html", "text": "x"}]}, "each passage needs"),
    ({**_document(_passage(doc="other.pdf"))}, "each passage needs"),
])
def test_a_document_change_that_cannot_apply_is_refused_saying_why(content, payload, message):
    with pytest.raises(ChangeError, match=message):
        normalise("document", payload, content)


def test_a_document_change_adds_a_file_and_a_later_one_replaces_it(content):
    entry_id, first = normalise("document", _document(_passage()), content)
    assert entry_id == "doc:safe_box_rules.html"
    updated_text = FACT.replace("800元", "600元")
    _, second = normalise("document", _document(_passage(updated_text), _passage("新增条款。", "四、其他")), content)
    once = apply_changes(content, [Change(1, "document", entry_id, first)])
    twice = apply_changes(content, [Change(1, "document", entry_id, first), Change(2, "document", entry_id, second)])
    shipped = {d["doc"] for d in content.documents}
    assert {d["doc"] for d in once.documents} == shipped | {"safe_box_rules.html"}
    [replaced] = [d for d in twice.documents if d["doc"] == "safe_box_rules.html"]
    assert [p["text"] for p in replaced["passages"]] == [updated_text, "新增条款。"]
    assert twice.entries == content.entries  # documents never touch the FAQ entries
    assert once.content_hash() != twice.content_hash() != content.content_hash()
    diff = change_diff(Change(2, "document", entry_id, second), once)
    assert diff == {"doc": "safe_box_rules.html", "replaces": first["sha256"], "sections_added": ["四、其他"],
                    "sections_removed": [], "sections_changed": [SECTION]}


def test_an_approved_upload_goes_live_and_the_bot_answers_from_it_with_a_citation(settings, tmp_path):
    config = replace(settings.kb, index_dir=tmp_path / "index", reload_interval_s=0.0,
                     review_db_url=f"sqlite:///{tmp_path / 'knowledge.db'}")
    shutil.copytree(settings.kb.index_dir, config.index_dir)
    review = KnowledgeReview(review_engine(config.review_db_url))
    live = LiveRetriever(config)
    question = "保管箱钥匙丢了怎么办 换锁多少钱"
    assert live.current.answer_from_documents(question).doc != "safe_box_rules.html"

    content = knowledge_content(config, review)
    entry_id, payload = normalise("document", _document(_passage()), content)
    change_id = review.propose("maker", "document", entry_id, payload, "upload:safe_box_rules.html")
    assert live.current.answer_from_documents(question).doc != "safe_box_rules.html"  # a draft is not live
    review.approve(change_id, "checker", {"diff": change_diff(Change(change_id, "document", entry_id, payload),
                                                               content)})
    published = publish_live(config, review, "checker")
    assert read_manifest(config.index_dir / (config.index_dir / CURRENT).read_text())["passages"] == \
        len(content.passages) + 1
    live.current  # notices the new version
    live.wait_idle()
    answer = live.current.answer_from_documents(question)
    assert live.current.version == published["index_version"]
    assert (answer.decision, answer.doc, answer.section) == ("answer", "safe_box_rules.html", SECTION)
    assert "800元" in answer.text and answer.citation().startswith(f"根据《{TITLE}》{SECTION}：")
    assert answer.provenance(live.current.version) == {"doc": "safe_box_rules.html", "section": SECTION,
                                                      "page": None, "version": published["index_version"]}
    # the version answered from stays auditable: the change keeps the passages it went live with
    assert review.get(change_id)["payload"]["passages"][0]["text"] == FACT


def _faq_action_on(retriever, text: str):
    """ActionAnswerFaq on what the NLU component attaches for ``text`` (FAQ assessment + documents' answer)."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from bot.actions.faq import ActionAnswerFaq

    kb = {**retriever.assess(text).as_dict(), "index_version": retriever.version,
          "document": retriever.answer_from_documents(text).as_dict()}
    latest = {"text": text, "intent": {"name": "faq", "confidence": 0.9}, "entities": [], "kb": kb}
    dispatcher = CollectingDispatcher()
    ActionAnswerFaq().run(dispatcher, Tracker("c1", {}, latest, [], False, None, {}, "action_listen"), {})
    return kb, dispatcher.messages


def test_the_bot_cites_the_document_section_with_its_provenance(retriever):
    kb, messages = _faq_action_on(retriever, "信用卡分24期的话每期手续费率是多少")
    cited = [m for m in messages if m.get("response") == "utter_document_answer"]
    assert kb["document"]["decision"] == "answer" and len(cited) == 1
    [message] = cited
    assert (message["doc"], message["section"], message["page"]) == ("credit_card_agreement.docx", "6.2 分期手续费", None)
    assert message["provenance"] == {"doc": "credit_card_agreement.docx", "section": "6.2 分期手续费", "page": None,
                                     "version": retriever.version}
    assert message["version"] == retriever.version and "0.68%" in message["passage"]
    assert message["title"] == "示例银行信用卡领用合约（摘要）"
    assert set(message["passage"].replace("。", "\n").split("\n")) - {""} <= {
        u.rstrip("。") for p in retriever.documents.passages for u in p["units"]}  # only the document's own text


def test_a_question_no_document_answers_gets_no_citation(retriever):
    for text in ("你们卖实物金条吗", "今天美元兑人民币汇率多少"):
        kb, messages = _faq_action_on(retriever, text)
        assert kb["document"]["decision"] != "answer"
        assert not [m for m in messages if m.get("response") == "utter_document_answer"]


def test_agent_assist_shows_the_cited_passage():
    from connectors.agent_desk.assist import cited_passage

    document = {"decision": "answer", "confidence": 0.93, "doc": "mobile_banking_guide.pdf",
                "title": "示例银行手机银行用户服务指南", "section": "4.2 转账限额", "page": 2,
                "units": ["安全工具：U盾；单笔限额：500万元"], "text": "安全工具：U盾；单笔限额：500万元。",
                "citation": "根据《示例银行手机银行用户服务指南》4.2 转账限额：安全工具：U盾；单笔限额：500万元。"}
    shown = cited_passage(document)
    assert shown == {"citation": document["citation"], "doc": "mobile_banking_guide.pdf",
                     "title": "示例银行手机银行用户服务指南", "section": "4.2 转账限额", "page": 2, "confident": True,
                     "confidence": 0.93}
    assert cited_passage({**document, "decision": "clarify"})["confident"] is False
    assert cited_passage({**document, "decision": "no_answer"}) is None and cited_passage({}) is None


def _search(retriever, text: str):
    from knowledge_base.embedding import embed_queries_cached
    from knowledge_base.text import normalize

    query = normalize(text)
    return query, embed_queries_cached(retriever.encoder, [query], prefix=retriever.kb.query_prefix)[0]


def test_a_section_split_over_pages_answers_from_the_page_that_holds_the_named_code(retriever):
    documents = retriever.documents
    members = [i for i, p in enumerate(documents.passages) if p["section"] == "八、常见错误码"]
    assert len({documents.passages[i]["page"] for i in members}) > 1  # the table runs over two pages
    code, first = "E4010", members[0]
    assert code not in documents.passages[first]["text"]
    query, vector = _search(retriever, f"手机银行提示{code}是什么情况")
    units, page = documents.relevant_units(first, query, vector)
    assert units and all(code in unit for unit in units)
    assert page == next(documents.passages[i]["page"] for i in members if code in documents.passages[i]["text"])


def test_a_tables_caption_is_never_the_whole_answer(retriever):
    from knowledge_base.doc_answer import _CAPTION

    documents = retriever.documents
    captioned = [(i, u) for i, p in enumerate(documents.passages) for u in p["units"] if _CAPTION.match(u)]
    assert len(captioned) >= 3
    for position, caption in captioned:  # the caption itself is the closest text to its own words
        query, vector = _search(retriever, caption)
        units, _ = documents.relevant_units(position, query, vector)
        assert units and not all(_CAPTION.match(unit) for unit in units), caption


def test_the_answer_model_reads_whether_each_search_ranks_the_passage_first(retriever):
    from knowledge_base.doc_answer import FEATURES

    documents = retriever.documents
    passage = next(p for p in documents.passages if p["section"] == "6.2 分期手续费")
    query, vector = _search(retriever, passage["units"][0])
    best, features = documents.features(query, vector)
    named = dict(zip(FEATURES, features))
    assert documents.passages[best]["section"] == "6.2 分期手续费"
    assert named["dense_agrees"] == 1.0 and named["bm25_agrees"] == 1.0
    assert len(documents.settings.model.coef) == len(FEATURES)


def test_a_question_asking_two_things_gets_a_unit_for_each(retriever):
    import numpy as np

    from knowledge_base.lexical import LexicalIndex

    documents = retriever.documents
    units = next(p["units"] for p in documents.passages if any("存款证明" in u for u in p["units"]))
    index = LexicalIndex(units, documents.user_dict)
    flat = np.zeros(len(units))  # the question's vector prefers no unit: each ask's words decide
    asked = documents._per_ask("时段存款证明多少钱，电子对账单收费吗", index, list(range(len(units))), flat)
    assert [units[i].split("；")[0] for i in asked] == ["服务项目：存款证明（时段）", "服务项目：对账单打印（自助设备）、电子对账单"]
    assert documents._per_ask("时段存款证明多少钱", index, list(range(len(units))), flat) == []  # one ask: nothing added


def test_the_answer_model_reads_how_close_the_message_is_to_a_known_request(retriever):
    from knowledge_base.doc_answer import FEATURES

    documents = retriever.documents
    assert len(documents.negatives) == len(retriever.negatives) > 0
    request = dict(zip(FEATURES, documents.features(*_search(retriever, "帮我重置一下登录密码"))[1]))
    question = dict(zip(FEATURES, documents.features(*_search(retriever, "信用卡分期每期手续费率多少"))[1]))
    assert request["negative"] > question["negative"]
    assert request["negative"] > 0.9  # "帮我重置登录密码" is one of calibration/negatives.yml's requests


def test_the_margin_is_over_the_best_other_section_not_a_sibling_passage(retriever):
    import numpy as np

    from knowledge_base.doc_answer import FEATURES

    documents = retriever.documents
    split = next(p for p in documents.passages if p["section"] == "八、常见错误码")
    assert len(documents._section_members(documents.passages.index(split))) >= 2  # the table runs over two pages
    query, vector = _search(retriever, "手机银行错误码E4010和E3008分别是什么意思")
    best, features = documents.features(query, vector)
    fused, _, _ = documents.passage_scores(documents.terms.expand(query), vector)
    others = [i for i, p in enumerate(documents.passages) if p["section"] != documents.passages[best]["section"]]
    assert documents.passages[best]["section"] == "八、常见错误码"
    assert dict(zip(FEATURES, features))["margin"] == pytest.approx(fused[best] - np.max(fused[others]))


def test_an_unsure_answer_offers_the_next_best_sections_each_with_its_own_text(retriever):
    import copy
    from dataclasses import replace

    from knowledge_base.embedding import embed_queries_cached
    from knowledge_base.text import normalize

    documents = copy.copy(retriever.documents)  # the same passages with a model that is never sure
    model = replace(documents.settings.model, answer_threshold=2.0, clarify_threshold=0.0)
    documents.settings = replace(documents.settings, model=model)
    query = normalize("晚上能不能关掉给别人转账的功能")
    answer = documents.answer(query, embed_queries_cached(retriever.encoder, [query],
                                                          prefix=retriever.kb.query_prefix)[0])
    offered = [answer, *answer.others]
    assert answer.decision == "clarify" and len(offered) == 3
    assert len({(o.doc, o.section) for o in offered}) == 3  # three sections, not three passages of one
    assert "5.2 夜间转账保护" in [o.section for o in offered]
    for o in offered:  # each shows units of its own section only
        own = {u for p in documents.passages if (p["doc"], p["section"]) == (o.doc, o.section) for u in p["units"]}
        assert o.units and set(o.units) <= own
    assert not any(o.others for o in answer.others)
    assert [o["section"] for o in answer.as_dict()["others"]] == [o.section for o in answer.others]
