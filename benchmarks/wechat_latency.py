"""WeChat channel: passive-reply latency over N encrypted messages, async share, forged rejections.

Starts the assistant with the WeChat channel in safe mode pointed at a local fake WeChat API,
pushes N signed + encrypted text messages (a mix of FAQ, task and chitchat turns, each from
its own follower), then N forged ones.

    .venv/bin/python benchmarks/wechat_latency.py [--messages 100]

Prints the numbers and writes benchmarks/results/wechat_latency.json.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MIX = ["信用卡免息期最长多少天", "开户需要带什么材料", "你好", "今天美元汇率多少", "附近有网点吗",
       "跨行转账要收手续费吗", "你是机器人吗", "我要挂失", "手机银行登录密码忘了怎么办", "谢谢"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100)
    args = parser.parse_args()

    import requests

    from benchmarks.report import latency_ms, publish
    from bot.settings import load_settings
    from connectors.wechat.crypto import MessageCrypto
    from tests.channels import WECHAT, channel_stack
    from tests.fakes.wechat_client import WeChatPusher, text_xml

    crypto = MessageCrypto(WECHAT["token"], WECHAT["aes_key"], WECHAT["app_id"])
    with tempfile.TemporaryDirectory() as tmp, channel_stack(load_settings(), Path(tmp)) as servers:
        pusher = WeChatPusher(f"{servers.rasa_url}/webhooks/wechat/webhook", WECHAT["token"], crypto)
        pusher.push(text_xml("o_warmup", "你好", "1"))
        timings, passive = [], 0
        for index in range(args.messages):
            xml = text_xml(f"o_{uuid.uuid4().hex[:16]}", MIX[index % len(MIX)], str(10**12 + index))
            started = time.perf_counter()
            response = pusher.push(xml)
            timings.append((time.perf_counter() - started) * 1000)
            passive += pusher.reply_text(response) is not None
        forged = [pusher.push(text_xml("o_forger", "查余额", str(10**13 + i)), forge=True).status_code
                  for i in range(args.messages)]
        stats = requests.get(f"{servers.rasa_url}/webhooks/wechat/", timeout=10).json()
    publish("wechat_latency", {"messages": args.messages, **latency_ms(timings), "passive_replies": passive,
                               "async_share": round(stats["asynchronous"] / max(stats["turns"], 1), 3),
                               "forged_rejected": sum(code == 403 for code in forged), "forged_sent": len(forged)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
