"""Agent desk over real HTTP against the running assistant: auth, handoff round trips, assist contract."""
from __future__ import annotations

import time
import uuid

import pytest
import requests

from connectors.wechat.crypto import MessageCrypto
from tests.channels import AGENT_PASSWORD, WECHAT, add_agent
from tests.fakes.wechat_client import WeChatPusher, text_xml

pytestmark = pytest.mark.slow


class Desk:
    def __init__(self, servers, username: str) -> None:
        self.url = servers.rasa_url
        response = requests.post(f"{self.url}/agent/api/login", json={"username": username,
                                                                      "password": AGENT_PASSWORD}, timeout=10)
        response.raise_for_status()
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

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


@pytest.fixture(scope="module")
def agents(channel_servers):
    add_agent(channel_servers, "li_agent")
    add_agent(channel_servers, "zhao_agent")
    add_agent(channel_servers, "chief", role="supervisor")
    return channel_servers


def _rest(servers, sender: str, text: str) -> list[dict]:
    response = requests.post(f"{servers.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                             timeout=60)
    response.raise_for_status()
    return response.json()


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


def test_repeated_wrong_passwords_lock_the_account_for_a_while(agents):
    add_agent(agents, "target_agent")
    url = f"{agents.rasa_url}/agent/api/login"
    codes = [requests.post(url, json={"username": "target_agent", "password": f"guess-{i}-guess"}, timeout=10)
             .status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    assert requests.post(url, json={"username": "target_agent", "password": AGENT_PASSWORD},
                         timeout=10).status_code == 429


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
    assert desk.post("/assist/suggest", {"text": ""}).status_code == 400
    assert desk.post("/assist/suggest", {"wrong": "field"}).status_code == 400


def test_rest_customer_handoff_round_trip_with_queue_order_and_ownership(agents):
    normal, fraud = f"rest-{uuid.uuid4().hex[:8]}", f"rest-{uuid.uuid4().hex[:8]}"
    queued = " ".join(m.get("text", "") for m in _rest(agents, normal, "我要找人工客服"))
    assert "转接人工客服" in queued and "等待" in queued
    _rest(agents, fraud, "有人冒充客服让我转账到安全账户")
    assert "转接" in " ".join(m.get("text", "") for m in _rest(agents, fraud, "/request_human"))

    li, zhao, chief = Desk(agents, "li_agent"), Desk(agents, "zhao_agent"), Desk(agents, "chief")
    waiting = li.get("/agent/api/queue").json()["waiting"]
    ids = [h["id"] for h in waiting]
    fraud_id = li.waiting_id(lambda h: h["reason"] == "fraud_report")
    normal_id = li.waiting_id(lambda h: h["reason"] == "request_human" and h["id"] != fraud_id)
    assert ids.index(fraud_id) < ids.index(normal_id)  # fraud first
    assert "customer_message" not in li.get(f"/agent/api/handoffs/{fraud_id}").text

    assert li.post(f"/agent/api/handoffs/{normal_id}/accept").status_code == 200
    assert zhao.post(f"/agent/api/handoffs/{normal_id}/accept").status_code == 409
    assert zhao.post(f"/agent/api/handoffs/{normal_id}/messages", {"text": "抢答"}).status_code == 403
    assert zhao.get(f"/agent/api/handoffs/{normal_id}").status_code == 403

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
    tracker = agents.tracker(normal)
    kinds = [e["event"] for e in tracker["events"]]
    assert "pause" in kinds and "resume" in kinds
    assert any((e.get("metadata") or {}).get("agent") == "li_agent" for e in tracker["events"] if e["event"] == "bot")
    answer = " ".join(m.get("text", "") for m in _rest(agents, normal, "信用卡免息期最长多少天"))
    assert "免息" in answer  # the bot is back

    assert chief.post(f"/agent/api/handoffs/{fraud_id}/takeover").status_code == 200
    assert chief.post(f"/agent/api/handoffs/{fraud_id}/close", {"disposition": "bogus"}).status_code == 400
    assert chief.post(f"/agent/api/handoffs/{fraud_id}/close", {"disposition": "resolved"}).status_code == 200
    assert chief.post(f"/agent/api/handoffs/{fraud_id}/close", {"disposition": "resolved"}).status_code == 409


def test_wechat_customer_handoff_round_trip_over_the_customer_service_api(agents):
    crypto = MessageCrypto(WECHAT["token"], WECHAT["aes_key"], WECHAT["app_id"])
    wechat = WeChatPusher(f"{agents.rasa_url}/webhooks/wechat/webhook", WECHAT["token"], crypto)
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
    assert "【人工客服 zhao_agent】请携带身份证到网点办理" in api.wait_for(openid, 2)
    assert desk.post(f"/agent/api/handoffs/{handoff_id}/close", {"disposition": "resolved"}).status_code == 200
    after = api.wait_for(openid, 4)
    assert any("打分" in t for t in after) and any("智能客服" in t for t in after)
    assert "感谢您的评价" in wechat.reply_text(wechat.push(text_xml(openid, "5", str(next(msg)))))
    assert "免息" in wechat.reply_text(wechat.push(text_xml(openid, "信用卡免息期最长多少天", str(next(msg)))))


def test_supervisor_takes_over_a_live_bot_conversation(agents):
    wechat = WeChatPusher(f"{agents.rasa_url}/webhooks/wechat/webhook", WECHAT["token"],
                          MessageCrypto(WECHAT["token"], WECHAT["aes_key"], WECHAT["app_id"]))
    openid = f"o_{uuid.uuid4().hex[:20]}"
    assert wechat.reply_text(wechat.push(text_xml(openid, "开户需要带什么材料", str(uuid.uuid4().int % 10**17))))
    chief, li = Desk(agents, "chief"), Desk(agents, "li_agent")
    bots = chief.get("/agent/api/queue").json()["bots"]
    assert any(c["sender_id"] == openid and c["channel"] == "wechat" for c in bots)
    assert "bots" not in li.get("/agent/api/queue").json()
    assert li.post("/agent/api/takeover", {"sender_id": openid}).status_code == 403
    taken = chief.post("/agent/api/takeover", {"sender_id": openid})
    assert taken.status_code == 200
    assert "主管 chief 已接入" in agents.wechat_api.wait_for(openid, 1)[-1]
    assert wechat.reply_text(wechat.push(text_xml(openid, "好的", str(uuid.uuid4().int % 10**17)))) is None
    assert chief.post(f"/agent/api/handoffs/{taken.json()['handoff_id']}/return").status_code == 200
