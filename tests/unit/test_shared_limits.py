"""Rate limits shared by replicas through a real Redis (connectors/limits.py)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from connectors.limits import RedisTokenBuckets, TokenBuckets, shared_buckets
from tests.conftest import free_port

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is installed by `make cluster-packages`")


@pytest.fixture()
def redis_url(tmp_path):
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


def test_two_replicas_share_one_budget(redis_url):
    first, second = (RedisTokenBuckets(redis_url, "rest:sender", per_minute=1, burst=3) for _ in range(2))
    allowed = [first.allow("rest:abc"), second.allow("rest:abc"), first.allow("rest:abc"), second.allow("rest:abc")]
    assert allowed == [True, True, True, False]
    assert first.allow("rest:other")  # another key has its own bucket
    assert RedisTokenBuckets(redis_url, "webchat:sender", per_minute=1, burst=3).allow("rest:abc")  # another scope


def test_keys_are_stored_hashed(redis_url):
    import redis

    RedisTokenBuckets(redis_url, "rest:address", per_minute=60, burst=5).allow("203.0.113.9")
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("limits:*")]
    assert len(keys) == 1 and "203.0.113.9" not in keys[0]


def test_without_redis_the_process_limits_alone():
    buckets = RedisTokenBuckets(f"redis://127.0.0.1:{free_port()}/0", "rest:sender", per_minute=1, burst=2)
    assert [buckets.allow("k") for _ in range(3)] == [True, True, False]


def test_while_redis_is_down_it_is_tried_once_per_retry_period_not_per_message():
    now = [0.0]
    buckets = RedisTokenBuckets(f"redis://127.0.0.1:{free_port()}/0", "rest:sender", per_minute=600, burst=100,
                                retry_s=5, clock=lambda: now[0])
    attempts = []
    real_spend = buckets.spend
    buckets.spend = lambda **kwargs: attempts.append(1) or real_spend(**kwargs)
    for _ in range(50):
        assert buckets.allow("k")
    assert len(attempts) == 1  # the other 49 messages did not wait for a timeout
    now[0] += 5
    buckets.allow("k")
    assert len(attempts) == 2


def test_redis_is_used_only_when_configured(monkeypatch, redis_url):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(shared_buckets("x", 60, 5), TokenBuckets)
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert isinstance(shared_buckets("x", 60, 5), RedisTokenBuckets)
