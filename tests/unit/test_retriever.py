"""The retriever contract: search(text, k) -> hits best first with faq_id, score, question, answer."""
import json
import shutil
from dataclasses import replace

import pytest

from knowledge_base import load_retriever
from knowledge_base.review.publish import knowledge_content
from knowledge_base.index import CURRENT, MANIFEST, IndexUnavailable, build_index, current_version_dir


def test_hits_are_ordered_best_first_and_carry_the_contract_fields(retriever):
    hits = retriever.search("信用卡的免息还款期最长多少天", k=5)
    assert hits[0].faq_id == "credit_card.interest_free_period"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.faq_id for h in hits}) == len(hits) <= 5
    for hit in hits:
        assert hit.question and hit.answer and 0 < hit.score <= 1.0001


def test_each_canonical_question_finds_its_own_entry(retriever, content):
    for entry in content.entries:
        assert retriever.search(entry.question, k=1)[0].faq_id == entry.id


def test_english_questions_reach_chinese_answers(retriever):
    assert retriever.search("how long until a bank transfer arrives", k=1)[0].faq_id == "transfer.arrival_time"


@pytest.mark.parametrize("text", ["", "   \n\t", "\x00\x07\x1b", "🙂🙂🙂", "银" * 10_000,
                                  "my 信用卡 bị mất ⚠️ καρτα", None])
def test_odd_input_never_raises(retriever, text):
    hits = retriever.search(text, k=3)
    assert isinstance(hits, list) and len(hits) <= 3


def test_k_is_respected(retriever):
    assert len(retriever.search("开户", k=2)) == 2
    assert retriever.search("开户", k=0) == []


@pytest.fixture()
def index_copy(tmp_path, settings):
    target = tmp_path / "index"
    shutil.copytree(settings.index_dir, target)
    return target


def test_an_index_built_with_another_encoder_is_refused(index_copy):
    version = current_version_dir(index_copy)
    manifest = json.loads((version / MANIFEST).read_text())
    manifest["encoder"] = {"name": "some-other-model", "fingerprint": "0" * 64}
    (version / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexUnavailable, match="built with encoder .*some-other-model.*rebuild"):
        load_retriever(index_copy)


def test_missing_index_says_how_to_build_it(tmp_path):
    with pytest.raises(IndexUnavailable, match="python -m knowledge_base build"):
        load_retriever(tmp_path)


def test_rebuild_publishes_a_new_version_only_when_content_changes(index_copy, settings, tmp_path):
    content = knowledge_content(settings.kb, None)
    config = replace(settings.kb, index_dir=index_copy)
    before = (index_copy / CURRENT).read_text()
    assert build_index(content, config).name == before  # unchanged: kept

    content.entries = content.entries[:3]
    new_version = build_index(content, config)
    assert (index_copy / CURRENT).read_text() == new_version.name != before
    assert load_retriever(index_copy).manifest["entries"] == 3


def test_prefetch_embeds_a_message_and_its_parts_in_one_pass_and_answers_stay_the_same(retriever, monkeypatch):
    from knowledge_base import embedding

    texts = ["挂失收费吗 预取测试", "开户要带什么 预取测试", "  "]
    expected = [retriever.assess(t).as_dict() for t in texts]
    embedding._query_cache.clear()
    calls = []
    original = embedding.embed_queries
    monkeypatch.setattr(embedding, "embed_queries", lambda model, batch, **kw: calls.append(list(batch))
                        or original(model, batch, **kw))
    retriever.prefetch(texts)
    assert len(calls) == 1 and len(calls[0]) == 2  # the blank text is not embedded
    assert [retriever.assess(t).as_dict() for t in texts] == expected
    assert len(calls) == 1
