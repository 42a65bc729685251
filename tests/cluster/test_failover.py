"""Faults while 20 customers talk: PostgreSQL or Redis restarted, a Rasa replica killed with -9.
Every conversation goes on, no turn is lost or applied twice (the trackers are checked turn by
turn), and while a store is down the customers get a clear 503, not a crash."""
from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter

import pytest
import requests
from wechatpy.crypto import WeChatCrypto

from bot.cluster.services import Postgres, Redis
from bot.settings import load_settings
from connectors.wechat.ids import conversation_id
from connectors.wechat.store import TURN_LEASE_S
from tests.channels import WECHAT, wait_until
from tests.fakes.wechat_client import WeChatPusher, text_xml

pytestmark = pytest.mark.slow

USERS, TURNS = 20, 8
SCRIPT = ["开户需要带什么材料", "你好", "今天美元汇率多少", "跨行转账要收手续费吗", "信用卡年费怎么收",
          "附近有网点吗", "上海", "谢谢"]
RETRY_FOR_S = 90.0  # a turn whose replica died waits for that replica's lock ticket to expire (20 s)


class Customer(threading.Thread):
    """Sends TURNS messages, each with its own message id, resending the same id until answered."""

    def __init__(self, url: str, name: str) -> None:
        super().__init__(daemon=True)
        self.url, self.name = url, name
        self.answered: list[int] = []
        self.resends = 0
        self.failure: str | None = None
        self.refusals: list[tuple[int, str]] = []  # (status, body) of the answers that were not 200

    def run(self) -> None:
        for turn in range(TURNS):
            body = {"sender": self.name, "message": SCRIPT[turn], "metadata": {"message_id": f"{self.name}-{turn}"}}
            deadline = time.monotonic() + RETRY_FOR_S
            while True:
                try:
                    response = requests.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=60)
                    if response.status_code == 200 and response.json():
                        self.answered.append(turn)
                        break
                    problem = f"HTTP {response.status_code}"
                    self.refusals.append((response.status_code, response.text[:300]))
                    pause = float(response.headers.get("Retry-After") or 0.5)  # as a well-behaved client does
                except requests.RequestException as exc:
                    problem, pause = type(exc).__name__, 0.5
                if time.monotonic() > deadline:
                    self.failure = f"turn {turn}: still failing after {RETRY_FOR_S:.0f} s ({problem})"
                    return
                self.resends += 1
                time.sleep(pause)


def _talk(cluster, prefix: str, disturb) -> list[Customer]:
    """USERS customers talk; once each is mid-conversation `disturb()` runs; all finish or fail."""
    customers = [Customer(cluster.url, f"{prefix}-{i}") for i in range(USERS)]
    for customer in customers:
        customer.start()
    while sum(len(c.answered) for c in customers) < USERS * 2:
        time.sleep(0.05)
    disturb()
    for customer in customers:
        customer.join(timeout=300)
    assert [c.failure for c in customers if c.failure] == []
    assert all(c.answered == list(range(TURNS)) for c in customers)
    for customer in customers:
        ids = _user_message_ids(cluster, customer.name)
        assert ids == [f"{customer.name}-{turn}" for turn in range(TURNS)], (customer.name, Counter(ids))
    return customers


def _user_message_ids(cluster, sender: str) -> list[str]:
    response = requests.get(f"{cluster.url}/conversations/rest:{sender}/tracker",
                            params={"token": load_settings().rasa_api_token}, timeout=30)
    response.raise_for_status()
    return [(e.get("metadata") or {}).get("message_id") for e in response.json()["events"] if e["event"] == "user"]


def _restart(service, down_s: float = 3.0):
    def disturb() -> None:
        assert service.stop()
        time.sleep(down_s)
        service.start()
    return disturb


@pytest.mark.parametrize("name", ["postgres", "redis"])
def test_a_store_restart_under_load_gives_clear_errors_and_loses_nothing(cluster, name):
    service = Postgres(cluster.layout) if name == "postgres" else Redis(cluster.layout)
    customers = _talk(cluster, f"restart-{name}", _restart(service))
    refusals = [refusal for c in customers for refusal in c.refusals]
    assert refusals, f"no turn arrived while {name} was down"
    assert {status for status, _ in refusals} == {503}, refusals[:5]
    assert all("temporarily unavailable" in text for _, text in refusals), refusals[:5]


