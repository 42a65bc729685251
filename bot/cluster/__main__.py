"""``python -m bot.cluster start|stop|status [--replicas N]``: the local cluster's life cycle.

``nginx-conf`` prints the same balancer configuration for containers (deploy/nginx.conf)."""
from __future__ import annotations

import argparse
import sys
import time

from bot.cluster.layout import MAX_REPLICAS, ClusterLayout
from bot.cluster.processes import running_pid
from bot.cluster.replicas import Replica
from bot.cluster.services import ClusterError, Nginx, Postgres, Redis


def prepare_databases(postgres: Postgres) -> None:
    """Tables and the sandbox's seed once, before several processes would race to create them."""
    import connectors.agent_desk.store  # noqa: F401  (its tables join the connectors' metadata)
    from bot.banking.sandbox import SandboxBank
    from connectors.store import engine_for
    from knowledge_base.review.store import KnowledgeReview, review_engine

    engine_for(postgres.url("assistant")).dispose()
    KnowledgeReview(review_engine(postgres.url("assistant"))).engine.dispose()  # the knowledge review's tables
    SandboxBank(postgres.url("sandbox_bank"))


def start(layout: ClusterLayout) -> None:
    from bot.train import ensure_model

    started = time.monotonic()
    layout.root.mkdir(parents=True, exist_ok=True)
    model = ensure_model()
    postgres = Postgres(layout)
    postgres.start()
    Redis(layout).start()
    prepare_databases(postgres)
    replicas = [Replica(layout, i, model) for i in range(1, layout.replicas + 1)]
    first, rest = replicas[0], replicas[1:]
    first.start_actions()
    first.start_rasa()  # alone first: it creates Rasa's tables, which concurrent replicas would race on
    first.wait_until_up()
    for replica in rest:
        replica.start_actions()
        replica.start_rasa()
    for replica in rest:
        replica.wait_until_up()
    Nginx(layout).start()
    print(f"cluster up in {time.monotonic() - started:.0f} s: {layout.replicas} replicas behind "
          f"http://localhost:{layout.balancer_port} (PID files and logs in {layout.root})")


def stop(layout: ClusterLayout) -> None:
    stopped = ["nginx"] if Nginx(layout).stop() else []
    for index in range(1, MAX_REPLICAS + 1):  # also replicas of an earlier, larger cluster
        stopped += Replica(layout, index).stop()
    stopped += ["redis"] if Redis(layout).stop() else []
    stopped += ["postgres"] if Postgres(layout).stop() else []
    print(f"stopped: {', '.join(stopped)}" if stopped else "no cluster process was running")


def status(layout: ClusterLayout) -> int:
    names = ["postgres", "redis", *layout.replica_names(), "nginx"]
    down = 0
    for name in names:
        pid = running_pid(layout.pid_file(name))
        down += pid is None
        print(f"{name:<12} {'pid ' + str(pid) if pid else 'not running'}")
    return 0 if down == 0 else 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cluster", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("start", "stop", "status", "nginx-conf"))
    parser.add_argument("--replicas", type=int, default=None,
                        help=f"Rasa replicas, 1-{MAX_REPLICAS} (default: REPLICAS or 3)")
    args = parser.parse_args(argv)
    try:
        layout = ClusterLayout.from_env(args.replicas)
        if args.command == "start":
            start(layout)
        elif args.command == "stop":
            stop(layout)
        elif args.command == "nginx-conf":
            from bot.cluster.nginx_conf import render_for_containers

            print(render_for_containers(), end="")
        else:
            return status(layout)
    except (ClusterError, ValueError) as exc:
        hint = " (`make cluster-stop` stops whatever did start)" if args.command == "start" else ""
        print(f"error: {exc}{hint}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
