"""The analytics consumer as its own process: ``python -m bot.analytics [--every S] [--once]``.

Run beside the Rasa servers (``make run`` starts one; they then set ANALYTICS_IN_PROCESS=0), so
folding events never takes CPU from serving customers. Several may run: the consumer's lease lets one
at a time move the position (consumer.py).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    from bot.settings import load_settings

    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.analytics", description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=settings.analytics_update_s,
                        help=f"seconds between reads of new events (default: ANALYTICS_UPDATE_S = "
                             f"{settings.analytics_update_s:g})")
    parser.add_argument("--once", action="store_true", help="read the backlog once and exit")
    args = parser.parse_args(argv)
    if args.every <= 0:
        parser.error("--every must be a positive number of seconds")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.analytics.consumer import consumer_from_settings, keep_current

    consumer = consumer_from_settings()
    if args.once:
        while consumer.update() > 0:
            pass
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        asyncio.run(keep_current(consumer, args.every))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
