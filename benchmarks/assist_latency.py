"""Agent assist latency: server time of POST /assist/suggest over N requests, p50/p95.

Starts the assistant (with the agent desk) on free ports, logs an agent in, and sends a mix
of customer sentences and call-centre transcript windows. "Server time" is measured as the
HTTP round trip on localhost (it includes the tiny loopback cost).

    .venv/bin/python benchmarks/assist_latency.py [--requests 200]

Prints the numbers and writes benchmarks/results/assist_latency.json.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TEXTS = ["信用卡免息期最长多少天", "银行卡丢了，快帮我挂失", "我想给我妈转两万块钱", "跨行转账手续费怎么收",
         "喂你好，我这个月信用卡账单怎么这么高，是不是多扣了", "有人打电话说我涉嫌洗钱要我转账到安全账户",
         "附近哪个网点周六营业", "美元现在什么汇率", "手机银行登录密码忘了", "我要投诉你们营业厅的服务态度",
         "客户：你好我想问一下房贷利率现在是多少，我们准备买房，首付三成可以吗，贷款三十年每个月要还多少"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    import requests

    from benchmarks.report import latency_ms, publish
    from bot.settings import load_settings
    from tests.channels import AGENT_PASSWORD, add_agent, channel_stack

    with tempfile.TemporaryDirectory() as tmp, channel_stack(load_settings(), Path(tmp)) as servers:
        add_agent(servers, "bench_agent")
        token = requests.post(f"{servers.rasa_url}/agent/api/login", timeout=10,
                              json={"username": "bench_agent", "password": AGENT_PASSWORD}).json()["token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        url = f"{servers.rasa_url}/assist/suggest"
        session.post(url, json={"text": "你好"}, timeout=30)
        timings = []
        for index in range(args.requests):
            text = TEXTS[index % len(TEXTS)] + ("" if index < len(TEXTS) else f" 第{index}次")
            started = time.perf_counter()
            response = session.post(url, json={"text": text}, timeout=30)
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    publish("assist_latency", {"requests": len(timings), **latency_ms(timings)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
