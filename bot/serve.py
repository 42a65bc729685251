"""Start the action server, the Rasa server and the analytics consumer together: ``python -m bot.serve``.

Checks the ports first, waits until both servers answer, prints how to talk to the
assistant, and stops all three on Ctrl-C (or when any one dies).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from bot.private_db import private_file
from bot.settings import REPO_ROOT, Settings, action_server_secret, configured_secret, load_settings
from bot.train import rasa_env, rasa_executable

STARTUP_TIMEOUT_S = 300


class PortTaken(RuntimeError):
    pass


def ensure_port_free(port: int, env_var: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            raise PortTaken(f"port {port} is already in use; stop whatever listens there "
                            f"(`ss -ltnp 'sport = :{port}'`) or choose another with {env_var}=...") from None


def credential_defaults(path: Path = REPO_ROOT / "bot" / "credentials.yml") -> dict[str, str]:
    """An empty value for every ${VAR} credentials.yml names that the environment lacks: Rasa's YAML
    reader refuses unset variables, and an empty secret means "not configured" to a channel."""
    names = re.findall(r"\$\{(\w+)\}", path.read_text(encoding="utf-8"))
    return {name: "" for name in names if name not in os.environ}


# One thread per BLAS / OpenMP call in the serving processes (each can still be set in the environment).
# Their math is one message at a time; a multi-threaded matrix-vector product or FAISS search waits
# for its helper threads to be scheduled on a busy machine, holding the GIL meanwhile: py-spy under
# 20 users showed ~3 ms per message in a 0.03 ms product (docs/serving.md).
SINGLE_THREADED_MATH = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def server_env(settings: Settings) -> dict[str, str]:
    """Environment for both processes, with the ${...} values endpoints.yml and credentials.yml need."""
    private_file(settings.tracker_db_path)  # conversations: owner-only file before Rasa's SQLite opens it
    return {**{name: "1" for name in SINGLE_THREADED_MATH}, **rasa_env(), **credential_defaults(),
            "ACTION_ENDPOINT_URL": settings.action_endpoint_url,
            "TRACKER_DB_PATH": str(settings.tracker_db_path), "ANALYTICS_DB_PATH": str(settings.analytics_db_path),
            "KB_INDEX_DIR": str(settings.index_dir), "KB_ENCODER_PATH": str(settings.encoder_path),
            "KB_RELOAD_INTERVAL_S": str(settings.kb_reload_interval_s), "KB_REVIEW_DB_URL": settings.kb_review_db_url,
            "KB_DOCUMENTS_DIR": str(settings.kb_documents_dir),
            "BANK_DB_URL": settings.bank_db_url, "ASSISTANT_SECRETS_DIR": str(settings.secrets_dir),
            "ACTION_SERVER_SECRET": action_server_secret(settings.secrets_dir),
            "DESK_SERVICE_TOKEN": configured_secret("DESK_SERVICE_TOKEN", settings.secrets_dir, "desk_service.token"),
            "DESK_URL": os.environ.get("DESK_URL") or f"http://localhost:{settings.rasa_port}"}


def log_tail(log: Path | None, lines: int = 15) -> str:
    """The end of a server's log, so a start-up failure says why (not only its exit code)."""
    if log is None or not log.is_file():
        return ""
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return "\n" + "\n".join(f"  | {line}" for line in tail)


def wait_until_up(url: str, process: subprocess.Popen, timeout_s: float = STARTUP_TIMEOUT_S,
                  log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with code {process.returncode} during start-up"
                               + log_tail(log))
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


_ACTION_SERVER = ["-m", "bot.action_server"]  # how the action server is spawned, and recognised to kill it


def action_server_args(host: str, port: int) -> list[str]:
    return [*_ACTION_SERVER, "--host", host, "--port", str(port)]


def rasa_run_args(model: Path, settings: Settings, endpoints: str = "bot/endpoints.yml") -> list[str]:
    """`rasa run`'s arguments. Values are joined with "=": a generated token may start with "-", which
    argparse would otherwise read as an option (the server then exits with code 2)."""
    return ["run", f"--model={model}", "--enable-api", f"--auth-token={settings.rasa_api_token}",
            f"--port={settings.rasa_port}", "--credentials=bot/credentials.yml", f"--endpoints={endpoints}"]


