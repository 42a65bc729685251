"""A retriever that follows the index folder: new builds are picked up without a restart.

The CURRENT pointer in ``config.index_dir`` is checked at most every
``config.reload_interval_s``; a new
version is loaded in a background thread and swapped in with one reference
assignment, so requests never wait for a load and never see a half-loaded index.
A version that fails to load is logged and the old one keeps serving.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from knowledge_base.config import KBConfig
from knowledge_base.index import CURRENT, IndexUnavailable, current_version_dir
from knowledge_base.retriever import Retriever

log = logging.getLogger(__name__)


class LiveRetriever:
    def __init__(self, config: KBConfig) -> None:
        self.config = config
        self.index_dir = Path(config.index_dir)
        self.check_interval_s = config.reload_interval_s
        self._current = Retriever(current_version_dir(self.index_dir), config)
        self._lock = threading.Lock()
        self._loading: str | None = None
        self._failed: set[str] = set()
        self._next_check = time.monotonic() + self.check_interval_s

    @property
    def current(self) -> Retriever:
        """The live retriever; starts a background reload when a new version was published."""
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self.check_interval_s
            self._maybe_reload()
        return self._current

    def _published_version(self) -> str | None:
        try:
            return (self.index_dir / CURRENT).read_text().strip() or None
        except OSError:
            return None

    def _maybe_reload(self) -> None:
        version = self._published_version()
        with self._lock:
            if (version is None or version == self._current.version_dir.name
                    or version == self._loading or version in self._failed):
                return
            self._loading = version
        threading.Thread(target=self._load, args=(version,), name=f"kb-reload-{version}", daemon=True).start()

    def _load(self, version: str) -> None:
        try:
            fresh = Retriever(self.index_dir / version, self.config)
            self._current = fresh
            log.info("knowledge base switched to %s", version)
        except (IndexUnavailable, OSError, ValueError) as exc:
            self._failed.add(version)
            log.error("knowledge base %s could not be loaded, keeping %s: %s",
                      version, self._current.version_dir.name, exc)
        finally:
            with self._lock:
                self._loading = None

    def wait_idle(self, timeout_s: float = 60.0) -> None:
        """Block until no reload is in progress (tests, CLI)."""
        deadline = time.monotonic() + timeout_s
        while self._loading is not None and time.monotonic() < deadline:
            time.sleep(0.05)
