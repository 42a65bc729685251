"""A conversation store that cannot be read or written stops the turn; it is never papered over.

Rasa wraps every tracker store in ``FailSafeTrackerStore``. When the database fails, its
``retrieve`` returns None, so the turn runs as a brand-new conversation: a transfer half-way
through its form is forgotten. Its ``save`` then writes to an in-process memory store that no
other replica sees and that a restart loses. After the database comes back, those turns are gone.
For a bank, that is silent data loss.

``install()`` makes the wrapper pass calls straight to the real store, errors included. The
channels turn the error into "temporarily unavailable" (connectors/outages.py), and the
customer's resent message (same ``metadata.message_id``) runs once the store is back.
"""
from __future__ import annotations

from typing import Any, Optional, Text

_MARK = "_installed_by_store_outage"


async def _retrieve(self: Any, sender_id: Text) -> Optional[Any]:
    return await self._tracker_store.retrieve(sender_id)


async def _retrieve_full_tracker(self: Any, sender_id: Text) -> Optional[Any]:
    return await self._tracker_store.retrieve_full_tracker(sender_id)


async def _save(self: Any, tracker: Any) -> None:
    await self._tracker_store.save(tracker)


def install() -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore

    if getattr(FailSafeTrackerStore.save, _MARK, False):
        return
    for name, method in (("retrieve", _retrieve), ("retrieve_full_tracker", _retrieve_full_tracker),
                         ("save", _save)):
        setattr(method, _MARK, True)
        setattr(FailSafeTrackerStore, name, method)
