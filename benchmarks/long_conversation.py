"""Does a long conversation slow down? REST latency of turn 500 against turn 5 of one conversation.

Rasa's SQL tracker store reloads the whole current session for every turn, and the action server
receives the whole tracker with every call, so a turn's cost can grow with the conversation.
This starts the servers like benchmarks/rest_latency.py (scratch tracker store, sandbox bank),
then sends --turns messages in ONE conversation (a cycle of questions, small talk and a balance
query, with a customer token) and compares the latency of the first --window turns with the
last --window. Target (issue 16): the late p95 within 1.2x the early p95.

    .venv/bin/python benchmarks/long_conversation.py [--turns 500] [--window 20]

Prints the numbers, writes benchmarks/results/long_conversation.json and .png.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CYCLE = ["开户需要带什么材料", "今天美元汇率多少", "你好", "跨行转账要收手续费吗", "查一下我的余额", "谢谢"]


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def plot(timings: list[float], window: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(range(1, len(timings) + 1), timings, linewidth=0.7)
    ax.axvspan(1, window, alpha=0.15, color="green")
    ax.axvspan(len(timings) - window + 1, len(timings), alpha=0.15, color="red")
    ax.set_xlabel("turn of the conversation")
    ax.set_ylabel("REST latency (ms)")
    ax.set_title("One long conversation: latency per turn")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=positive, default=500, help="turns in the conversation (default 500)")
    parser.add_argument("--window", type=positive, default=20, help="turns compared at each end (default 20)")
    args = parser.parse_args()
    if args.turns < 2 * args.window:
        parser.error(f"--turns ({args.turns}) must be at least twice --window ({args.window})")
    import requests

    from benchmarks.report import RESULTS, latency_ms, publish
    from benchmarks.servers import open_rate_limits, our_server
    from bot.identity import TOKEN_METADATA_KEY, issue_token

    open_rate_limits()  # one sender talks much faster than a person here, on purpose
    timings = []
    with tempfile.TemporaryDirectory() as logs, our_server(Path(logs)) as rasa_url:
        url = f"{rasa_url}/webhooks/rest/webhook"
        requests.post(url, json={"sender": "warm-up", "message": "你好"}, timeout=60)
        metadata = {TOKEN_METADATA_KEY: issue_token("C001")}  # lives 30 min, bound to this conversation
        for turn in range(args.turns):
            started = time.perf_counter()
            response = requests.post(url, json={"sender": "long-conversation", "message": CYCLE[turn % len(CYCLE)],
                                                "metadata": metadata}, timeout=60)
            response.raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    early, late = latency_ms(timings[:args.window]), latency_ms(timings[-args.window:])
    ratio = round(late["p95_ms"] / early["p95_ms"], 2)
    publish("long_conversation", {"turns": args.turns, "window": args.window, "early": early, "late": late,
                                  "late_over_early_p95": ratio, "target": "<= 1.2", "met": ratio <= 1.2})
    plot(timings, args.window, RESULTS / "long_conversation.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
