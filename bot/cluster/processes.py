"""Daemon processes of a local cluster: started detached, tracked by PID file, stopped by it.

``make cluster`` returns once everything answers; ``make cluster-stop`` (another process, later)
finds each process through ``var/cluster/<name>.pid``. A PID file is trusted only while the
process it names still runs the command that wrote it (a reused PID is not ours to kill).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Optional, Sequence

STOP_GRACE_S = 20.0
# What the command line of each kind of process contains; the kind is the PID file's name up to "-".
MARKERS = {"postgres": "postgres", "redis": "redis-server", "nginx": "nginx", "rasa": "rasa",
           "actions": "bot.action_server"}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _marker(pid_file: Path) -> str:
    return MARKERS[pid_file.stem.split("-")[0]]


def running_pid(pid_file: Path) -> Optional[int]:
    """The PID in `pid_file` if that process is alive and still runs the kind of program the file names."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _marker(pid_file) in _cmdline(pid) else None


def spawn(args: Sequence[str], pid_file: Path, log_file: Path, env: dict[str, str], cwd: Path) -> int:
    """Start `args` in its own session (Ctrl-C in the terminal does not reach it), log to `log_file`."""
    log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # logs may quote customers: owner only
    with open(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as log:
        process = subprocess.Popen(list(args), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def stop_pid(pid_file: Path, sig: signal.Signals = signal.SIGTERM, grace_s: float = STOP_GRACE_S) -> bool:
    """Signal the process group of the PID file's process (SIGTERM unless the service wants another),
    SIGKILL after `grace_s`; True if one was running."""
    pid = running_pid(pid_file)
    pid_file.unlink(missing_ok=True)
    if pid is None:
        return False
    _signal_group(pid, sig)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        _signal_group(pid, signal.SIGKILL)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(os.getpgid(pid), sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return "zombie" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0].lower()
    except (OSError, IndexError):
        return ""
