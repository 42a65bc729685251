"""The knowledge loop over real HTTP: customers' unanswered questions reach the review queue, a draft
goes live only after a second person approves it (no restart), answers record the knowledge version,
and one rollback takes it out again."""
from __future__ import annotations

import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.channels import add_agent
from tests.integration.test_agent_desk_api import Desk, _conversation_id

pytestmark = pytest.mark.slow
ANSWER = "示例银行的吉祥物是一只名叫“小示”的熊猫。"
ASKED = ("示例银行的吉祥物叫什么名字", "你们银行的吉祥物是什么")
API = "/agent/api/knowledge"


@pytest.fixture(scope="module")
def staff(channel_servers):
    for username, role in (("kb_agent", "agent"), ("kb_editor", "editor"), ("kb_approver", "approver")):
        add_agent(channel_servers, username, role=role)
    return {name: Desk(channel_servers, name) for name in ("kb_agent", "kb_editor", "kb_approver")}


def _ask(servers, sender: str, text: str) -> list[dict]:
    response = requests.post(f"{servers.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                             timeout=60)
    response.raise_for_status()
    return response.json()


def _answered(servers, text: str, timeout_s: float = 20.0) -> tuple[bool, str]:
    """(whether a fresh customer asking ``text`` gets ANSWER, their conversation id); polled, because
    servers follow a new index within KB_RELOAD_INTERVAL_S."""
    deadline = time.monotonic() + timeout_s
    while True:
        sender = f"kb-{uuid.uuid4().hex[:10]}"
        replies = _ask(servers, sender, text)
        said = " ".join(m.get("text") or "" for m in replies)
        if ANSWER in said or time.monotonic() > deadline:
            return ANSWER in said, _conversation_id(replies, sender)
        time.sleep(1.0)


def test_unanswered_questions_are_clustered_in_the_review_queue(channel_servers, staff):
    for text in ASKED:
        assert ANSWER not in " ".join(m.get("text") or "" for m in _ask(channel_servers, uuid.uuid4().hex, text))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
    assert staff["kb_agent"].get(f"{API}/queue?from={today}&to={today}").status_code == 403
    queue = staff["kb_editor"].get(f"{API}/queue?from={today}&to={today}")
    assert queue.status_code == 200, queue.text
    cluster = next(c for c in queue.json()["clusters"] if {t["text"] for t in c["texts"]} & set(ASKED))
    assert {t["text"] for t in cluster["texts"]} >= set(ASKED) and cluster["count"] >= 2
    assert set(cluster["outcomes"]) <= {"no_answer", "clarify"} and cluster["nearest_entry"]["faq_id"]


def test_maker_checker_then_live_without_restart_then_rollback(channel_servers, staff):
    agent, editor, approver = staff["kb_agent"], staff["kb_editor"], staff["kb_approver"]
    assert not _answered(channel_servers, ASKED[0], timeout_s=0)[0]
    live_before = approver.get(f"{API}/revisions").json()["live"]

    bad = agent.post(f"{API}/changes", {"kind": "add_paraphrases", "entry_id": "transfer.nope", "paraphrases": ["x"]})
    assert bad.status_code == 400 and "no knowledge entry" in bad.json()["error"]
    draft = agent.post(f"{API}/changes", {"kind": "new_entry", "category": "fees_other", "question": ASKED[0],
                                          "answer": ANSWER, "answer_en": "Our mascot is a panda called Xiaoshi.",
                                          "paraphrases": [ASKED[1]], "source": "agent_reply"})
    assert draft.status_code == 201, draft.text
    change_id = draft.json()["id"]
    detail = editor.get(f"{API}/changes/{change_id}").json()
    assert detail["entry_id"] == f"fees_other.added_{change_id}" and {d["field"] for d in detail["diff"]} >= {"answer"}

    assert "approver or supervisor" in agent.post(f"{API}/changes/{change_id}/approve").json()["error"]
    assert editor.post(f"{API}/changes/{change_id}/approve").status_code == 403
    own = approver.post(f"{API}/changes", {"kind": "add_paraphrases", "entry_id": "transfer.arrival_time",
                                           "paraphrases": ["钱转出去多久能到"]}).json()["id"]
    refused = approver.post(f"{API}/changes/{own}/approve")
    assert refused.status_code == 403 and "maker" in refused.json()["error"]
    assert approver.post(f"{API}/changes/{own}/reject", {"comment": "withdrawn"}).status_code == 403  # own: no
    assert editor.get(f"{API}/changes/{own}").json()["status"] == "draft"
    assert not _answered(channel_servers, ASKED[0], timeout_s=0)[0]  # a draft is not live

    approved = approver.post(f"{API}/changes/{change_id}/approve", {"comment": "checked with product team"})
    assert approved.status_code == 200, approved.text
    version = approved.json()["published"]["index_version"]
    assert approved.json()["revision"] == approved.json()["published"]["revision"] > live_before
    live, sender = _answered(channel_servers, ASKED[1])
    assert live, "the approved entry did not go live without a restart"
    said = [e.get("metadata") or {} for e in channel_servers.tracker(sender)["events"] if e["event"] == "bot"]
    assert any(m.get("knowledge_version") == version and m.get("faq_id") == f"fees_other.added_{change_id}"
               for m in said), said
    seen = editor.get(f"{API}/versions/{version}").json()
    assert change_id in [c["id"] for c in seen["changes"]] and seen["actor"] == "kb_approver"
    trail = [a["action"] for a in editor.get(f"{API}/changes/{change_id}").json()["audit"]]
    assert trail == ["draft", "approve"]
    assert approver.post(f"{API}/changes/{change_id}/approve").status_code == 409  # decided once

    assert approver.post(f"{API}/rollback", {"revision": "last"}).status_code == 400
    rolled = approver.post(f"{API}/rollback", {"revision": live_before})
    assert rolled.status_code == 200, rolled.text
    assert editor.get(f"{API}/changes/{change_id}").json()["status"] == "rolled_back"
    deadline = time.monotonic() + 20
    while _answered(channel_servers, ASKED[0], timeout_s=0)[0] and time.monotonic() < deadline:
        time.sleep(1.0)
    assert not _answered(channel_servers, ASKED[0], timeout_s=0)[0]


SAFE_BOX_RULES = """<html><head><title>示例银行</title></head><body><nav>首页 &gt; 公告</nav><article>
<h1>示例银行保管箱服务细则</h1><h2>一、租用</h2><p>保管箱按年租用，租期届满前30日可办理续租。</p>
<h2>二、钥匙遗失</h2><p>保管箱钥匙遗失的，须本人持身份证到开箱网点办理换锁，换锁费800元，由租用人承担。</p>
</article><footer>版权所有</footer></body></html>"""
DOC_QUESTION = "保管箱钥匙丢了要怎么办 换锁要花多少钱"


def _upload(desk: Desk, name: str, body: bytes) -> requests.Response:
    return requests.post(f"{desk.url}{API}/documents", params={"name": name}, data=body,
                         headers={**desk.headers, "Content-Type": "application/octet-stream"}, timeout=120)


def _cited(servers, text: str, doc: str, timeout_s: float = 30.0) -> dict | None:
    """The bot event citing ``doc`` that a fresh customer asking ``text`` gets (polled: servers follow the
    new index within KB_RELOAD_INTERVAL_S), or None."""
    deadline = time.monotonic() + timeout_s
    while True:
        sender = f"kb-{uuid.uuid4().hex[:10]}"
        replies = _ask(servers, sender, text)
        events = servers.tracker(_conversation_id(replies, sender))["events"]
        found = [e for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("doc") == doc]
        if found or time.monotonic() > deadline:
            return found[0] if found else None
        time.sleep(1.0)


def test_an_uploaded_document_is_a_draft_until_approved_then_answered_with_its_citation(channel_servers, staff):
    editor, approver = staff["kb_editor"], staff["kb_approver"]
    refused = _upload(editor, "scan.pdf", b"%PDF-1.4 truncated")
    assert refused.status_code == 400 and "scan.pdf" in refused.json()["error"]
    assert _upload(editor, "", b"x").status_code == 400
    draft = _upload(editor, "safe_box_rules.html", SAFE_BOX_RULES.encode())
    assert draft.status_code == 201, draft.text
    assert draft.json()["sections"] == 2
    change_id = draft.json()["id"]
    diff = editor.get(f"{API}/changes/{change_id}").json()["diff"]
    assert diff["sections_added"] == ["一、租用", "二、钥匙遗失"] and diff["replaces"] is None
    assert _cited(channel_servers, DOC_QUESTION, "safe_box_rules.html", timeout_s=0) is None  # a draft is not live

    approved = approver.post(f"{API}/changes/{change_id}/approve", {"comment": "checked"})
    assert approved.status_code == 200, approved.text
    version = approved.json()["published"]["index_version"]
    cited = _cited(channel_servers, DOC_QUESTION, "safe_box_rules.html")
    assert cited is not None, "the approved document did not go live"
    assert cited["text"].startswith("根据《示例银行保管箱服务细则》二、钥匙遗失：") and "800元" in cited["text"]
    assert cited["metadata"]["provenance"] == {"doc": "safe_box_rules.html", "section": "二、钥匙遗失", "page": None,
                                               "version": version}
    assert (cited["metadata"]["doc"], cited["metadata"]["version"]) == ("safe_box_rules.html", version)
    # the version answered from stays auditable with the text it went live with
    kept = editor.get(f"{API}/changes/{change_id}").json()
    assert kept["status"] == "approved" and "800元" in kept["payload"]["passages"][1]["text"]
