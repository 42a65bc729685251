"""Load benchmark: our assistant against a bare default Rasa project, N concurrent REST users.

Why: the latency benchmarks measure one user at a time; this one asks what our custom
channels, NLU and actions cost under concurrency, relative to what stock Rasa costs on the
same machine. The bare project is `rasa init`'s moodbot (trained once, cached in
var/bench/bare_rasa/); ours starts like benchmarks/rest_latency.py (scratch tracker store
and sandbox bank). Both servers stay up for the whole run and are measured interleaved
(bare then ours, order swapped every round), so machine noise hits both alike.

Each simulated user is a fresh sender that sends --turns messages one after another
(waiting for each reply). Per N and server: p50 / p95 / p99 latency of the successful
turns, throughput (successful turns / wall seconds), errors (non-200, exception, or no
answer within 60 s), and the ratios ours / bare against the targets (at 20 users:
p95 <= 1.3x bare, throughput >= 0.8x bare, zero errors).

    .venv/bin/python benchmarks/load.py --users 1,5,20 --rounds 3
    .venv/bin/python benchmarks/load.py --only bare --users 1,2 --turns 2 --rounds 1  # needs no model of ours
    .venv/bin/python benchmarks/load.py --users 20 --ours-url http://localhost:5005  # a running `make cluster`

Prints a table and writes load.json and load.png to benchmarks/results/ (or --out DIR);
server logs go to var/bench/logs/.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = Path(__file__).with_name("results")
BARE_DIR = REPO / "var" / "bench" / "bare_rasa"
LOG_DIR = REPO / "var" / "bench" / "logs"
SERVERS = ("bare", "ours")
TURN_TIMEOUT_S = 60
STARTUP_TIMEOUT_S = 300
TARGET = {"users": 20, "p95": 1.3, "throughput": 0.8}  # ours / bare, from the issue

# Conversations each user walks through in turn (user i starts at conversation i), cut at --turns.
OUR_CONVERSATIONS = [
    ["开户需要带什么材料"], ["跨行转账要收手续费吗"], ["你好"], ["今天美元汇率多少"],
    ["查一下我的余额"], ["我要挂失", "6688", "/deny"], ["给张三转500", "6688", "/deny"],
    ["最近一个月的交易明细"], ["附近有网点吗", "上海"], ["你是机器人吗"], ["信用卡年费怎么收"], ["谢谢"],
]
BARE_CONVERSATIONS = [
    ["hello", "I am sad", "yes"], ["hi", "great"], ["hey", "I am sad", "no"],
    ["good morning", "I am feeling very good"], ["bye"],
]

Script = list[dict]  # the JSON bodies one user posts, in order


# --- bare Rasa: rasa init's moodbot ------------------------------------------------------------

def bare_env() -> dict[str, str]:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("USE_TF", None)  # ours sets it for HF transformers; the stock project runs unmodified
    return env


def bare_model(folder: Path = BARE_DIR) -> Path:
    """The moodbot's models folder, running `rasa init` (minutes: it trains) only when it has none."""
    models = folder / "models"
    if any(models.glob("*.tar.gz")):
        return models
    from bot.serve import log_tail
    from bot.train import rasa_executable

    folder.mkdir(parents=True, exist_ok=True)  # --no-prompt refuses a folder that does not exist
    log = folder / "init.log"
    print(f"bare Rasa: `rasa init` into {folder} (trains the moodbot, a few minutes; log {log})", flush=True)
    with open(log, "wb") as out:
        code = subprocess.run([rasa_executable(), "init", "--no-prompt", f"--init-dir={folder}"], cwd=folder,
                              env=bare_env(), stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT).returncode
    if code != 0 or not any(models.glob("*.tar.gz")):
        raise RuntimeError(f"`rasa init` exited with code {code}, no model in {models}" + log_tail(log))
    return models


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM its process group (Rasa's workers too), SIGKILL after 20 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def bare_server(log_dir: Path) -> Iterator[str]:
    """`rasa run` on the moodbot at a free port; yields its base URL and always stops it."""
    from bot.serve import wait_until_up
    from bot.train import rasa_executable
    from tests.conftest import free_port

    models, port, log = bare_model(), free_port(), log_dir / "bare_rasa.log"
    command = [rasa_executable(), "run", "--enable-api", f"--port={port}", f"--model={models}"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=models.parent, env=bare_env(), stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(f"http://localhost:{port}/", process, STARTUP_TIMEOUT_S, log)
        yield f"http://localhost:{port}"
    finally:
        stop_process(process)


# --- user simulation ---------------------------------------------------------------------------

def messages(conversations: list[list[str]], user: int, turns: int) -> list[str]:
    """`turns` messages: the conversations from user's own starting point on, repeated as needed."""
    start = user % len(conversations)
    stream = itertools.chain.from_iterable(itertools.cycle(conversations[start:] + conversations[:start]))
    return list(itertools.islice(stream, turns))


def bare_script(user: int, turns: int) -> Script:
    sender = f"load-{uuid.uuid4().hex[:12]}"
    return [{"sender": sender, "message": text} for text in messages(BARE_CONVERSATIONS, user, turns)]


def our_script(user: int, turns: int) -> Script:
    """A logged-in customer (the token binds to this one conversation, so one per user)."""
    from bot.identity import TOKEN_METADATA_KEY, issue_token

    sender, metadata = f"load-{uuid.uuid4().hex[:12]}", {TOKEN_METADATA_KEY: issue_token("C001")}
    return [{"sender": sender, "message": text, "metadata": metadata}
            for text in messages(OUR_CONVERSATIONS, user, turns)]


SCRIPTS: dict[str, Callable[[int, int], Script]] = {"bare": bare_script, "ours": our_script}


@dataclasses.dataclass
class Load:
    """What one or more runs of N users measured (runs of the same N and server add up)."""

    latencies_ms: list[float] = dataclasses.field(default_factory=list)
    errors: Counter = dataclasses.field(default_factory=Counter)
    wall_s: float = 0.0

    def add(self, other: "Load") -> None:
        self.latencies_ms += other.latencies_ms
        self.errors += other.errors
        self.wall_s += other.wall_s


async def one_user(session, url: str, script: Script, load: Load) -> None:
    import aiohttp

    for body in script:
        started = time.perf_counter()
        try:
            async with session.post(url, json=body) as response:
                await response.read()
                problem = None if response.status == 200 else f"HTTP {response.status}"
        except asyncio.TimeoutError:
            problem = f"no answer in {TURN_TIMEOUT_S} s"
        except aiohttp.ClientError as exc:
            problem = type(exc).__name__
        if problem is None:
            load.latencies_ms.append((time.perf_counter() - started) * 1000)
        else:
            load.errors[problem] += 1


async def drive(base_url: str, scripts: list[Script]) -> Load:
    """All users at once; the wall time runs from the first request to the last reply."""
    import aiohttp

    partner = os.environ.get("REST_BEARER_TOKEN")  # our REST channel asks for it when it is configured
    headers = {"Authorization": f"Bearer {partner}"} if partner else {}
    load, url = Load(), f"{base_url}/webhooks/rest/webhook"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT_S), headers=headers,
                                     connector=aiohttp.TCPConnector(limit=0)) as session:  # no client cap
        started = time.perf_counter()
        await asyncio.gather(*(one_user(session, url, script, load) for script in scripts))
        load.wall_s = time.perf_counter() - started
    return load


