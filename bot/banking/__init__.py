"""The bank behind the assistant: the BankingBackend interface and its sandbox implementation."""
from __future__ import annotations

import threading
from typing import Optional

from bot.banking.backend import BankingBackend

__all__ = ["BankingBackend", "load_backend"]

_backends: dict[str, BankingBackend] = {}
_lock = threading.Lock()


def load_backend(url: Optional[str] = None) -> BankingBackend:
    """The process-wide backend for ``url`` (default: BANK_DB_URL via bot.settings)."""
    from bot.banking.sandbox import SandboxBank
    from bot.settings import load_settings

    url = url or load_settings().bank_db_url
    with _lock:
        if url not in _backends:
            _backends[url] = SandboxBank(url)
        return _backends[url]
