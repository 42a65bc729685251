"""Abuse limits every channel applies before a message reaches the bot.

Token buckets keyed by sender and by client address, in bounded memory (least recently seen
keys are forgotten first, so a flood of new keys cannot grow the process). They live on the
channel instance, per replica: a limit is a guard against floods, not an account of record, so a
replica restart forgetting it is harmless (issue 16 moves shared state to Redis).
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Optional

from bot.settings import LimitSettings, load_limit_settings


class TokenBuckets:
    """`allow(key)` spends one token of `key`'s bucket: `per_minute` refill, `burst` capacity."""

    def __init__(self, per_minute: float, burst: int, max_keys: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: "OrderedDict[str, tuple[float, float]]" = OrderedDict()

    def allow(self, key: str) -> bool:
        now = self.clock()
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed

    def __len__(self) -> int:
        return len(self._buckets)


@dataclass
class ChannelLimits:
    """The limits of one channel: message size, per-sender and per-address rates."""

    settings: LimitSettings
    per_sender: TokenBuckets
    per_address: TokenBuckets

    @classmethod
    def from_settings(cls, settings: Optional[LimitSettings] = None) -> "ChannelLimits":
        settings = settings or load_limit_settings()
        return cls(settings,
                   TokenBuckets(settings.per_sender_per_minute, settings.per_sender_burst),
                   TokenBuckets(settings.per_address_per_minute, settings.per_address_burst))

    def too_long(self, text: Any) -> bool:
        """Checked on the raw text, before normalisation or parsing can spend time on it."""
        return isinstance(text, str) and len(text) > self.settings.max_message_chars

    def allow(self, sender: Optional[str], address: Optional[str]) -> bool:
        """Both buckets must allow; the address bucket is spent even when the sender's is empty."""
        address_ok = self.per_address.allow(address or "-")
        sender_ok = self.per_sender.allow(sender) if sender else True
        return address_ok and sender_ok


def client_address(request: Any, trust_forwarded: bool = False) -> str:
    """The caller's address; X-Forwarded-For only when a trusted proxy (nginx) sets it."""
    if trust_forwarded:
        forwarded = (request.headers.get("x-forwarded-for") or "").split(",")[0].strip()
        if forwarded:
            return forwarded[:64]
    return str(getattr(request, "ip", "") or "-")[:64]
