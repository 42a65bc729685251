"""Replay window: a captured WeChat request can never run a second bot turn.

WeChat signs (token, timestamp, nonce) — in plain mode the body is not signed at all — and we
accept timestamps within ±WECHAT_MAX_CLOCK_SKEW_S. So every accepted (timestamp, nonce) and every
message key (MsgId, or sender + CreateTime for events) is remembered in SQL for longer than any
timestamp can stay acceptable (2 × window + margin): inside the window the cache refuses it,
after it the timestamp check does. SQL, so a restart or another replica remembers too.

A message's turn is claimed under a lease (store.MessageTurns): a retry runs the turn again only when
the replica that ran it died before finishing (``held`` keeps the lease while the turn runs).
"""
from __future__ import annotations

import asyncio
import enum
import logging
import time
from typing import Callable, List

from connectors.wechat.dispatch import Turn
from connectors.wechat.store import OTHER, MessageTurns, OnceKeys

log = logging.getLogger(__name__)

RETRY_MARGIN_S = 60


class Verdict(enum.Enum):
    NEW = "new"        # run the turn
    RESUMED = "resumed"  # a retry of a message whose replica died mid-turn: run it (idempotently)
    RETRY = "retry"    # the same message again (WeChat's retry or a copy): "success", no turn
    REPLAY = "replay"  # a used signature with another body: refused


class ReplayGuard:
    def __init__(self, once: OnceKeys, turns: MessageTurns, window_s: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.once, self.turns = once, turns
        self.window_s = window_s
        self.clock = clock

    @property
    def ttl_s(self) -> float:
        return 2 * self.window_s + RETRY_MARGIN_S

    def check(self, timestamp: str, nonce: str, message_key: str) -> Verdict:
        expires_at = self.clock() + self.ttl_s
        by_nonce = self.once.claim(f"nonce:{timestamp}:{nonce}", message_key, expires_at)
        if by_nonce == OTHER:
            return Verdict.REPLAY
        claim = self.turns.claim(message_key, expires_at)
        if claim == MessageTurns.RESUMED:
            log.warning("WeChat retry of a message whose turn did not finish on its replica: running it again")
            return Verdict.RESUMED
        # a used nonce with this very message and an unclaimed turn: the first request died in between
        return Verdict.NEW if claim == MessageTurns.NEW else Verdict.RETRY

    def held(self, message_key: str, turn: Turn) -> Turn:
        """`turn`, renewing the message's claim while it runs; done after, dropped if it raised."""
        async def run() -> List[str]:
            renewing = asyncio.create_task(self._renew(message_key))
            finished = False
            try:
                texts = await turn()
                finished = True
                return texts
            finally:
                renewing.cancel()
                await asyncio.to_thread(self.turns.finish, message_key, finished)
        return run

    async def _renew(self, message_key: str) -> None:
        while True:
            await asyncio.sleep(self.turns.lease_s / 4)
            try:
                if not await asyncio.to_thread(self.turns.renew, message_key):
                    return  # taken over after a lapse: the other replica's run answers
            except Exception:  # noqa: BLE001 - a store hiccup: the next renewal tries again
                log.warning("could not renew a WeChat turn's claim", exc_info=True)