def test_a_web_chat_customer_hears_a_turn_run_on_another_replica(cluster):
    """The customer's socket is on replica 1; a turn of that conversation runs on replica 2 (Rasa's
    API, as a proactive message would); its answer reaches the browser through Redis."""
    import socketio

    heard: list[dict] = []
    sessions: list[str] = []
    client = socketio.Client(reconnection=False)
    client.on("bot_uttered", heard.append)
    client.on("session_confirm", sessions.append)
    client.connect(f"http://127.0.0.1:{cluster.layout.rasa_port(1)}", socketio_path="/socket.io",
                   transports=["polling"], wait_timeout=10)
    try:
        client.emit("session_request", {"session_id": None})
        wait_until(lambda: sessions)
        client.emit("user_uttered", {"message": "你好", "session_id": sessions[-1]})
        wait_until(lambda: heard)
        before = len(heard)
        response = requests.post(
            f"http://127.0.0.1:{cluster.layout.rasa_port(2)}/conversations/webchat:{sessions[-1]}/trigger_intent",
            params={"token": load_settings().rasa_api_token, "output_channel": "latest"},
            json={"name": "greet"}, timeout=60)
        assert response.status_code == 200, response.text
        assert wait_until(lambda: len(heard) > before), "the answer of replica 2 never reached the socket on replica 1"
    finally:
        client.disconnect()


def test_a_wechat_message_whose_replica_dies_mid_turn_is_answered_once_after_a_retry(cluster):
    """Replica 1 is killed while a WeChat message's turn waits on its (stopped) action server. WeChat's
    next retry, ~5 s later on replica 2, finds the turn's claim lapsed and runs it: one turn, one
    answer. Replica 1 is started again for the tests after this one."""
    crypto = WeChatCrypto(WECHAT["token"], WECHAT["aes_key"], WECHAT["app_id"])  # wechatpy plays WeChat
    pushers = {i: WeChatPusher(f"http://127.0.0.1:{cluster.layout.rasa_port(i)}/webhooks/wechat/webhook",
                               WECHAT["token"], crypto) for i in (1, 2)}
    openid, text = f"o_{uuid.uuid4().hex[:20]}", "开户需要带什么材料"
    xml = text_xml(openid, text, str(uuid.uuid4().int % 10**18))
    actions = cluster.pid("actions-1")
    os.kill(actions, signal.SIGSTOP)  # replica 1's turn hangs on its action call
    try:
        threading.Thread(target=_push_ignoring_errors, args=(pushers[1], xml), daemon=True).start()
        time.sleep(2.0)
        os.kill(cluster.pid("rasa-1"), signal.SIGKILL)
    finally:
        os.kill(actions, signal.SIGCONT)
    time.sleep(TURN_LEASE_S + 1.0)
    retry = pushers[2].push(xml)
    assert retry.status_code == 200, retry.text
    conversation = conversation_id(WECHAT["app_id"], openid)
    tracker = f"http://127.0.0.1:{cluster.layout.rasa_port(2)}/conversations/{conversation}/tracker"

    def events() -> list[dict]:
        response = requests.get(tracker, params={"token": load_settings().rasa_api_token}, timeout=30)
        return response.json()["events"] if response.ok else []

    # replica 2 may wait for the conversation lock replica 1 held (it lapses after LOCK_LIFETIME_S)
    assert wait_until(lambda: any(e["event"] == "bot" for e in events()), timeout_s=60), "the retry ran no turn"
    assert [e["text"] for e in events() if e["event"] == "user"] == [text]
    log = cluster.layout.log_file("rasa-2").read_text(errors="replace")
    assert "whose turn did not finish on its replica" in log  # the retry took the lapsed claim over
    passive = [pushers[2].reply_text(retry)] if retry.text != "success" else []
    assert wait_until(lambda: passive + cluster.wechat_api.texts_to(openid), timeout_s=30)
    time.sleep(2)
    delivered = passive + cluster.wechat_api.texts_to(openid)
    assert max(Counter(delivered).values()) == 1, delivered
    restarted = cluster.cli("start")
    assert restarted.returncode == 0, restarted.stderr[-2000:]


def _push_ignoring_errors(pusher: WeChatPusher, xml: str) -> None:
    try:
        pusher.push(xml)
    except requests.RequestException:
        pass  # the replica is killed under it


# Last: it leaves one replica.
def test_killing_a_replica_mid_conversation_loses_and_repeats_no_turn(cluster):
    _talk(cluster, "failover", lambda: os.kill(cluster.pid("rasa-1"), signal.SIGKILL))
    log = cluster.layout.root / "logs" / "nginx-access.log"
    served_by = Counter(line.rsplit(" ", 1)[-1].strip() for line in log.read_text().splitlines() if "webhook" in line)
    assert len(served_by) >= 2  # both replicas served turns before the kill
