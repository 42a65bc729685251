"""kill -9 a Rasa replica while 20 customers talk: every conversation goes on, no turn is lost or
applied twice (the trackers in PostgreSQL are checked turn by turn)."""
from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter

import pytest
import requests

from bot.settings import load_settings

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
                except requests.RequestException as exc:
                    problem = type(exc).__name__
                if time.monotonic() > deadline:
                    self.failure = f"turn {turn}: still failing after {RETRY_FOR_S:.0f} s ({problem})"
                    return
                self.resends += 1
                time.sleep(0.5)


def _user_message_ids(cluster, sender: str) -> list[str]:
    response = requests.get(f"{cluster.url}/conversations/rest:{sender}/tracker",
                            params={"token": load_settings().rasa_api_token}, timeout=30)
    response.raise_for_status()
    return [(e.get("metadata") or {}).get("message_id") for e in response.json()["events"] if e["event"] == "user"]


def test_killing_a_replica_mid_conversation_loses_and_repeats_no_turn(cluster):
    customers = [Customer(cluster.url, f"failover-{i}") for i in range(USERS)]
    for customer in customers:
        customer.start()
    while sum(len(c.answered) for c in customers) < USERS * 2:  # everyone is mid-conversation
        time.sleep(0.05)
    victim = cluster.pid("rasa-1")
    os.kill(victim, signal.SIGKILL)
    for customer in customers:
        customer.join(timeout=300)

    assert [c.failure for c in customers if c.failure] == []
    assert all(c.answered == list(range(TURNS)) for c in customers)
    for customer in customers:
        ids = _user_message_ids(cluster, customer.name)
        assert ids == [f"{customer.name}-{turn}" for turn in range(TURNS)], (customer.name, Counter(ids))
    log = cluster.layout.root / "logs" / "nginx-access.log"
    served_by = Counter(line.rsplit(" ", 1)[-1].strip() for line in log.read_text().splitlines() if "webhook" in line)
    assert len(served_by) >= 2  # both replicas served turns before the kill
