"""Agent desk over real HTTP against the running assistant: auth, handoff round trips, assist contract,
and issue 13's agent rules (assignment, queues, masking, sessions on the socket, throttling, display names)."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
import socketio
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine
from wechatpy.crypto import WeChatCrypto

from bot.settings import REPO_ROOT
from connectors.agent_desk.store import DeskStore
from tests.channels import AGENT_PASSWORD, WECHAT, add_agent
from tests.fakes.wechat_client import WeChatPusher, text_xml

pytestmark = pytest.mark.slow
RAW_PII = ("110101199003074514", "13812345678", "6222021234567890123")
DISPLAY = {"li_agent": "客服小李", "zhao_agent": "客服小赵", "chief": "值班主管"}


class Desk:
    def __init__(self, servers, username: str, password: str = AGENT_PASSWORD) -> None:
        self.url = servers.rasa_url
        response = requests.post(f"{self.url}/agent/api/login", json={"username": username,
                                                                      "password": password}, timeout=10)
        response.raise_for_status()
        self.token = response.json()["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.url}{path}", headers=self.headers, timeout=30)

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return requests.post(f"{self.url}{path}", json=body or {}, headers=self.headers, timeout=30)

    def waiting_id(self, predicate) -> int:
        for _ in range(50):
            waiting = self.get("/agent/api/queue").json()["waiting"]
            found = [h["id"] for h in waiting if predicate(h)]
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError(f"no matching handoff in {waiting}")


class LiveFeed:
    """An agent console's socket.io connection, recording what the desk pushes to it."""

    def __init__(self, servers, token: str) -> None:
        self.events: list[tuple[str, dict]] = []
        self.client = socketio.Client(reconnection=False)
        for name in ("customer_message", "session_ended", "queue_changed"):
            self.client.on(name, lambda data=None, name=name: self.events.append((name, data or {})))
        self.client.connect(servers.rasa_url, socketio_path="/agent/socket.io", auth={"token": token},
                            transports=["polling"], wait_timeout=5)

    def messages(self, handoff_id: int) -> list[str]:
        return [d["text"] for e, d in self.events if e == "customer_message" and d.get("handoff_id") == handoff_id]

    def wait(self, predicate, timeout_s: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.1)
        return predicate()

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


