"""PostgreSQL, Redis and nginx as the project's own processes, with data under var/cluster/.

Debian packages provide the binaries (scripts/ensure_cluster_packages.sh installs what is
missing); nothing here touches a system-wide instance. PostgreSQL refuses to run as root, so
when we are root its processes run as the `postgres` account the Debian package creates.
Passwords are generated once into the secrets folder (never in git).
"""
from __future__ import annotations

import glob
import grp
import hashlib
import os
import pwd
import stat
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from bot.cluster.layout import ClusterLayout
from bot.cluster.processes import running_pid, spawn, stop_pid
from bot.settings import configured_secret, load_settings

DATABASES = ("assistant", "sandbox_bank", "analytics")  # conversations and channel state; the bank's sandbox systems;
# the event broker's `events` and the analytics tables (the tracker store's table is also named `events`)
DB_USER = "assistant"
READY_TIMEOUT_S = 60.0


class ClusterError(RuntimeError):
    """A service could not be started; the message says why and what to do."""


def wait_for_port(port: int, what: str, timeout_s: float = READY_TIMEOUT_S, log: Optional[Path] = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    hint = f"; see {log}" if log else ""
    raise ClusterError(f"{what} did not open port {port} within {timeout_s:.0f} s{hint}")


def _secret(name: str, filename: str) -> str:
    return configured_secret(name, load_settings().secrets_dir, filename)


# --- PostgreSQL ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Postgres:
    layout: ClusterLayout

    NAME = "postgres"

    @property
    def password(self) -> str:
        return _secret("CLUSTER_DB_PASSWORD", "cluster_db.password")

    def url(self, database: str) -> str:
        return (f"postgresql://{DB_USER}:{quote(self.password, safe='')}@127.0.0.1:"
                f"{self.layout.postgres_port}/{database}")

    @staticmethod
    def bin_dir() -> Path:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
        if not found:
            raise ClusterError("PostgreSQL is not installed: run `make cluster` as root once "
                               "(it installs Debian's postgresql) or `apt-get install postgresql`")
        return Path(found[-1]).parent

    @staticmethod
    def _account() -> Optional[pwd.struct_passwd]:
        """The unprivileged account to run as when we are root (PostgreSQL refuses root)."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            raise ClusterError("running as root needs the `postgres` account (apt-get install postgresql)") from None

    def _own(self, path: Path) -> None:
        account = self._account()
        if account is not None and not path.exists() and not _traversable(path.parent, account):
            _link_to_reachable_folder(path, account)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if account is not None:
            os.chown(path, account.pw_uid, account.pw_gid)

    def _run_as(self, args: list[str]) -> subprocess.CompletedProcess:
        account = self._account()
        kwargs = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []} if account else {}
        return subprocess.run(args, capture_output=True, text=True, **kwargs)

    def init(self) -> None:
        """initdb once: scram passwords for every connection, UTF-8."""
        data = self.layout.postgres_data
        if (data / "PG_VERSION").is_file():
            return
        self._own(data)
        with tempfile.NamedTemporaryFile("w", dir=data.resolve().parent, delete=False) as pwfile:  # where postgres reaches
            pwfile.write(self.password)
        try:
            account = self._account()
            if account is not None:
                os.chown(pwfile.name, account.pw_uid, account.pw_gid)
            done = self._run_as([str(self.bin_dir() / "initdb"), "-D", str(data.resolve()), "-U", DB_USER,
                                 f"--pwfile={pwfile.name}", "--auth=scram-sha-256", "-E", "UTF8",
                                 "--locale=C.UTF-8"])
        finally:
            os.unlink(pwfile.name)
        if done.returncode != 0:
            raise ClusterError(f"initdb failed: {done.stderr.strip()[-500:]}")

    def start(self) -> None:
        if running_pid(self.layout.pid_file(self.NAME)):
            return
        self.init()
        self._own(self.layout.postgres_socket_dir)
        log = self.layout.log_file(self.NAME)
        account = self._account()
        args = [str(self.bin_dir() / "postgres"), "-D", str(self.layout.postgres_data.resolve()),
                "-p", str(self.layout.postgres_port), "-k", str(self.layout.postgres_socket_dir.resolve()),
                "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"]
        if account is not None:
            args = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups", *args]
        spawn(args, self.layout.pid_file(self.NAME), log, dict(os.environ), self.layout.root)
        wait_for_port(self.layout.postgres_port, "PostgreSQL", log=log)
        self._wait_accepting()
        self._create_databases()

    def _wait_accepting(self) -> None:
        import psycopg2

        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                psycopg2.connect(self.url("postgres"), connect_timeout=3).close()
                return
            except psycopg2.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise ClusterError(f"PostgreSQL does not accept connections: {exc}") from None
                time.sleep(0.3)

    def _create_databases(self) -> None:
        import psycopg2

        conn = psycopg2.connect(self.url("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                for name in DATABASES:
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                    if cursor.fetchone() is None:
                        cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()

    def stop(self) -> bool:
        """Fast shutdown (SIGINT): open sessions are ended, committed data is safe."""
        return stop_pid(self.layout.pid_file(self.NAME), signal.SIGINT)


def _traversable(folder: Path, account: pwd.struct_passwd) -> bool:
    """Can `account` reach into `folder`? (every ancestor searchable by it)"""
    groups = {account.pw_gid} | {g.gr_gid for g in grp.getgrall() if account.pw_name in g.gr_mem}
    for part in [folder, *folder.parents]:
        st = part.stat()
        if st.st_uid == account.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def _link_to_reachable_folder(path: Path, account: pwd.struct_passwd) -> None:
    """The checkout is in a folder `postgres` may not enter (e.g. under /root): keep PostgreSQL's files
    in /var/lib/shili-bank-assistant/<hash> and link them into var/cluster/, where they are looked for."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    target = Path("/var/lib/shili-bank-assistant") / digest / path.name
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.parent.chmod(0o755)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target, target_is_directory=True)


