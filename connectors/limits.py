"""Abuse limits every channel applies before a message reaches the bot.

Token buckets keyed by sender and by client address. With REDIS_URL (a cluster) the buckets live
in Redis, so N replicas allow what one would, not N times as much; one Lua script refills and
spends a bucket atomically on Redis's clock, and keys are hashed (no address or sender id in
clear). Without Redis, or while it cannot be reached, they are kept in bounded process memory
(least recently seen keys are forgotten first, so a flood of new keys cannot grow the process):
a limit guards against floods, it is not an account of record. The Redis call is synchronous
(~0.2 ms on the event loop); after a failure Redis is left alone for REDIS_RETRY_S, so an outage
costs one short timeout every few seconds, not one per message.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol

import redis

from bot.settings import LimitSettings, load_channel_settings, load_limit_settings

log = logging.getLogger(__name__)


class Buckets(Protocol):
    def allow(self, key: str) -> bool: ...


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


_SPEND = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = math.min(burst, (tonumber(b[1]) or burst) + math.max(0, now - (tonumber(b[2]) or now)) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return allowed
"""


REDIS_RETRY_S = 5.0


class RedisTokenBuckets:
    """TokenBuckets shared by every replica; falls back to this process's buckets while Redis is down."""

    def __init__(self, redis_url: str, scope: str, per_minute: float, burst: int,
                 retry_s: float = REDIS_RETRY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = redis.Redis.from_url(redis_url, socket_timeout=0.2, socket_connect_timeout=0.2)
        self.spend = self.client.register_script(_SPEND)
        self.scope, self.rate, self.burst = scope, per_minute / 60.0, burst
        self.local = TokenBuckets(per_minute, burst)
        self.retry_s, self.clock = retry_s, clock
        self._down_until = float("-inf")
        self._warned_at = float("-inf")

    def allow(self, key: str) -> bool:
        if self.clock() < self._down_until:
            return self.local.allow(key)
        hashed = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        try:
            return bool(self.spend(keys=[f"limits:{self.scope}:{hashed}"], args=[self.rate, self.burst]))
        except redis.RedisError as exc:
            now = self.clock()
            self._down_until = now + self.retry_s
            if now - self._warned_at > 60:  # once a minute, not once a message
                self._warned_at = now
                log.warning("rate limit %s: Redis unavailable (%s); limiting in this process", self.scope,
                            type(exc).__name__)
            return self.local.allow(key)


def shared_buckets(scope: str, per_minute: float, burst: int) -> Buckets:
    """Redis-backed buckets when REDIS_URL is set (several replicas), else in-process ones."""
    redis_url = load_channel_settings().redis_url
    if redis_url:
        return RedisTokenBuckets(redis_url, scope, per_minute, burst)
    return TokenBuckets(per_minute, burst)


@dataclass
class ChannelLimits:
    """The limits of one channel: message size, per-sender and per-address rates."""

    settings: LimitSettings
    per_sender: Buckets
    per_address: Buckets

    @classmethod
    def from_settings(cls, settings: Optional[LimitSettings] = None, scope: str = "channel") -> "ChannelLimits":
        """`scope` keeps one channel's buckets apart from another's (a WeChat server is not a REST caller)."""
        settings = settings or load_limit_settings()
        return cls(settings,
                   shared_buckets(f"{scope}:sender", settings.per_sender_per_minute, settings.per_sender_burst),
                   shared_buckets(f"{scope}:address", settings.per_address_per_minute, settings.per_address_burst))

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