def run_users(server: str, base_url: str, users: int, turns: int) -> Load:
    scripts = [SCRIPTS[server](user, turns) for user in range(users)]  # tokens are made outside the timing
    return asyncio.run(drive(base_url, scripts))


def warm_up(server: str, base_url: str) -> None:
    """One untimed turn: the first message loads what Rasa loads lazily."""
    load = run_users(server, base_url, users=1, turns=1)
    if load.errors:
        raise RuntimeError(f"{server}: the warm-up turn failed: {dict(load.errors)}")


# --- statistics --------------------------------------------------------------------------------

def summarize(load: Load) -> dict:
    """Percentiles and throughput over successful turns only: fast failures must not look fast."""
    import numpy as np

    from benchmarks.report import latency_ms

    done, errors = len(load.latencies_ms), sum(load.errors.values())
    stats = {"turns": done + errors, "errors": errors, "error_kinds": dict(load.errors),
             "throughput_tps": round(done / load.wall_s, 2) if load.wall_s else None}
    if not done:
        return {**stats, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    percentiles = latency_ms(load.latencies_ms)  # p50, p95, max
    return {**stats, "p50_ms": percentiles["p50_ms"], "p95_ms": percentiles["p95_ms"],
            "p99_ms": round(float(np.percentile(load.latencies_ms, 99)), 1), "max_ms": percentiles["max_ms"]}


def ratios(results: dict[str, dict[int, dict]]) -> dict[int, dict]:
    """ours / bare per N (None where either side has no number)."""
    def ratio(n: int, key: str) -> Optional[float]:
        ours, bare = results["ours"][n][key], results["bare"][n][key]
        return round(ours / bare, 2) if ours is not None and bare else None

    if not (results.get("ours") and results.get("bare")):
        return {}
    return {n: {"p95": ratio(n, "p95_ms"), "throughput": ratio(n, "throughput_tps")} for n in results["ours"]}


def targets_met(results: dict[str, dict[int, dict]], ratio_by_n: dict[int, dict]) -> Optional[bool]:
    """The issue's targets at 20 users; None when 20 users or one of the servers was not measured."""
    n, r = TARGET["users"], ratio_by_n.get(TARGET["users"])
    if r is None or r["p95"] is None or r["throughput"] is None:
        return None
    return (r["p95"] <= TARGET["p95"] and r["throughput"] >= TARGET["throughput"]
            and results["ours"][n]["errors"] == 0 and results["bare"][n]["errors"] == 0)


# --- the benchmark -----------------------------------------------------------------------------

def benchmark(urls: dict[str, str], users: list[int], turns: int, rounds: int) -> dict[str, dict[int, dict]]:
    for server, url in urls.items():
        warm_up(server, url)
    loads = {server: {n: Load() for n in users} for server in urls}
    for r in range(rounds):
        order = [s for s in (SERVERS if r % 2 == 0 else SERVERS[::-1]) if s in urls]
        for n in users:
            for server in order:
                load = run_users(server, urls[server], n, turns)
                loads[server][n].add(load)
                s = summarize(load)
                print(f"round {r + 1}/{rounds}  {n:>3} users  {server:<4}  p95 {s['p95_ms']} ms  "
                      f"{s['throughput_tps']} turns/s  {s['errors']} errors", flush=True)
    return {server: {n: summarize(load) for n, load in by_n.items()} for server, by_n in loads.items()}


# --- output ------------------------------------------------------------------------------------

def print_table(results: dict[str, dict[int, dict]], ratio_by_n: dict[int, dict],
                met: Optional[bool]) -> None:
    heads = ("p50 ms", "p95 ms", "p99 ms", "turns/s")
    print(f"\n{'users':>5} {'server':<6} " + " ".join(f"{h:>8}" for h in heads) + f" {'errors':>6}")
    for n in sorted(next(iter(results.values()))):
        for server, by_n in results.items():
            s = by_n[n]
            print(f"{n:>5} {server:<6} {s['p50_ms']!s:>8} {s['p95_ms']!s:>8} {s['p99_ms']!s:>8} "
                  f"{s['throughput_tps']!s:>8} {s['errors']:>6}")
    if ratio_by_n:
        print(f"\nours / bare   (target at {TARGET['users']} users: p95 <= {TARGET['p95']}x, "
              f"throughput >= {TARGET['throughput']}x, zero errors)")
        for n, r in ratio_by_n.items():
            print(f"{n:>5} users   p95 {r['p95']}x   throughput {r['throughput']}x")
        verdict = {True: "met", False: "NOT met", None: f"not measured (needs {TARGET['users']} users)"}[met]
        print(f"targets: {verdict}")


def plot(results: dict[str, dict[int, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for server, style in (("bare", "o--"), ("ours", "s-")):
        if server in results:
            users = sorted(results[server])
            ax.plot(users, [results[server][n]["p95_ms"] for n in users], style,
                    label={"bare": "bare Rasa (moodbot)", "ours": "our assistant"}[server])
    if "bare" in results:
        users = sorted(results["bare"])
        p95 = [results["bare"][n]["p95_ms"] for n in users]
        ax.plot(users, [p * TARGET["p95"] if p is not None else None for p in p95], ":", color="grey",
                label=f"target: {TARGET['p95']} x bare")
    ax.set_xticks(sorted({n for by_n in results.values() for n in by_n}))
    ax.set_xlabel("concurrent users")
    ax.set_ylabel("p95 turn latency (ms)")
    ax.set_title("REST latency under load")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(out: Path, args: argparse.Namespace, machine: dict, results: dict) -> None:
    ratio_by_n = ratios(results)
    met = targets_met(results, ratio_by_n)
    print_table(results, ratio_by_n, met)
    document = {"machine": machine,
                "settings": {"users": args.users, "turns": args.turns, "rounds": args.rounds,
                             "servers": sorted(results), "turn_timeout_s": TURN_TIMEOUT_S,
                             "ours": args.ours_url or "one process started by the benchmark"},
                "results": results, "ratios": ratio_by_n, "targets": {**TARGET, "met": met}}
    text = json.dumps(document, indent=2, ensure_ascii=False)
    (out / "load.json").write_text(text + "\n", encoding="utf-8")
    plot(results, out / "load.png")
    print(f"wrote {out / 'load.json'} and {out / 'load.png'}")


# --- command line ------------------------------------------------------------------------------

def user_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        counts = []
    if not counts or any(n < 1 for n in counts):
        raise argparse.ArgumentTypeError(f"users must be positive integers separated by commas, "
                                         f"e.g. 1,5,10,20 (got {text!r})")
    return sorted(set(counts))


def positive(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} must be a positive integer (got {text!r})")
        return value
    return parse


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=user_counts, default=[1, 5, 10, 20],
                        help="concurrent user counts, comma-separated (default 1,5,10,20)")
    parser.add_argument("--turns", type=positive("turns"), default=10,
                        help="messages each user sends (default 10)")
    parser.add_argument("--rounds", type=positive("rounds"), default=3,
                        help="how often every user count is measured on both servers (default 3)")
    parser.add_argument("--only", choices=SERVERS,
                        help="measure one server only (bare needs no model of ours)")
    parser.add_argument("--ours-url", default=None,
                        help="drive an assistant already running there (e.g. `make cluster` at "
                             "http://localhost:5005, started with RATE_PER_ADDRESS_PER_MIN=100000 "
                             "RATE_PER_ADDRESS_BURST=10000) instead of starting one process")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"folder for load.json and load.png "
                                                                  f"(default {RESULTS.relative_to(REPO)})")
    args = parser.parse_args(argv)
    try:  # fail now, not after the run
        args.out.mkdir(parents=True, exist_ok=True)
        if not os.access(args.out, os.W_OK):
            raise PermissionError("not writable")
    except OSError as exc:
        parser.error(f"--out {args.out}: cannot write there ({exc})")
    return args


def main(argv: Optional[list[str]] = None) -> int:
    from benchmarks.servers import open_rate_limits, our_server

    args = parse_args(argv)
    open_rate_limits()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}
    starters = {"bare": bare_server, "ours": lambda log_dir: our_server(log_dir / "ours")}
    if args.ours_url:
        starters["ours"] = lambda _: contextlib.nullcontext(args.ours_url.rstrip("/"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally below: servers stop
    stack = contextlib.ExitStack()
    try:
        urls = {s: stack.enter_context(starters[s](LOG_DIR)) for s in SERVERS if args.only in (None, s)}
        results = benchmark(urls, args.users, args.turns, args.rounds)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the servers", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan a server
        stack.close()
        signal.signal(signal.SIGINT, signal.default_int_handler)
    write_outputs(args.out, args, machine, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
