"""The loaded model is kept out of Python's cyclic garbage collector.

A loaded assistant holds millions of long-lived objects (TensorFlow and torch modules, the
knowledge base, the domain). Every full (generation 2) collection walks all of them: ~0.4 s each,
several times a minute under 20 concurrent users (measured with ``gc.callbacks``), holding the
GIL, so every conversation stalls while it runs. ``gc.freeze()`` moves the objects alive at that
moment into a permanent generation that collections skip; objects made later (trackers, messages,
parses) are collected as before, and frozen objects are still freed when nothing refers to them.

It runs at the first message a newly loaded model handles (after a full collection, so the
loading's garbage is not frozen). A model loaded later first unfreezes the old one, so an old
model's cycles are collected, not kept forever.
"""
from __future__ import annotations

import functools
import gc
import logging
import time
from typing import Any, Callable

log = logging.getLogger(__name__)
_MARK = "_installed_by_heap_freeze"
_FROZEN_FOR = "_heap_frozen"


def freeze_loaded_heap() -> int:
    """Unfreeze what an earlier model froze, collect, freeze what is alive now; the frozen count."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    log.info("froze %d objects out of the garbage collector in %.2f s", gc.get_freeze_count(),
             time.perf_counter() - started)
    return gc.get_freeze_count()


def _frozen_first(handle_message: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handle_message)
    async def handle_frozen(self: Any, message: Any) -> Any:
        if not getattr(self, _FROZEN_FOR, False):  # one MessageProcessor per loaded model
            setattr(self, _FROZEN_FOR, True)
            freeze_loaded_heap()
        return await handle_message(self, message)

    setattr(handle_frozen, _MARK, True)
    return handle_frozen


def install() -> None:
    """Wrap ``MessageProcessor.handle_message`` once per process (the Rasa server loads our policy)."""
    from rasa.core.processor import MessageProcessor

    if not getattr(MessageProcessor.handle_message, _MARK, False):
        MessageProcessor.handle_message = _frozen_first(MessageProcessor.handle_message)
