"""A message the client sends twice is one turn: the retry gets the first answer again.

A client whose connection drops while the bot is answering cannot know if its message arrived.
It may send it again with the same ``metadata.message_id``, and so may a balancer that retries
on another replica. Rasa would run the second copy as a new turn: the customer sees two answers,
and a transfer confirmation could be counted twice.

The tracker already holds the answer. Each user event keeps its message's metadata, so it has
the client id. The wrapper below runs inside Rasa's per-conversation lock (``Agent.handle_message``
holds it around ``MessageProcessor.handle_message``), so a copy never sees a half-processed
turn. If the current session already has a user event with this id, and the resend is verified
as the same customer (or is anonymous like the first copy), the bot events that followed it are
sent again and nothing new is recorded. A copy with another identity runs as a turn of its own:
identity comes only from the current message, so it is never shown answers given to another.
Only messages with an id pay for the extra tracker read.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.identity import customer_from_user_event
from bot.session_rollover import recent_tracker_events

CLIENT_MESSAGE_ID = "message_id"  # metadata key the REST and web chat clients send
VALID_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_MARK = "_installed_by_idempotent_turns"


def client_message_id(metadata: Optional[Dict[Text, Any]]) -> Optional[Text]:
    value = (metadata or {}).get(CLIENT_MESSAGE_ID)
    return value if isinstance(value, str) and VALID_ID.fullmatch(value) else None


def invalid_client_message_id(metadata: Optional[Dict[Text, Any]]) -> Optional[Text]:
    """The client's problem with ``metadata.message_id`` in words, or None when absent or valid."""
    if CLIENT_MESSAGE_ID not in (metadata or {}) or client_message_id(metadata) is not None:
        return None
    return '"metadata.message_id" must be 1–64 characters of letters, digits and _ . : -'


def earlier_turn(tracker: Optional[DialogueStateTracker], message_id: Text
                 ) -> Optional[Tuple[UserUttered, List[BotUttered]]]:
    """The user event carrying `message_id` and the bot's answers to it; None when no such turn exists."""
    if tracker is None:
        return None
    found: Optional[Tuple[UserUttered, List[BotUttered]]] = None
    for event in recent_tracker_events(tracker.events):
        if isinstance(event, UserUttered):
            if found is not None:
                break
            if client_message_id(event.metadata) == message_id:
                found = (event, [])
        elif found is not None and isinstance(event, BotUttered):
            found[1].append(event)
    return found


def same_customer(message: UserMessage, earlier: UserUttered) -> bool:
    """Is the resend verified as the same customer (or as anonymous) as the turn it repeats?
    Identity comes only from the current message: a resend without the token, or with another
    customer's, must never be shown answers given to the verified customer of the first copy."""
    now = customer_from_user_event(message.sender_id, {"message_id": message.message_id,
                                                       "metadata": message.metadata or {}})
    then = customer_from_user_event(message.sender_id, earlier.as_dict())
    return now == then


async def _send_again(message: UserMessage, replies: List[BotUttered]) -> None:
    for reply in replies:
        await message.output_channel.send_response(message.sender_id, {"text": reply.text, **(reply.data or {})})


def _once_per_client_id(handle_message: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handle_message)
    async def handle_once(self: Any, message: UserMessage) -> Optional[List[Dict[Text, Any]]]:
        message_id = client_message_id(message.metadata)
        if message_id is not None:
            earlier = earlier_turn(await self.tracker_store.retrieve(message.sender_id), message_id)
            if earlier is not None and same_customer(message, earlier[0]):
                await _send_again(message, earlier[1])
                if isinstance(message.output_channel, CollectingOutputChannel):
                    return message.output_channel.messages
                return None
        return await handle_message(self, message)

    setattr(handle_once, _MARK, True)
    return handle_once


def install() -> None:
    """Wrap ``MessageProcessor.handle_message`` once per process (the Rasa server loads our policy)."""
    from rasa.core.processor import MessageProcessor

    if not getattr(MessageProcessor.handle_message, _MARK, False):
        MessageProcessor.handle_message = _once_per_client_id(MessageProcessor.handle_message)
