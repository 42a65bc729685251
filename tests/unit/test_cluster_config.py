"""The cluster's layout and balancer configuration (bot/cluster/); the processes themselves are
tested in tests/cluster/."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from bot.cluster.layout import ClusterLayout
from bot.cluster.nginx_conf import render
from bot.cluster.processes import running_pid


@pytest.mark.parametrize("value", ["0", "9", "three", "-1"])
def test_a_bad_replica_count_names_the_variable_and_the_range(monkeypatch, value):
    monkeypatch.setenv("REPLICAS", value)
    with pytest.raises(ValueError, match="REPLICAS.*(between 1 and 8|must be an integer)"):
        ClusterLayout.from_env()


def test_every_replica_is_behind_the_balancer(tmp_path):
    layout = ClusterLayout(root=tmp_path, replicas=3, balancer_port=5005)
    conf = render(layout)
    for port in (5101, 5102, 5103):
        assert conf.count(f"server 127.0.0.1:{port} ") == 2  # HTTP pool and socket.io pool
    assert "listen 5005;" in conf and "non_idempotent" in conf and "hash $remote_addr consistent" in conf
    assert "$request_uri" not in conf and "$args" not in conf  # no query strings (tokens) in the access log


@pytest.mark.skipif(shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"),
                    reason="nginx is installed by `make cluster-packages`")
def test_nginx_accepts_the_configuration(tmp_path):
    layout = ClusterLayout(root=tmp_path, replicas=2, balancer_port=5005)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx" / "tmp").mkdir(parents=True)
    conf = tmp_path / "nginx" / "nginx.conf"
    conf.write_text(render(layout).replace("user nobody nogroup;\n", ""))
    checked = subprocess.run([shutil.which("nginx") or "/usr/sbin/nginx", "-t", "-c", str(conf), "-p",
                              str(tmp_path / "nginx")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_a_pid_file_naming_another_program_is_not_trusted(tmp_path):
    pid_file = tmp_path / "actions-1.pid"
    pid_file.write_text("1\n")  # PID 1 runs, but it is not an action server
    assert running_pid(pid_file) is None
    pid_file.write_text("not a number")
    assert running_pid(tmp_path / "rasa-1.pid") is None and running_pid(pid_file) is None


def test_the_container_balancer_config_is_current():
    from bot.cluster.nginx_conf import render_for_containers
    from bot.settings import REPO_ROOT

    committed = (REPO_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert committed == render_for_containers(), "run: .venv/bin/python -m bot.cluster nginx-conf > deploy/nginx.conf"
    assert "server rasa:5005 " in committed and "listen 5005;" in committed


def test_compose_runs_the_cluster_endpoints_with_the_api_token():
    import yaml

    from bot.settings import REPO_ROOT

    compose = yaml.safe_load((REPO_ROOT / "deploy" / "compose.yml").read_text(encoding="utf-8"))
    rasa = compose["services"]["rasa"]
    command = " ".join(rasa["command"])
    assert "--endpoints=bot/endpoints.cluster.yml" in command and "--auth-token=" in command
    assert set(compose["services"]) == {"postgres", "redis", "actions", "rasa", "nginx"}
    assert {"CLUSTER_POSTGRES_HOST", "CLUSTER_REDIS_HOST", "REDIS_URL"} <= set(rasa["environment"])
