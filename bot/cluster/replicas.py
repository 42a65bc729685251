"""The Rasa replicas and their action servers, started against the cluster's PostgreSQL and Redis.

Replica i is `rasa-i` on port 5100+i, calling `actions-i` on 5200+i. Every replica reads and
writes the same conversations (PostgreSQL tracker store), the same channel and desk state
(CONNECTOR_DB_URL) and the same sandbox bank (BANK_DB_URL), and takes Redis's lock on a
conversation before running a turn of it.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Optional

from bot.cluster.layout import ClusterLayout
from bot.cluster.processes import running_pid, spawn, stop_pid
from bot.cluster.services import Postgres, Redis, wait_for_port
from bot.serve import action_server_args, rasa_run_args, server_env
from bot.settings import REPO_ROOT, Settings, load_settings
from bot.train import rasa_executable

ENDPOINTS = "bot/endpoints.cluster.yml"
# A replica killed mid-turn leaves its lock ticket in Redis; the conversation waits for it to expire.
# Turns take well under a second to a few seconds, so 20 s instead of Rasa's 60 s.
LOCK_LIFETIME_S = 20
STARTUP_TIMEOUT_S = 300.0


def replica_env(layout: ClusterLayout, settings: Settings, index: int) -> dict[str, str]:
    postgres, redis = Postgres(layout), Redis(layout)
    public = f"http://localhost:{layout.balancer_port}"
    return {**server_env(settings),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{layout.action_port(index)}/webhook",
            "CLUSTER_POSTGRES_HOST": "127.0.0.1", "CLUSTER_POSTGRES_PORT": str(layout.postgres_port),
            "CLUSTER_DB_PASSWORD": postgres.password,
            "CLUSTER_REDIS_HOST": "127.0.0.1", "CLUSTER_REDIS_PORT": str(layout.redis_port),
            "CLUSTER_REDIS_PASSWORD": redis.password,
            "CONNECTOR_DB_URL": postgres.url("assistant"), "BANK_DB_URL": postgres.url("sandbox_bank"),
            "ANALYTICS_DB_URL": postgres.url("analytics"), "KB_REVIEW_DB_URL": postgres.url("assistant"),
            "REDIS_URL": redis.url, "TRUST_X_FORWARDED_FOR": "1", "TICKET_LOCK_LIFETIME": str(LOCK_LIFETIME_S),
            "PUBLIC_BASE_URL": public, "DESK_URL": public}


@dataclasses.dataclass(frozen=True)
class Replica:
    layout: ClusterLayout
    index: int
    model: Optional[Path] = None  # needed to start, not to stop

    @property
    def rasa_name(self) -> str:
        return f"rasa-{self.index}"

    @property
    def actions_name(self) -> str:
        return f"actions-{self.index}"

    def start_actions(self) -> None:
        settings = load_settings()
        if running_pid(self.layout.pid_file(self.actions_name)):
            return
        spawn([sys.executable, *action_server_args("127.0.0.1", self.layout.action_port(self.index))],
              self.layout.pid_file(self.actions_name), self.layout.log_file(self.actions_name),
              replica_env(self.layout, settings, self.index), REPO_ROOT)

    def start_rasa(self) -> None:
        assert self.model is not None, "a replica starts from a trained model"
        settings = dataclasses.replace(load_settings(), rasa_port=self.layout.rasa_port(self.index))
        if running_pid(self.layout.pid_file(self.rasa_name)):
            return
        spawn([rasa_executable(), *rasa_run_args(self.model, settings, ENDPOINTS)],
              self.layout.pid_file(self.rasa_name), self.layout.log_file(self.rasa_name),
              replica_env(self.layout, settings, self.index), REPO_ROOT)

    def wait_until_up(self) -> None:
        wait_for_port(self.layout.action_port(self.index), self.actions_name, STARTUP_TIMEOUT_S,
                      self.layout.log_file(self.actions_name))
        wait_for_port(self.layout.rasa_port(self.index), self.rasa_name, STARTUP_TIMEOUT_S,
                      self.layout.log_file(self.rasa_name))

    def stop(self) -> list[str]:
        stopped = []
        for name in (self.rasa_name, self.actions_name):
            if stop_pid(self.layout.pid_file(name)):
                stopped.append(name)
        return stopped
