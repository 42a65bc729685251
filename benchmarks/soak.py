"""Soak: many web chat sockets held open for minutes, each customer talking now and then.

Why: the load benchmark measures short bursts over REST; a web chat customer keeps a socket open
for the whole visit. This holds --sockets socket.io connections (the rasa-webchat protocol) for
--minutes. Transport: long-polling, each socket keeping a request open at all times. (Not
websocket: python-engineio's asyncio websocket client needs aiohttp >= 3.10, and Rasa 3.6 pins 3.9.) Each customer sends a message every --every-s seconds on average (seeded
jitter) and waits for the first answer. Counted as errors: a connection that fails or drops, a
`webchat_error`, or no answer within 60 s. The server's resident memory (Rasa and the action
server, from /proc) is sampled every 10 s; growth is the last minute's median over the median of
the first minute after every socket is open. Targets (issue 16): no errors, RSS growth <= 10 %.

    .venv/bin/python benchmarks/soak.py                       # 200 sockets, 10 minutes
    .venv/bin/python benchmarks/soak.py --sockets 20 --minutes 1 --out /tmp/soak

Writes soak.json and soak.png to benchmarks/results/ (or --out DIR).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.servers import open_rate_limits, our_servers  # noqa: E402

RESULTS = Path(__file__).with_name("results")
LOG_DIR = REPO / "var" / "bench" / "logs"
ANSWER_TIMEOUT_S = 60.0
SAMPLE_EVERY_S = 10.0
TARGET_RSS_GROWTH = 0.10
MESSAGES = ["你好", "信用卡年费怎么收", "开户需要带什么材料", "今天美元汇率多少", "附近有网点吗", "上海",
            "跨行转账要收手续费吗", "你是机器人吗", "谢谢"]


@dataclass
class Soak:
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, ms)
    errors: Counter = field(default_factory=Counter)
    connected: int = 0
    rss: list[dict] = field(default_factory=list)  # {"t": s, "rasa": MB, "actions": MB}


async def customer(index: int, url: str, started: float, stop_at: float, every_s: float, soak: Soak) -> None:
    import socketio

    rng = random.Random(index)
    answers: asyncio.Queue = asyncio.Queue()
    sessions: asyncio.Queue = asyncio.Queue()
    client = socketio.AsyncClient(reconnection=False)
    client.on("bot_uttered", lambda data: answers.put_nowait(data))
    client.on("session_confirm", lambda data: sessions.put_nowait(data))
    client.on("webchat_error", lambda data: soak.errors.__setitem__("webchat_error", soak.errors["webchat_error"] + 1))
    try:
        await client.connect(url, socketio_path="/socket.io", transports=["polling"], wait_timeout=30)
        await client.emit("session_request", {"session_id": None})
        session_id = await asyncio.wait_for(sessions.get(), 30)
    except Exception as exc:  # noqa: BLE001 - a failed connection is what this counts
        soak.errors[f"connect: {type(exc).__name__}"] += 1
        return
    soak.connected += 1
    turn = rng.randrange(len(MESSAGES))
    try:
        while True:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * every_s)
            if time.monotonic() >= stop_at:
                break
            if not client.connected:
                soak.errors["dropped"] += 1
                return
            while not answers.empty():
                answers.get_nowait()  # later bubbles of the previous answer
            sent = time.monotonic()
            await client.emit("user_uttered", {"message": MESSAGES[turn % len(MESSAGES)], "session_id": session_id})
            turn += 1
            try:
                await asyncio.wait_for(answers.get(), ANSWER_TIMEOUT_S)
                soak.latencies.append((sent - started, (time.monotonic() - sent) * 1000))
            except asyncio.TimeoutError:
                soak.errors[f"no answer in {ANSWER_TIMEOUT_S:.0f} s"] += 1
    finally:
        await client.disconnect()


def rss_mb(pid: int) -> Optional[float]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def sample_memory(pids: dict[str, int], started: float, stop_at: float, soak: Soak) -> None:
    while time.monotonic() < stop_at:
        soak.rss.append({"t": round(time.monotonic() - started, 1),
                         **{name: rss_mb(pid) for name, pid in pids.items()}})
        await asyncio.sleep(SAMPLE_EVERY_S)


async def run(url: str, pids: dict[str, int], sockets: int, minutes: float, every_s: float) -> tuple[Soak, float]:
    soak, started = Soak(), time.monotonic()
    stop_at = started + minutes * 60
    tasks = []
    for index in range(sockets):  # opened over ~10 s, as visitors arrive, not in one instant
        tasks.append(asyncio.create_task(customer(index, url, started, stop_at, every_s, soak)))
        await asyncio.sleep(10.0 / sockets)
    ramp_s = time.monotonic() - started
    sampler = asyncio.create_task(sample_memory(pids, started, stop_at, soak))
    await asyncio.gather(*tasks)
    await sampler
    return soak, ramp_s


def growth(samples: list[dict], name: str, settled_from_s: float) -> Optional[dict]:
    """Median of the first minute after the ramp against the median of the last minute."""
    values = [(s["t"], s[name]) for s in samples if s.get(name)]
    if not values:
        return None
    end_t = values[-1][0]
    first = [v for t, v in values if settled_from_s <= t < settled_from_s + 60]
    last = [v for t, v in values if t >= end_t - 60]
    if not first or not last:
        return None
    before, after = statistics.median(first), statistics.median(last)
    return {"first_minute_mb": round(before, 1), "last_minute_mb": round(after, 1),
            "growth": round(after / before - 1, 4)}


def summarize(soak: Soak, sockets: int, minutes: float, ramp_s: float) -> dict:
    import numpy as np

    ms = np.array([m for _, m in soak.latencies]) if soak.latencies else np.array([0.0])
    memory = {name: growth(soak.rss, name, ramp_s + SAMPLE_EVERY_S) for name in ("rasa", "actions")}
    growths = [m["growth"] for m in memory.values() if m]
    return {"sockets": sockets, "minutes": minutes, "connected": soak.connected, "turns": len(soak.latencies),
            "errors": dict(soak.errors), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "memory": memory,
            "targets": {"errors": 0, "rss_growth_max": TARGET_RSS_GROWTH},
            "met": (not soak.errors and soak.connected == sockets
                    and bool(growths) and max(growths) <= TARGET_RSS_GROWTH)}


def plot(soak: Soak, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (memory, latency) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    for name in ("rasa", "actions"):
        points = [(s["t"] / 60, s[name]) for s in soak.rss if s.get(name)]
        if points:
            memory.plot(*zip(*points), label=name)
    memory.set_ylabel("RSS (MB)")
    memory.legend()
    if soak.latencies:
        latency.scatter([t / 60 for t, _ in soak.latencies], [m for _, m in soak.latencies], s=2)
    latency.set_ylabel("first answer (ms)")
    latency.set_xlabel("minutes")
    figure.suptitle("web chat soak: resident memory and answer latency")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=200, help="concurrent web chat sockets (default 200)")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long they stay (default 10)")
    parser.add_argument("--every-s", type=float, default=30.0, help="mean seconds between a customer's messages")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for soak.json and soak.png")
    args = parser.parse_args(argv)
    if args.sockets < 1 or args.minutes <= 0 or args.every_s <= 0:
        parser.error("--sockets must be at least 1, --minutes and --every-s above 0")
    return args


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    open_rate_limits()
    os.environ.setdefault("WEBCHAT_SESSIONS_PER_ADDRESS_BURST", str(args.sockets * 2))
    os.environ.setdefault("WEBCHAT_SESSIONS_PER_ADDRESS_PER_HOUR", str(args.sockets * 60))
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with our_servers(LOG_DIR) as servers:
        actions, rasa = servers.by_name["actions"].pid, servers.by_name["rasa"].pid
        soak, ramp_s = asyncio.run(run(servers.rasa_url, {"rasa": rasa, "actions": actions},
                                       args.sockets, args.minutes, args.every_s))
    summary = summarize(soak, args.sockets, args.minutes, ramp_s)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps({**summary, "rss_samples": soak.rss}, indent=2,
                                                   ensure_ascii=False))
    plot(soak, args.out / "soak.png")
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0 if summary["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