class FromAddress(HTTPAdapter):
    """Requests that leave from another loopback address: a second client address for the throttle."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture(scope="module")
def agents(channel_servers):
    add_agent(channel_servers, "li_agent", queues=["general", "fraud"], display_name=DISPLAY["li_agent"])
    add_agent(channel_servers, "zhao_agent", display_name=DISPLAY["zhao_agent"])  # general queue only
    add_agent(channel_servers, "chief", role="supervisor", display_name=DISPLAY["chief"])
    return channel_servers


def _store(servers) -> DeskStore:
    return DeskStore(create_engine(servers.connector_db_url, future=True))


def _rest(servers, sender: str, text: str) -> list[dict]:
    response = requests.post(f"{servers.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                             timeout=60)
    response.raise_for_status()
    return response.json()


def _conversation_id(replies: list[dict], sender: str) -> str:
    """The tracker's id of a REST conversation (its replies' recipient_id; the sender before namespacing)."""
    return next((m["recipient_id"] for m in replies if m.get("recipient_id")), sender)


def _wechat(servers) -> WeChatPusher:
    return WeChatPusher(f"{servers.rasa_url}/webhooks/wechat/webhook", WECHAT["token"],
                        WeChatCrypto(WECHAT["token"], WECHAT["aes_key"], WECHAT["app_id"]))


def _msg_id() -> str:
    return str(uuid.uuid4().int % 10**17)


def _wechat_handoff(servers, desk: "Desk") -> tuple[WeChatPusher, str, int]:
    """A WeChat customer asks for a person; `desk` accepts. (pusher, openid, handoff id)"""
    wechat, openid = _wechat(servers), f"o_{uuid.uuid4().hex[:20]}"
    before = {h["id"] for h in desk.get("/agent/api/queue").json()["waiting"]}
    assert "转接人工客服" in wechat.reply_text(wechat.push(text_xml(openid, "转人工", _msg_id())))
    handoff_id = desk.waiting_id(lambda h: h["channel"] == "wechat" and h["id"] not in before)
    assert desk.post(f"/agent/api/handoffs/{handoff_id}/accept").status_code == 200
    servers.wechat_api.wait_for(openid, 1)
    return wechat, openid, handoff_id


@pytest.mark.parametrize("method,path", [
    ("GET", "/agent/api/queue"), ("GET", "/agent/api/me"), ("GET", "/agent/api/handoffs/1"),
    ("POST", "/agent/api/handoffs/1/accept"), ("POST", "/agent/api/handoffs/1/messages"),
    ("POST", "/agent/api/handoffs/1/close"), ("POST", "/assist/suggest"), ("POST", "/agent/internal/handoff"),
])
def test_agent_endpoints_refuse_anonymous_and_forged_tokens(agents, method, path):
    for headers in ({}, {"Authorization": "Bearer forged-token-forged-token-forged"}):
        response = requests.request(method, f"{agents.rasa_url}{path}", json={"text": "x"}, headers=headers,
                                    timeout=10)
        assert response.status_code == 401 and "error" in response.json()


def test_login_rejects_wrong_passwords_and_malformed_bodies(agents):
    url = f"{agents.rasa_url}/agent/api/login"
    assert requests.post(url, json={"username": "li_agent", "password": "wrong-password"}, timeout=10).status_code == 401
    assert requests.post(url, data="{not json", timeout=10).status_code == 400
    assert requests.post(url, json={"username": 1}, timeout=10).status_code == 400


def test_guessing_is_throttled_per_address_while_the_agent_still_logs_in_from_elsewhere(agents):
    add_agent(agents, "target_agent")
    guesser = requests.Session()
    guesser.mount("http://", FromAddress(f"127.0.0.{random.randint(20, 250)}"))
    url = f"{agents.rasa_url.replace('localhost', '127.0.0.1')}/agent/api/login"
    codes = [guesser.post(url, json={"username": "target_agent", "password": f"guess-{i}-guess"}, timeout=10)
             .status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    refused = guesser.post(url, json={"username": "target_agent", "password": AGENT_PASSWORD}, timeout=10)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 10  # the guesser waits long
    assert guesser.post(url, json={"username": "zhao_agent", "password": AGENT_PASSWORD},
                        timeout=10).status_code == 429  # per address: every account
    agent = requests.post(url, json={"username": "target_agent", "password": AGENT_PASSWORD}, timeout=10)
    if agent.status_code == 429:  # the account's own backoff is short …
        wait = int(agent.headers["Retry-After"])
        assert wait <= 5
        time.sleep(wait)
        agent = requests.post(url, json={"username": "target_agent", "password": AGENT_PASSWORD}, timeout=10)
    assert agent.status_code == 200 and agent.json()["token"]  # … and the agent is in, from its own address


def test_disabled_agents_cannot_log_in_and_lose_their_sessions(agents):
    add_agent(agents, "leaver_agent")
    desk = Desk(agents, "leaver_agent")
    cli = [sys.executable, "-m", "connectors.agent_desk"]
    env = {**os.environ, "CONNECTOR_DB_URL": agents.connector_db_url}
    subprocess.run([*cli, "disable-agent", "leaver_agent"], cwd=REPO_ROOT, env=env, check=True, timeout=60)
    assert desk.get("/agent/api/me").status_code == 401
    login = {"username": "leaver_agent", "password": AGENT_PASSWORD}
    assert requests.post(f"{agents.rasa_url}/agent/api/login", json=login, timeout=10).status_code == 401
    subprocess.run([*cli, "enable-agent", "leaver_agent"], cwd=REPO_ROOT, env=env, check=True, timeout=60)
    assert requests.post(f"{agents.rasa_url}/agent/api/login", json=login, timeout=10).status_code == 200


def test_password_reset_revokes_every_session(agents):
    add_agent(agents, "reset_agent")
    first, second = Desk(agents, "reset_agent"), Desk(agents, "reset_agent")
    env = {**os.environ, "CONNECTOR_DB_URL": agents.connector_db_url}
    subprocess.run([sys.executable, "-m", "connectors.agent_desk", "reset-password", "reset_agent"], cwd=REPO_ROOT,
                   env=env, input="a completely new passphrase\n", text=True, check=True, timeout=60)
    assert first.get("/agent/api/me").status_code == 401 and second.get("/agent/api/me").status_code == 401
    assert Desk(agents, "reset_agent", "a completely new passphrase").get("/agent/api/me").status_code == 200


def test_agent_socket_refuses_connections_without_a_session(agents):
    import socketio

    token = Desk(agents, "li_agent").headers["Authorization"][7:]
    client = socketio.Client(reconnection=False)
    client.connect(agents.rasa_url, socketio_path="/agent/socket.io", auth={"token": token},
                   transports=["polling"], wait_timeout=5)  # a logged-in agent gets in …
    client.disconnect()
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):  # … nobody else does
        client.connect(agents.rasa_url, socketio_path="/agent/socket.io", auth={"token": "nope"},
                       transports=["polling"], wait_timeout=5)


def test_assist_suggests_answers_intent_and_next_step(agents):
    desk = Desk(agents, "li_agent")
    faq = desk.post("/assist/suggest", {"text": "信用卡免息期最长多少天"}).json()
    assert faq["intent"]["name"] == "faq" and 0 <= faq["intent"]["confidence"] <= 1
    assert faq["suggestions"] and faq["suggestions"][0]["faq_id"] == "credit_card.interest_free_period"
    assert {"faq_id", "score", "answer"} <= set(faq["suggestions"][0]) and faq["next_step"] is None
    task = desk.post("/assist/suggest", {"text": "银行卡丢了，快帮我挂失"}).json()
    assert task["intent"]["name"] == "report_card_loss" and "后四位" in task["next_step"]
    # the bank's own document, cited, for what the FAQ only answers in general
    cited = desk.post("/assist/suggest", {"text": "信用卡分24期的话每期手续费率是多少"}).json()["passage"]
    assert (cited["doc"], cited["section"], cited["confident"]) == ("credit_card_agreement.docx", "6.2 分期手续费", True)
    assert cited["citation"].startswith("根据《示例银行信用卡领用合约（摘要）》6.2 分期手续费：") and "0.68%" in cited["citation"]
    assert desk.post("/assist/suggest", {"text": ""}).status_code == 400
    assert desk.post("/assist/suggest", {"wrong": "field"}).status_code == 400


def test_rest_customer_handoff_round_trip_with_queue_order_and_ownership(agents):
    normal, fraud = f"rest-{uuid.uuid4().hex[:8]}", f"rest-{uuid.uuid4().hex[:8]}"
    replies = _rest(agents, normal, "我要找人工客服")
    queued = " ".join(m.get("text", "") for m in replies)
    assert "转接人工客服" in queued and "等待" in queued
    _rest(agents, fraud, "有人冒充客服让我转账到安全账户")
    assert "转接" in " ".join(m.get("text", "") for m in _rest(agents, fraud, "/request_human"))

    li, zhao, chief = Desk(agents, "li_agent"), Desk(agents, "zhao_agent"), Desk(agents, "chief")
    waiting = li.get("/agent/api/queue").json()["waiting"]
    ids = [h["id"] for h in waiting]
    fraud_id = li.waiting_id(lambda h: h["reason"] == "fraud_report")
    normal_id = li.waiting_id(lambda h: h["reason"] == "request_human" and h["id"] != fraud_id)
    assert ids.index(fraud_id) < ids.index(normal_id)  # fraud first
    assert li.get(f"/agent/api/handoffs/{fraud_id}").status_code == 403  # waiting: nobody's yet, so not readable

    assert li.post(f"/agent/api/handoffs/{normal_id}/accept").status_code == 200
    assert zhao.post(f"/agent/api/handoffs/{normal_id}/accept").status_code == 409
    assert zhao.post(f"/agent/api/handoffs/{normal_id}/messages", {"text": "抢答"}).status_code == 403
    assert zhao.get(f"/agent/api/handoffs/{normal_id}").status_code == 403
    assert chief.get(f"/agent/api/handoffs/{normal_id}").status_code == 200  # supervisors read all

    assert _rest(agents, normal, "我的卡号是6222021234567890123，一直转账失败") == []  # paused: no bot reply
    assert li.post(f"/agent/api/handoffs/{normal_id}/messages", {"text": "您好，我来帮您看看"}).status_code == 200
    assert li.post(f"/agent/api/handoffs/{normal_id}/notes", {"text": "客户转账失败"}).status_code == 200
    detail = li.get(f"/agent/api/handoffs/{normal_id}").json()
    texts = [t["text"] for t in detail["transcript"]]
    assert any("一直转账失败" in t and "6222021234567890123" not in t for t in texts)
    assert {"sender": "agent", "agent": "li_agent"}.items() <= [t for t in detail["transcript"]
                                                               if t["sender"] == "agent"][0].items()
    assert detail["notes"][0]["text"] == "客户转账失败" and detail["context"]["authenticated"] is False
    assert chief.get("/agent/api/queue").json()["live"]  # the supervisor sees every live conversation

    assert li.post(f"/agent/api/handoffs/{normal_id}/return").status_code == 200
    tracker = agents.tracker(_conversation_id(replies, normal))
    kinds = [e["event"] for e in tracker["events"]]
    assert "pause" in kinds and "resume" in kinds
    said = [e.get("metadata") or {} for e in tracker["events"] if e["event"] == "bot"]
    assert {"agent": DISPLAY["li_agent"], "agent_id": "li_agent"} in said  # customers' channels render `agent`
    answer = " ".join(m.get("text", "") for m in _rest(agents, normal, "信用卡免息期最长多少天"))
    assert "免息" in answer  # the bot is back

    assert chief.post(f"/agent/api/handoffs/{fraud_id}/takeover").status_code == 200
    assert chief.post(f"/agent/api/handoffs/{fraud_id}/close", {"disposition": "bogus"}).status_code == 400
    assert chief.post(f"/agent/api/handoffs/{fraud_id}/close", {"disposition": "resolved"}).status_code == 200
    assert chief.post(f"/agent/api/handoffs/{fraud_id}/close", {"disposition": "resolved"}).status_code == 409


def test_wechat_customer_handoff_round_trip_over_the_customer_service_api(agents):
    wechat = _wechat(agents)
    openid, api = f"o_{uuid.uuid4().hex[:20]}", agents.wechat_api
    msg = iter(range(10**15, 10**16))
    assert "转接人工客服" in wechat.reply_text(wechat.push(text_xml(openid, "转人工", str(next(msg)))))
    desk = Desk(agents, "zhao_agent")
    handoff_id = desk.waiting_id(lambda h: h["channel"] == "wechat")
    assert desk.post(f"/agent/api/handoffs/{handoff_id}/accept").status_code == 200
    assert "已接入" in api.wait_for(openid, 1)[-1]
    assert wechat.reply_text(wechat.push(text_xml(openid, "我想改绑手机号", str(next(msg))))) is None  # to the agent
    assert any("改绑手机号" in t["text"] for t in desk.get(f"/agent/api/handoffs/{handoff_id}").json()["transcript"])
    desk.post(f"/agent/api/handoffs/{handoff_id}/messages", {"text": "请携带身份证到网点办理"})
    assert f"【人工客服 {DISPLAY['zhao_agent']}】请携带身份证到网点办理" in api.wait_for(openid, 2)
    assert desk.post(f"/agent/api/handoffs/{handoff_id}/close", {"disposition": "resolved"}).status_code == 200
    after = api.wait_for(openid, 4)
    assert any("打分" in t for t in after) and any("智能客服" in t for t in after)
    assert "感谢您的评价" in wechat.reply_text(wechat.push(text_xml(openid, "5", str(next(msg)))))
    assert "免息" in wechat.reply_text(wechat.push(text_xml(openid, "信用卡免息期最长多少天", str(next(msg)))))
    assert not any("zhao_agent" in text for text in api.texts_to(openid))  # never the login name


def test_supervisor_takes_over_a_live_bot_conversation(agents):
    wechat = _wechat(agents)
    openid = f"o_{uuid.uuid4().hex[:20]}"
    assert wechat.reply_text(wechat.push(text_xml(openid, "开户需要带什么材料", _msg_id())))
    chief, li = Desk(agents, "chief"), Desk(agents, "li_agent")
    bots = chief.get("/agent/api/queue").json()["bots"]
    conversation = next(c["sender_id"] for c in bots if c["channel"] == "wechat")  # the newest WeChat chat
    assert conversation == openid or not conversation.startswith("o_")  # raw or namespaced (wechat:<hash>)
    assert "bots" not in li.get("/agent/api/queue").json()
    assert li.post("/agent/api/takeover", {"sender_id": conversation}).status_code == 403
    taken = chief.post("/agent/api/takeover", {"sender_id": conversation})
    assert taken.status_code == 200
    notice = agents.wechat_api.wait_for(openid, 1)[-1]
    assert f"主管 {DISPLAY['chief']} 已接入" in notice and "chief" not in notice
    assert wechat.reply_text(wechat.push(text_xml(openid, "好的", str(uuid.uuid4().int % 10**17)))) is None
    assert chief.post(f"/agent/api/handoffs/{taken.json()['handoff_id']}/return").status_code == 200


def test_an_agent_reads_only_conversations_assigned_to_them(agents):
    li, zhao, chief = Desk(agents, "li_agent"), Desk(agents, "zhao_agent"), Desk(agents, "chief")
    _, _, handoff_id = _wechat_handoff(agents, li)
    for method, path, body in (("GET", "", None), ("POST", "/messages", {"text": "我来"}),
                               ("POST", "/notes", {"text": "看看"}), ("POST", "/typing", {}),
                               ("POST", "/transfer", {"to": "zhao_agent"}), ("POST", "/return", {})):
        answer = zhao.get(f"/agent/api/handoffs/{handoff_id}") if method == "GET" else \
            zhao.post(f"/agent/api/handoffs/{handoff_id}{path}", body)
        assert answer.status_code == 403, path
    assert "transcript" in chief.get(f"/agent/api/handoffs/{handoff_id}").json()
    assert "transcript" in li.get(f"/agent/api/handoffs/{handoff_id}").json()
    assert chief.post(f"/agent/api/handoffs/{handoff_id}/close", {"disposition": "resolved"}).status_code == 200


def test_waiting_previews_go_only_to_agents_of_that_queue(agents):
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    _rest(agents, sender, "有人冒充客服让我转账到安全账户")
    _rest(agents, sender, "/request_human")
    li, zhao, chief = Desk(agents, "li_agent"), Desk(agents, "zhao_agent"), Desk(agents, "chief")
    fraud_id = li.waiting_id(lambda h: h["reason"] == "fraud_report" and h["queue"] == "fraud")
    assert fraud_id in {h["id"] for h in chief.get("/agent/api/queue").json()["waiting"]}
    assert fraud_id not in {h["id"] for h in zhao.get("/agent/api/queue").json()["waiting"]}
    assert zhao.post(f"/agent/api/handoffs/{fraud_id}/accept").status_code == 403
    assert chief.post(f"/agent/api/handoffs/{fraud_id}/takeover").status_code == 200
    assert chief.post(f"/agent/api/handoffs/{fraud_id}/close", {"disposition": "resolved"}).status_code == 200


def test_live_customer_messages_reach_the_agent_masked(agents):
    zhao = Desk(agents, "zhao_agent")
    wechat, openid, handoff_id = _wechat_handoff(agents, zhao)
    feed = LiveFeed(agents, zhao.token)
    try:
        text = f"我的身份证{RAW_PII[0]}，手机{RAW_PII[1]}，卡号{RAW_PII[2]}"
        assert wechat.reply_text(wechat.push(text_xml(openid, text, _msg_id()))) is None  # to the agent
        assert feed.wait(lambda: feed.messages(handoff_id)), feed.events
        shown = feed.messages(handoff_id)[-1]
        assert "身份证" in shown and not any(raw in shown for raw in RAW_PII)
    finally:
        feed.close()
        zhao.post(f"/agent/api/handoffs/{handoff_id}/close", {"disposition": "resolved"})


def test_a_logged_out_agents_socket_is_cut_off(agents):
    li = Desk(agents, "li_agent")
    feed = LiveFeed(agents, li.token)
    try:
        assert li.post("/agent/api/logout").status_code == 200
        assert feed.wait(lambda: not feed.client.connected, 10), "socket still connected after logout"
        assert ("session_ended", {"reason": "signed_out"}) in feed.events
    finally:
        feed.close()


def test_a_revoked_session_gets_no_more_live_messages(agents):
    """Sessions ended outside the server (password reset by CLI) are caught before the next push."""
    add_agent(agents, "feed_agent")
    desk = Desk(agents, "feed_agent")
    wechat, openid, handoff_id = _wechat_handoff(agents, desk)
    feed = LiveFeed(agents, desk.token)
    try:
        wechat.push(text_xml(openid, "第一条", _msg_id()))
        assert feed.wait(lambda: feed.messages(handoff_id)), feed.events
        _store(agents).reset_password("feed_agent", "a different passphrase")
        wechat.push(text_xml(openid, "第二条", _msg_id()))
        assert feed.wait(lambda: not feed.client.connected, 10)
        assert feed.messages(handoff_id) == ["第一条"]
    finally:
        feed.close()
        Desk(agents, "chief").post(f"/agent/api/handoffs/{handoff_id}/close", {"disposition": "resolved"})


def test_supervisor_analytics_count_scripted_conversations(agents):
    """Known conversations over the real channels move the supervisors' numbers by exactly their outcomes
    (bot/analytics: Rasa's event broker → facts; the API catches up before it answers)."""
    chief, li = Desk(agents, "chief"), Desk(agents, "li_agent")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
    path = f"/agent/api/analytics/summary?from={today}&to={today}"
    assert li.get(path).status_code == 403
    assert "YYYY-MM-DD" in chief.get("/agent/api/analytics/summary?from=2026-12-01").json()["error"]

    def numbers(channel: str) -> dict:
        response = chief.get(f"{path}&channel={channel}")
        assert response.status_code == 200, response.text
        return response.json()

    before = {channel: numbers(channel) for channel in ("rest", "wechat")}
    answered, handed, cancelled = (f"an-{uuid.uuid4().hex[:8]}" for _ in range(3))
    _rest(agents, answered, "信用卡的免息还款期最长多少天")
    _rest(agents, answered, "谢谢")
    question = _rest(agents, answered, "好的，再见")  # the bot served it alone: it asks for a score
    assert [b["payload"] for m in question for b in m.get("buttons") or []] == ["1", "2", "3", "4", "5"]
    assert "感谢您的评价" in " ".join(m.get("text", "") for m in _rest(agents, answered, "4分"))
    waiting = {h["id"] for h in chief.get("/agent/api/queue").json()["waiting"]}
    _rest(agents, handed, "转人工")
    _rest(agents, cancelled, "附近的网点在哪")
    _rest(agents, cancelled, "算了不查了")
    wechat = _wechat(agents)
    openid = f"o_{uuid.uuid4().hex[:20]}"
    assert wechat.reply_text(wechat.push(text_xml(openid, "开户需要带什么材料", _msg_id())))
    goodbye = wechat.reply_text(wechat.push(text_xml(openid, "知道了，拜拜", _msg_id())))
    assert "1. 1分" in goodbye and "5. 5分" in goodbye, goodbye  # numbered options: the number is the score
    assert "很抱歉" in wechat.reply_text(wechat.push(text_xml(openid, "2", _msg_id())))
    after = {channel: numbers(channel) for channel in ("rest", "wechat")}

    def moved(channel: str, *keys: str) -> int:
        def at(report: dict) -> int:
            for key in keys:
                report = report.get(key, {}) if isinstance(report, dict) else {}
            return report or 0
        return at(after[channel]) - at(before[channel])

    assert (moved("rest", "conversations"), moved("rest", "contained"), moved("rest", "handoffs")) == (3, 2, 1)
    assert moved("rest", "flows", "find_branch", "started") == moved("rest", "flows", "find_branch", "cancelled") == 1
    assert (moved("wechat", "conversations"), moved("wechat", "contained")) == (1, 1)
    assert (moved("rest", "csat_bot", "answers"), moved("wechat", "csat_bot", "answers")) == (1, 1)
    assert moved("wechat", "low_rated") == 1 and moved("rest", "low_rated") == 0  # the answer a 2 rated
    def added_score(channel: str) -> float:  # the averages are rounded to 2 decimals
        def total(report: dict) -> float:
            return (report["csat_bot"]["avg"] or 0) * report["csat_bot"]["answers"]
        return pytest.approx(total(after[channel]) - total(before[channel]),
                             abs=0.005 * (after[channel]["csat_bot"]["answers"] + 1))

    assert (added_score("rest"), added_score("wechat")) == (4, 2)  # "4分", option 2
    for handoff_id in {h["id"] for h in chief.get("/agent/api/queue").json()["waiting"]} - waiting:
        chief.post(f"/agent/api/handoffs/{handoff_id}/accept")  # leave the queue as it was
        chief.post(f"/agent/api/handoffs/{handoff_id}/close", {"disposition": "resolved"})
