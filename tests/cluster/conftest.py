"""A real cluster for the fault tests: PostgreSQL, Redis, two Rasa replicas and their action
servers, nginx in front, started by `python -m bot.cluster` exactly as `make cluster` does, in
its own folder and on free ports (a developer's `make cluster` can keep running). WeChat is
pointed at a local fake API server; the desk serves around the clock.

One cluster for the whole session (starting one takes about a minute); the test that kills a
replica runs last (tests/cluster/test_failover.py, last in its file and the last file)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass

import pytest

from bot.cluster.layout import ClusterLayout
from bot.settings import REPO_ROOT
from tests.channels import WECHAT, environment
from tests.conftest import free_port
from tests.fakes.wechat_api import FakeWeChatApi

REPLICAS = 2


def _free_block(count: int) -> int:
    """A base port whose next `count` ports are all free."""
    for _ in range(50):
        base = free_port()
        if base + count >= 65000:
            continue
        ports_free = True
        for port in range(base + 1, base + count + 1):
            with socket.socket() as sock:
                ports_free = ports_free and sock.connect_ex(("127.0.0.1", port)) != 0
        if ports_free:
            return base
    raise RuntimeError("no block of free ports found")


@dataclass
class Cluster:
    layout: ClusterLayout
    env: dict[str, str]
    wechat_api: FakeWeChatApi

    @property
    def url(self) -> str:
        return f"http://localhost:{self.layout.balancer_port}"

    def pid(self, name: str) -> int:
        return int(self.layout.pid_file(name).read_text())

    def cli(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.cluster", *args], cwd=REPO_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def cluster():
    # PostgreSQL runs as `postgres` when we are root: its folder must not be under pytest's 0700 tmp.
    root = REPO_ROOT / "var" / "test-clusters" / uuid.uuid4().hex[:8]
    settings = {"CLUSTER_DIR": str(root), "REPLICAS": str(REPLICAS), "RASA_PORT": str(free_port()),
                "CLUSTER_RASA_BASE_PORT": str(_free_block(REPLICAS)),
                "CLUSTER_ACTION_BASE_PORT": str(_free_block(REPLICAS)),
                "CLUSTER_POSTGRES_PORT": str(free_port()), "CLUSTER_REDIS_PORT": str(free_port()),
                "RATE_PER_ADDRESS_PER_MIN": "100000", "RATE_PER_ADDRESS_BURST": "10000"}
    api = FakeWeChatApi(app_id=WECHAT["app_id"], app_secret=WECHAT["app_secret"]).start()
    settings.update({"WECHAT_TOKEN": WECHAT["token"], "WECHAT_APP_ID": WECHAT["app_id"],
                     "WECHAT_APP_SECRET": WECHAT["app_secret"], "WECHAT_API_BASE": api.base_url,
                     "WECHAT_ENCODING_AES_KEY": WECHAT["aes_key"], "WECHAT_ACCOUNT_ID": WECHAT["account_id"],
                     "WECHAT_RATE_PER_ADDRESS_PER_MIN": "100000", "WECHAT_RATE_PER_ADDRESS_BURST": "10000",
                     "DESK_SERVICE_HOURS": "00:00-24:00", "AGENT_SOCKET_RECHECK_S": "2"})
    with environment(settings):
        running = Cluster(ClusterLayout.from_env(), {**os.environ}, api)
    try:
        started = running.cli("start")
        assert started.returncode == 0, started.stderr[-3000:] + started.stdout[-2000:]
        yield running
    finally:
        stopped = running.cli("stop", timeout=120)
        api.stop()
        shutil.rmtree(root, ignore_errors=True)
        assert stopped.returncode == 0, stopped.stderr
