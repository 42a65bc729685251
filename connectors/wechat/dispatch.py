"""The 5-second rule: answer passively when the bot is quick, otherwise through the API.

WeChat waits 5 s for a reply and retries the same message up to three times. The channel lets
only the first copy of a message through (replay.py: its MsgId is claimed in SQL, so a retry that
lands on another replica is recognised too); the others get "success", unless the replica running
the turn died (its claim's lease lapsed): then a retry runs it. A turn that misses the
passive window is delivered through the customer-service message API when it finishes.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable, List

log = logging.getLogger(__name__)

Turn = Callable[[], Awaitable[List[str]]]
Deliver = Callable[[str, List[str]], Awaitable[None]]


@dataclass
class DispatchStats:
    turns: int = 0
    passive: int = 0
    asynchronous: int = 0
    duplicates: int = 0
    failed: int = 0
    pending: set = field(default_factory=set)


class TurnDispatcher:
    def __init__(self, deliver_later: Deliver, passive_timeout_s: float = 4.0) -> None:
        self.deliver_later = deliver_later
        self.passive_timeout_s = passive_timeout_s
        self.stats = DispatchStats()

    async def dispatch(self, openid: str, turn: Turn) -> List[str]:
        """Texts to send passively now (possibly none); the rest is delivered later."""
        self.stats.turns += 1
        task = asyncio.create_task(self._safe(turn))
        done, _ = await asyncio.wait({task}, timeout=self.passive_timeout_s)
        if task in done:
            self.stats.passive += 1
            texts = task.result()
            if len(texts) > 1:  # a passive reply carries one message; the rest follow via the API
                self._later(openid, asyncio.sleep(0, result=texts[1:]))
            return texts[:1]
        self.stats.asynchronous += 1
        self._later(openid, task)
        return []

    def _later(self, openid: str, texts: Awaitable[List[str]]) -> None:
        async def run() -> None:
            try:
                await self.deliver_later(openid, await texts)
            except Exception:  # noqa: BLE001 - a failed delivery must not kill the server
                self.stats.failed += 1
                log.exception("WeChat asynchronous delivery failed")

        background = asyncio.create_task(run())
        self.stats.pending.add(background)
        background.add_done_callback(self.stats.pending.discard)

    @staticmethod
    async def _safe(turn: Turn) -> List[str]:
        try:
            return await turn()
        except Exception:  # noqa: BLE001 - the customer gets an apology, the log the cause
            log.exception("WeChat turn failed")
            return ["抱歉，系统暂时繁忙，请稍后再试。"]
