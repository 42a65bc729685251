"""Replay window: a captured WeChat request can never run a second bot turn.

WeChat signs (token, timestamp, nonce) — in plain mode the body is not signed at all — and we
accept timestamps within ±WECHAT_MAX_CLOCK_SKEW_S. So every accepted (timestamp, nonce) and every
message key (MsgId, or sender + CreateTime for events) is remembered in SQL for longer than any
timestamp can stay acceptable (2 × window + margin): inside the window the cache refuses it,
after it the timestamp check does. SQL, so a restart or another replica remembers too.
"""
from __future__ import annotations

import enum
import time
from typing import Callable

from connectors.wechat.store import OTHER, OnceKeys

RETRY_MARGIN_S = 60


class Verdict(enum.Enum):
    NEW = "new"        # run the turn
    RETRY = "retry"    # the same message again (WeChat's retry or a copy): "success", no turn
    REPLAY = "replay"  # a used signature with another body: refused


class ReplayGuard:
    def __init__(self, once: OnceKeys, window_s: int, clock: Callable[[], float] = time.time) -> None:
        self.once = once
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
        by_message = self.once.claim(f"msg:{message_key}", "seen", expires_at)
        return Verdict.NEW if by_nonce is None and by_message is None else Verdict.RETRY
