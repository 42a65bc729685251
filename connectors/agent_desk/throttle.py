"""Agent login throttling: exponential backoff per client address and per account, in bounded memory.

Why two keys: a customer guessing passwords from one address is stopped by the address backoff
(long, grows fast); the account backoff (short, grows) stops guessing spread over many addresses
without letting one guesser lock the agent out for long. An address the agent has logged in from
before is not held back by the account backoff at all (only by its own address backoff).
Per replica and in memory on purpose: a guard against guessing, not an account of record.
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional

MAX_KEYS = 10_000


@dataclass
class _Record:
    failures: int
    blocked_until: float
    last_failure: float


class Backoff:
    """After `free` failures of a key, each further failure blocks it for base_s·2^k (k = 0, 1, …), capped."""

    def __init__(self, free: int, base_s: float, max_s: float, forget_s: float, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.base_s, self.max_s, self.forget_s = free, base_s, max_s, forget_s
        self.max_keys = max_keys
        self.clock = clock
        self._records: "OrderedDict[str, _Record]" = OrderedDict()

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again (0: now)."""
        record = self._current(key)
        return max(0.0, record.blocked_until - self.clock()) if record else 0.0

    def failed(self, key: str) -> None:
        now = self.clock()
        record = self._current(key) or _Record(0, 0.0, now)
        record.failures += 1
        record.last_failure = now
        if record.failures >= self.free:
            record.blocked_until = now + min(self.max_s, self.base_s * 2 ** (record.failures - self.free))
        self._records.pop(key, None)
        self._records[key] = record
        while len(self._records) > self.max_keys:
            self._records.popitem(last=False)  # least recently failed first

    def succeeded(self, key: str) -> None:
        self._records.pop(key, None)

    def _current(self, key: str) -> Optional[_Record]:
        record = self._records.get(key)
        if record and self.clock() - record.last_failure > self.forget_s:
            del self._records[key]  # quiet long enough: forgiven
            return None
        return record

    def __len__(self) -> int:
        return len(self._records)


class LoginThrottle:
    """The login endpoint asks `retry_after(account, address)` before checking a password."""

    def __init__(self, free_failures: int = 5, account_base_s: float = 2.0, account_max_s: float = 300.0,
                 address_base_s: float = 30.0, address_max_s: float = 3600.0, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.accounts = Backoff(free_failures, account_base_s, account_max_s, 2 * account_max_s, max_keys, clock)
        self.addresses = Backoff(free_failures, address_base_s, address_max_s, 2 * address_max_s, max_keys, clock)
        self.known: "OrderedDict[str, None]" = OrderedDict()  # "account\0address" pairs that logged in
        self.max_keys = max_keys

    def retry_after(self, account: str, address: str) -> int:
        """Whole seconds to wait (0: go ahead and check the password)."""
        wait = self.addresses.retry_after(address)
        if not self._known(account, address):
            wait = max(wait, self.accounts.retry_after(account))
        return math.ceil(wait)

    def failed(self, account: str, address: str) -> None:
        self.addresses.failed(address)
        self.accounts.failed(account)

    def succeeded(self, account: str, address: str) -> None:
        self.addresses.succeeded(address)
        self.accounts.succeeded(account)
        pair = f"{account}\0{address}"
        self.known.pop(pair, None)
        self.known[pair] = None
        while len(self.known) > self.max_keys:
            self.known.popitem(last=False)

    def _known(self, account: str, address: str) -> bool:
        return f"{account}\0{address}" in self.known
