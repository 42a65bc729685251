"""A real Rasa server and action server over HTTP: KB answers arrive with provenance."""
from __future__ import annotations

import dataclasses
import uuid

import pytest
import requests

from bot.serve import Servers
from bot.train import ensure_model
from tests.conftest import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def servers(settings, tmp_path_factory):
    logs = tmp_path_factory.mktemp("server-logs")
    config = dataclasses.replace(settings, rasa_port=free_port(), action_port=free_port(),
                                 tracker_db_path=logs / "tracker.db")
    with Servers(model=ensure_model(), settings=config, log_dir=logs) as running:
        yield running


def _say(servers: Servers, sender: str, text: str) -> list[dict]:
    response = requests.post(f"{servers.rasa_url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": text}, timeout=30)
    response.raise_for_status()
    return response.json()


def _tracker(servers: Servers, sender: str) -> dict:
    response = requests.get(f"{servers.rasa_url}/conversations/{sender}/tracker", timeout=30)
    response.raise_for_status()
    return response.json()


def test_faq_answer_with_provenance_over_rest(servers, retriever):
    sender = f"test-{uuid.uuid4().hex[:8]}"
    replies = _say(servers, sender, "请问开个人账户得准备哪些证件和材料？")
    expected = retriever.search("请问开个人账户得准备哪些证件和材料？", k=1)[0]
    assert expected.faq_id == "account.open_materials"
    assert [r["text"] for r in replies] == [expected.answer]

    tracker = _tracker(servers, sender)
    assert tracker["slots"]["kb_answer_id"] == "account.open_materials"
    [bot_event] = [e for e in tracker["events"] if e["event"] == "bot"]
    assert bot_event["metadata"]["faq_id"] == "account.open_materials"
    assert bot_event["metadata"]["score"] == pytest.approx(expected.score, abs=1e-3)


def test_greeting_and_out_of_scope_are_not_answered_from_the_kb(servers):
    sender = f"test-{uuid.uuid4().hex[:8]}"
    assert "示例银行" in _say(servers, sender, "你好")[0]["text"]
    assert "超出" in _say(servers, sender, "帮我订一张明天去上海的机票")[0]["text"]
    assert _tracker(servers, sender)["slots"]["kb_answer_id"] is None


@pytest.mark.parametrize("message", ["", "   ", "🙂" * 50, "转" * 10_000])
def test_odd_messages_get_a_reply_not_an_error(servers, message):
    replies = _say(servers, f"test-{uuid.uuid4().hex[:8]}", message)
    assert replies and all(r.get("text") for r in replies)


def test_malformed_requests_are_rejected_cleanly(servers):
    url = f"{servers.rasa_url}/webhooks/rest/webhook"
    bad_json = requests.post(url, data=b"{not json", headers={"Content-Type": "application/json"}, timeout=30)
    assert 400 <= bad_json.status_code < 500
    assert requests.get(f"{servers.rasa_url}/status", timeout=30).status_code == 200
