"""REST turn latency of the running assistant, one user at a time: p50 / p95 / max.

Starts the Rasa server and the action server on free ports (a scratch tracker
store and sandbox bank), then replays a fixed mix of turns — knowledge
questions, task flows with a logged-in customer, chitchat — and times each
HTTP round trip.

    .venv/bin/python benchmarks/rest_latency.py [--rounds 5]

Prints the numbers and writes benchmarks/results/rest_latency.json.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TURNS = [
    ["开户需要带什么材料"], ["跨行转账要收手续费吗"], ["你好"], ["今天美元汇率多少"],
    ["查一下我的余额"], ["我要挂失", "6688", "/deny"], ["给张三转500", "6688", "/deny"],
    ["最近一个月的交易明细"], ["附近有网点吗", "上海"], ["你是机器人吗"],
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="how often the whole mix is replayed")
    args = parser.parse_args()
    import requests

    from benchmarks.report import latency_ms, publish
    from benchmarks.servers import open_rate_limits, our_server
    from bot.identity import TOKEN_METADATA_KEY, issue_token

    open_rate_limits()  # one client address sends every turn: the flood limits are not measured

    timings = []
    with tempfile.TemporaryDirectory() as logs, our_server(Path(logs)) as rasa_url:
        url = f"{rasa_url}/webhooks/rest/webhook"
        requests.post(url, json={"sender": "warm-up", "message": "你好"}, timeout=60)
        for _ in range(args.rounds):
            for conversation in TURNS:
                sender = f"bench-{uuid.uuid4().hex[:8]}"
                metadata = {TOKEN_METADATA_KEY: issue_token("C001")}  # a token serves one conversation
                for text in conversation:
                    started = time.perf_counter()
                    response = requests.post(url, json={"sender": sender, "message": text,
                                                        "metadata": metadata}, timeout=60)
                    response.raise_for_status()
                    timings.append((time.perf_counter() - started) * 1000)
    publish("rest_latency", {"turns": len(timings), **latency_ms(timings)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