# --- Redis -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Redis:
    layout: ClusterLayout

    NAME = "redis"

    @property
    def password(self) -> str:
        return _secret("CLUSTER_REDIS_PASSWORD", "cluster_redis.password")

    @property
    def url(self) -> str:
        return f"redis://:{quote(self.password, safe='')}@127.0.0.1:{self.layout.redis_port}/0"

    def start(self) -> None:
        if running_pid(self.layout.pid_file(self.NAME)):
            return
        binary = shutil.which("redis-server")
        if binary is None:
            raise ClusterError("redis-server is not installed: run `make cluster` as root once "
                               "(it installs Debian's redis-server) or `apt-get install redis-server`")
        data = self.layout.redis_data
        data.mkdir(parents=True, exist_ok=True, mode=0o700)
        config = data / "redis.conf"  # the password in a 0600 file, not on the command line
        config.write_text(f"requirepass {self.password}\n")
        config.chmod(0o600)
        log = self.layout.log_file(self.NAME)
        spawn([binary, str(config), "--port", str(self.layout.redis_port), "--bind", "127.0.0.1",
               "--dir", str(data), "--appendonly", "yes", "--save", "", "--daemonize", "no"],
              self.layout.pid_file(self.NAME), log, dict(os.environ), self.layout.root)
        wait_for_port(self.layout.redis_port, "Redis", log=log)

    def stop(self) -> bool:
        return stop_pid(self.layout.pid_file(self.NAME))


# --- nginx -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Nginx:
    layout: ClusterLayout

    NAME = "nginx"

    def config(self) -> str:
        from bot.cluster.nginx_conf import render

        return render(self.layout)

    def start(self) -> None:
        if running_pid(self.layout.pid_file(self.NAME)):
            return
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise ClusterError("nginx is not installed: run `make cluster` as root once "
                               "(it installs Debian's nginx) or `apt-get install nginx`")
        folder = self.layout.nginx_dir
        (folder / "tmp").mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # its workers run as nobody (bot/cluster/nginx_conf.py) and buffer there
            nobody = pwd.getpwnam("nobody")
            os.chown(folder / "tmp", nobody.pw_uid, nobody.pw_gid)
        conf = folder / "nginx.conf"
        conf.write_text(self.config())
        log = self.layout.log_file(self.NAME)
        checked = subprocess.run([binary, "-t", "-c", str(conf), "-p", str(folder)], capture_output=True, text=True)
        if checked.returncode != 0:
            raise ClusterError(f"nginx refused its configuration: {checked.stderr.strip()[-500:]}")
        spawn([binary, "-c", str(conf), "-p", str(folder)], self.layout.pid_file(self.NAME), log,
              dict(os.environ), self.layout.root)
        wait_for_port(self.layout.balancer_port, "nginx", log=log)

    def stop(self) -> bool:
        return stop_pid(self.layout.pid_file(self.NAME), signal.SIGQUIT)  # graceful: finish requests