@dataclass
class Servers(AbstractContextManager):
    """The processes; use as a context manager so they always stop."""

    model: Path
    settings: Settings = field(default_factory=load_settings)
    log_dir: Path | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)
    by_name: dict[str, subprocess.Popen] = field(default_factory=dict)  # "actions", "analytics", "rasa"

    @property
    def rasa_url(self) -> str:
        return f"http://localhost:{self.settings.rasa_port}"

    def start(self) -> "Servers":
        ensure_port_free(self.settings.rasa_port, "RASA_PORT")
        ensure_port_free(self.settings.action_port, "ACTION_PORT")
        env = server_env(self.settings)
        actions = self._spawn_action_server(env)
        # the analytics consumer folds events in its own process, not in the one serving customers
        self._spawn(["-m", "bot.analytics"], env, "analytics", python=True)
        rasa = self._spawn(self.rasa_args(), {**env, "ANALYTICS_IN_PROCESS": "0"}, "rasa")
        self._wait_for_action_server(actions)
        wait_until_up(f"{self.rasa_url}/", rasa, log=self._log("rasa"))
        return self

    def kill_action_server(self) -> None:
        """SIGKILL the action server, as a crash would (fault tests); start_action_server() brings one back."""
        for process in self.processes:
            if process.args[1:3] == _ACTION_SERVER and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def start_action_server(self) -> None:
        self._wait_for_action_server(self._spawn_action_server(server_env(self.settings)))

    def _spawn_action_server(self, env: dict[str, str]) -> subprocess.Popen:
        return self._spawn(action_server_args(self.settings.action_host, self.settings.action_port), env,
                           "actions", python=True)

    def _wait_for_action_server(self, process: subprocess.Popen) -> None:
        wait_until_up(f"http://{self.settings.action_host}:{self.settings.action_port}/health", process,
                      log=self._log("actions"))

    def rasa_args(self) -> list[str]:
        return rasa_run_args(self.model, self.settings)

    def tracker(self, sender_id: str) -> dict:
        """A conversation's tracker through Rasa's (token-protected) HTTP API."""
        request = urllib.request.Request(
            f"{self.rasa_url}/conversations/{urllib.parse.quote(sender_id, safe=':')}/tracker?"
            + urllib.parse.urlencode({"token": self.settings.rasa_api_token}))
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def _log(self, name: str) -> Path | None:
        return self.log_dir / f"{name}.log" if self.log_dir is not None else None

    def _spawn(self, args: list[str], env: dict[str, str], name: str, python: bool = False) -> subprocess.Popen:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(private_file(self._log(name)), "ab")  # logs: owner-only too
        process = subprocess.Popen([sys.executable if python else rasa_executable(), *args], cwd=REPO_ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT if out else None,
                                   start_new_session=True)
        self.processes.append(process)
        self.by_name[name] = process
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def __enter__(self) -> "Servers":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _banner(settings: Settings) -> str:
    url = f"http://localhost:{settings.rasa_port}"
    return (f"\n示例银行 assistant is up.\n"
            f"  REST:   curl -s {url}/webhooks/rest/webhook -H 'Content-Type: application/json' "
            "-d '{\"sender\": \"demo\", \"message\": \"开户要带什么材料\"}'\n"
            f"  Tracker: curl -s '{url}/conversations/rest:demo/tracker?token=$(cat {settings.secrets_dir}/rasa_api.token)'"
            " (or your RASA_API_TOKEN)\n"
            f"  Web chat: {url}/webhooks/webchat/"
            "  (as a demo customer: append #token=$(.venv/bin/python -m bot.identity issue C001))\n"
            f"  Agents: {url}/agent/  (create one: echo 'a long passphrase' | "
            ".venv/bin/python -m connectors.agent_desk add-agent wang --role supervisor)\n"
            "Press Ctrl-C to stop both servers.\n")


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m bot.serve", description=__doc__.splitlines()[0]).parse_args(argv)
    from bot.train import ensure_model

    settings = load_settings()
    servers = Servers(model=ensure_model(), settings=settings)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        servers.start()
        print(_banner(settings), flush=True)
        while all(p.poll() is None for p in servers.processes):
            time.sleep(1)
        print("error: a server stopped unexpectedly; shutting down the other", file=sys.stderr)
        return 1
    except PortTaken as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopping…")
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan a server
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
