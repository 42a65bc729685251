"""Where a local cluster lives: ports, folders and PID files, in one typed place.

Everything is under ``var/cluster/`` (data of PostgreSQL and Redis, nginx's config and temp files,
logs, one ``<name>.pid`` per process). The balancer takes the assistant's usual port (RASA_PORT,
5005), so clients do not change when the embedded single process is replaced by a cluster.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bot.settings import REPO_ROOT, env_int, load_settings

DEFAULT_REPLICAS = 3
MAX_REPLICAS = 8


@dataclass(frozen=True)
class ClusterLayout:
    root: Path
    replicas: int
    balancer_port: int
    rasa_base_port: int = 5100
    action_base_port: int = 5200
    postgres_port: int = 54329
    redis_port: int = 63790

    @classmethod
    def from_env(cls, replicas: int | None = None) -> "ClusterLayout":
        root = Path(os.environ.get("CLUSTER_DIR") or REPO_ROOT / "var" / "cluster")
        count = replicas if replicas is not None else env_int("REPLICAS", DEFAULT_REPLICAS, 1, MAX_REPLICAS)
        if not 1 <= count <= MAX_REPLICAS:
            raise ValueError(f"replicas must be between 1 and {MAX_REPLICAS} (got {count})")
        return cls(root=root.resolve(), replicas=count, balancer_port=load_settings().rasa_port,
                   rasa_base_port=env_int("CLUSTER_RASA_BASE_PORT", 5100, 1024, 65000),
                   action_base_port=env_int("CLUSTER_ACTION_BASE_PORT", 5200, 1024, 65000),
                   postgres_port=env_int("CLUSTER_POSTGRES_PORT", 54329, 1024, 65535),
                   redis_port=env_int("CLUSTER_REDIS_PORT", 63790, 1024, 65535))

    def rasa_port(self, index: int) -> int:
        return self.rasa_base_port + index

    def action_port(self, index: int) -> int:
        return self.action_base_port + index

    def pid_file(self, name: str) -> Path:
        return self.root / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    @property
    def postgres_data(self) -> Path:
        return self.root / "postgres"

    @property
    def postgres_socket_dir(self) -> Path:
        return self.root / "postgres-run"

    @property
    def redis_data(self) -> Path:
        return self.root / "redis"

    @property
    def nginx_dir(self) -> Path:
        return self.root / "nginx"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}"

    def replica_names(self) -> list[str]:
        return [f"{kind}-{i}" for i in range(1, self.replicas + 1) for kind in ("actions", "rasa")]
