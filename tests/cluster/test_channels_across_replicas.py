"""What one replica starts, another finishes: WeChat retries, web chat reconnection, the agent desk.

Each test talks to the replicas directly (not through nginx), so the replica of every step is
chosen, not left to the balancer: the state it needs must come from PostgreSQL or through Redis.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio
from sqlalchemy import create_engine
from wechatpy.crypto import WeChatCrypto

from bot.cluster.services import Postgres
from bot.settings import load_settings
from connectors.agent_desk.csat import CSAT_QUESTION, CSAT_THANKS
from connectors.agent_desk.store import DeskStore
from connectors.wechat.ids import conversation_id
from tests.channels import AGENT_PASSWORD, WECHAT, wait_until
from tests.fakes.wechat_client import WeChatPusher, text_xml

pytestmark = pytest.mark.slow


def _replica(cluster, index: int) -> str:
    return f"http://127.0.0.1:{cluster.layout.rasa_port(index)}"


def _events(cluster, conversation: str) -> list[dict]:
    response = requests.get(f"{cluster.url}/conversations/{conversation}/tracker",
                            params={"token": load_settings().rasa_api_token}, timeout=30)
    response.raise_for_status()
    return response.json()["events"]


def test_wechat_retries_landing_on_both_replicas_run_one_turn(cluster):
    """The original push and WeChat's three retries of it, at once, two on each replica."""
    crypto = WeChatCrypto(WECHAT["token"], WECHAT["aes_key"], WECHAT["app_id"])  # wechatpy plays WeChat
    pushers = [WeChatPusher(f"{_replica(cluster, i)}/webhooks/wechat/webhook", WECHAT["token"], crypto)
               for i in (1, 2)]
    openid, msg_id = f"o_{uuid.uuid4().hex[:20]}", str(uuid.uuid4().int % 10**18)
    xml = text_xml(openid, "开户需要带什么材料", msg_id)
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda i: pushers[i % 2].push(xml), range(4)))
    assert [r.status_code for r in replies] == [200] * 4
    passive = [pushers[0].reply_text(r) for r in replies if r.text != "success"]
    assert len(passive) <= 1, "more than one copy answered"
    conversation = conversation_id(WECHAT["app_id"], openid)
    assert wait_until(lambda: any(e["event"] == "bot" for e in _events(cluster, conversation)))
    events = _events(cluster, conversation)
    assert [e["text"] for e in events if e["event"] == "user"] == ["开户需要带什么材料"]
    time.sleep(2)  # anything sent through the customer-service API has arrived by now
    delivered = passive + cluster.wechat_api.texts_to(openid)
    assert delivered and max(Counter(delivered).values()) == 1, delivered


class WebchatCustomer:
    """A rasa-webchat client on one replica; `reconnect` moves it to another with the same session."""

    def __init__(self, url: str, session_id: str | None = None) -> None:
        self.heard: list[dict] = []
        self.history: list[dict] = []
        self.sessions: list[str] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.heard.append)
        self.client.on("session_confirm", self.sessions.append)
        self.client.on("session_history", self.history.append)
        self.client.connect(url, socketio_path="/socket.io", transports=["polling"], wait_timeout=10)
        self.client.emit("session_request", {"session_id": session_id})
        assert wait_until(lambda: self.sessions and self.history), "no session_confirm / session_history"

    @property
    def session_id(self) -> str:
        return self.sessions[-1]

    def say(self, text: str) -> None:
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})

    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.heard]

    def close(self) -> None:
        self.client.disconnect()


def test_a_web_chat_customer_reconnecting_to_another_replica_gets_the_history(cluster):
    first = WebchatCustomer(_replica(cluster, 1))
    first.say("信用卡年费怎么收")
    assert wait_until(lambda: first.heard)
    answer = first.texts()[0]
    first.close()
    again = WebchatCustomer(_replica(cluster, 2), first.session_id)
    try:
        assert again.session_id == first.session_id
        shown = again.history[-1]["messages"]
        assert {"sender": "user", "text": "信用卡年费怎么收"} in shown
        assert any(m["sender"] == "bot" and m["text"] == answer for m in shown)
    finally:
        again.close()


class Console:
    """An agent's console: its API calls go to any replica, its live feed stays on one."""

    def __init__(self, cluster, username: str, feed_replica: int) -> None:
        self.cluster = cluster
        login = requests.post(f"{_replica(cluster, feed_replica)}/agent/api/login",
                              json={"username": username, "password": AGENT_PASSWORD}, timeout=30)
        assert login.status_code == 200, login.text
        self.token = login.json()["token"]
        self.events: list[tuple[str, dict]] = []
        self.client = socketio.Client(reconnection=False)
        for name in ("customer_message", "queue_changed", "session_ended", "assigned"):
            self.client.on(name, lambda data=None, name=name: self.events.append((name, data or {})))
        self.client.connect(_replica(cluster, feed_replica), socketio_path="/agent/socket.io",
                            auth={"token": self.token}, transports=["polling"], wait_timeout=10)

    def call(self, replica: int, path: str, body: dict | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        url = f"{_replica(self.cluster, replica)}{path}"
        if body is None:
            return requests.get(url, headers=headers, timeout=30)
        return requests.post(url, json=body, headers=headers, timeout=60)

    def seen(self, name: str) -> list[dict]:
        return [data for event, data in self.events if event == name]


def test_the_agent_desk_works_whichever_replica_serves_each_step(cluster):
    """Console feed on replica 1; the customer's socket, the handoff and the agent's actions on
    either replica. Every push, message, CSAT answer and logout reaches its side through PostgreSQL
    and Redis."""
    store = DeskStore(create_engine(Postgres(cluster.layout).url("assistant"), future=True))
    store.add_agent("cluster_li", AGENT_PASSWORD, display_name="客服集群")
    console = Console(cluster, "cluster_li", feed_replica=1)
    customer = WebchatCustomer(_replica(cluster, 2))
    try:
        customer.say("我要找人工客服")
        assert wait_until(lambda: console.seen("queue_changed")), "the queue change on replica 2 never reached replica 1"
        waiting = console.call(2, "/agent/api/queue").json()["waiting"]
        handoff = next(h for h in waiting if h["channel"] == "webchat")
        assert console.call(2, f"/agent/api/handoffs/{handoff['id']}/accept", {}).status_code == 200
        assert wait_until(lambda: any("客服集群" in t for t in customer.texts()))

        console.call(1, f"/agent/api/handoffs/{handoff['id']}/messages", {"text": "您好，请问要办理什么业务？"})
        assert wait_until(lambda: "您好，请问要办理什么业务？" in customer.texts()), "replica 1's message never reached replica 2"
        customer.say("我想改一下预留手机号")
        assert wait_until(lambda: any(d.get("text") == "我想改一下预留手机号" for d in console.seen("customer_message")))

        closed = console.call(1, f"/agent/api/handoffs/{handoff['id']}/close", {"disposition": "resolved"})
        assert closed.status_code == 200, closed.text
        assert wait_until(lambda: CSAT_QUESTION in customer.texts())
        customer.close()
        customer = WebchatCustomer(_replica(cluster, 1), customer.session_id)  # answers from the other replica
        customer.say("5")
        assert wait_until(lambda: CSAT_THANKS in customer.texts())
        assert store.get(handoff["id"])["csat"] == 5

        assert console.call(2, "/agent/api/logout", {}).status_code == 200
        assert wait_until(lambda: console.seen("session_ended")), "the logout on replica 2 left replica 1's feed open"
        assert wait_until(lambda: not console.client.connected)
    finally:
        customer.close()
        console.client.disconnect()
