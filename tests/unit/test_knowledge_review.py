"""The knowledge loop's rules: what a change may be, maker-checker, rollback, publishing into the live index."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from knowledge_base import index
from knowledge_base.content import load_content
from knowledge_base.index import CURRENT, read_manifest
from knowledge_base.live import LiveRetriever
from knowledge_base.review.changes import Change, ChangeError, apply_changes, changed_entry, diff, normalise
from knowledge_base.review.publish import knowledge_content, publish_live
from knowledge_base.review.store import KnowledgeReview, ReviewError, review_engine

NEW_QUESTION = "示例银行的吉祥物叫什么名字"


@pytest.fixture(scope="module")
def content(settings):
    return load_content(settings.content_dir)


@pytest.fixture
def review(tmp_path):
    return KnowledgeReview(review_engine(f"sqlite:///{tmp_path / 'knowledge.db'}"))


def _new_entry(**overrides):
    return {"category": "fees_other", "question": NEW_QUESTION, "answer": "示例银行的吉祥物叫“小示”。",
            "answer_en": "The bank's mascot is called Xiaoshi.", "paraphrases": ["你们的吉祥物是谁"], **overrides}


@pytest.mark.parametrize("kind, payload, message", [
    ("rewrite", {}, "kind"),
    ("add_paraphrases", {"entry_id": "transfer.no_such", "paraphrases": ["x"]}, "no knowledge entry"),
    ("add_paraphrases", {"entry_id": "transfer.arrival_time", "paraphrases": []}, "at least one"),
    ("add_paraphrases", {"entry_id": "transfer.arrival_time", "paraphrases": "转账多久"}, "list of texts"),
    ("edit_answer", {"entry_id": "transfer.arrival_time", "answer": "x" * 2001}, "at most 2000"),
    ("new_entry", _new_entry(category="gossip"), "category"),
    ("new_entry", _new_entry(answer_en=""), "answer_en"),
    ("new_entry", _new_entry(slug="Bad Slug"), "slug"),
    ("new_entry", _new_entry(slug="arrival_time", category="transfer"), "exists already"),
])
def test_a_change_that_cannot_apply_is_refused_naming_the_field(content, kind, payload, message):
    with pytest.raises(ChangeError, match=message):
        normalise(kind, payload, content)


def test_changes_apply_in_order_and_the_diff_shows_only_what_changed(content):
    entry_id, paraphrases = normalise("add_paraphrases", {"entry_id": "transfer.arrival_time",
                                                          "paraphrases": [" 钱多久能到对方卡上 ", "转账多久到"]}, content)
    _, answer = normalise("edit_answer", {"entry_id": entry_id, "answer": "新的答案"}, content)
    new_id, entry = normalise("new_entry", _new_entry(), content, change_id=7)
    assert new_id == "fees_other.added_7"
    changes = [Change(1, "add_paraphrases", entry_id, paraphrases, "2026-12-01"),
               Change(2, "edit_answer", entry_id, answer, "2026-12-02"), Change(3, "new_entry", new_id, entry, "2026-12-03")]
    after = apply_changes(content, changes).by_id()
    before = content.by_id()[entry_id]
    assert after[entry_id].paraphrases.count("转账多久到") == 1 and "钱多久能到对方卡上" in after[entry_id].paraphrases
    assert after[entry_id].answer == "新的答案" and after[entry_id].answer_en == before.answer_en
    assert after[entry_id].updated == "2026-12-02" and after[new_id].question == NEW_QUESTION
    assert len(after) == len(content.entries) + 1 and content.by_id()[entry_id] == before  # the input is untouched
    fields = {d["field"] for d in diff(before, changed_entry(changes[1], content))}
    assert fields == {"answer"}


def test_maker_cannot_approve_their_own_change_and_a_change_is_decided_once(review):
    change_id = review.propose("editor_a", "add_paraphrases", "transfer.arrival_time", {"paraphrases": ["x"]})
    with pytest.raises(ReviewError, match="someone other than its maker") as refused:
        review.approve(change_id, "editor_a", {})
    assert refused.value.status == 403 and review.get(change_id)["status"] == "draft"
    assert review.approve(change_id, "approver_b", {"diff": []}, "ok") == 1
    with pytest.raises(ReviewError) as again:
        review.reject(change_id, "approver_c", "too late")
    assert again.value.status == 409
    found = review.get(change_id)
    assert (found["status"], found["checker"], found["revision"]) == ("approved", "approver_b", 1)
    assert [a["action"] for a in found["audit"]] == ["draft", "approve"]
    with pytest.raises(ReviewError) as missing:
        review.approve(999, "approver_b", {})
    assert missing.value.status == 404


def test_rollback_takes_later_changes_out_and_keeps_the_history(review):
    first = review.propose("maker", "edit_answer", "transfer.arrival_time", {"entry_id": "transfer.arrival_time",
                                                                           "answer": "一"})
    second = review.propose("maker", "edit_answer", "transfer.arrival_time", {"entry_id": "transfer.arrival_time",
                                                                            "answer": "二"})
    assert review.approve(first, "checker", {}) == 1 and review.approve(second, "checker", {}) == 2
    with pytest.raises(ReviewError, match="between 0 and 1"):
        review.rollback(2, "checker")
    assert review.rollback(1, "checker") == 3
    assert [c.id for c in review.live_changes()] == [first]
    assert review.get(second)["status"] == "rolled_back"
    review.published(2, "v-two", "hash2", "checker")
    review.published(3, "v-three", "hash3", "checker")
    assert [c["id"] for c in review.revision_of("v-two")["changes"]] == [first, second]
    assert [c["id"] for c in review.revision_of("v-three")["changes"]] == [first]
    assert [r["kind"] for r in review.revisions()] == ["rollback", "approve", "approve"]


def test_an_approved_change_is_published_live_and_rolled_back(review, settings, tmp_path, monkeypatch):
    """Real build into a copy of the index; only the new phrasings are embedded, the live retriever follows."""
    index_dir = tmp_path / "index"
    shutil.copytree(settings.index_dir, index_dir)
    config = replace(settings.kb, index_dir=index_dir, reload_interval_s=0.0)
    live = LiveRetriever(config)
    base_version = live.current.version_dir.name
    assert live.current.assess(NEW_QUESTION).as_dict()["decision"] != "answer"

    entry_id, payload = normalise("new_entry", _new_entry(slug="mascot"), knowledge_content(config, review))
    change_id = review.propose("editor_a", "new_entry", entry_id, payload)
    review.approve(change_id, "approver_b", {})
    embedded = []
    original = index.embed_passages
    monkeypatch.setattr(index, "embed_passages", lambda model, texts, **kw: embedded.extend(texts)
                        or original(model, texts, **kw))
    published = publish_live(config, review, "approver_b")
    assert sorted(embedded) == sorted([NEW_QUESTION, "你们的吉祥物是谁"])  # the rest reused from the live version
    assert (index_dir / CURRENT).read_text() == published["index_version"] != base_version
    assert read_manifest(index_dir / published["index_version"])["entries"] == published["entries"]
    assert review.revision_of(published["index_version"])["changes"][0]["id"] == change_id
    _ = live.current
    live.wait_idle()
    hits = live.current.assess(NEW_QUESTION).as_dict()["hits"]
    assert hits[0]["faq_id"] == "fees_other.mascot"

    review.rollback(0, "approver_b")
    rolled = publish_live(config, review, "approver_b")
    entries = json.loads((index_dir / rolled["index_version"] / "entries.json").read_text(encoding="utf-8"))
    assert "fees_other.mascot" not in {e["id"] for e in entries}
