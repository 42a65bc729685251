"""How every channel hands a customer's message to Rasa: namespaced, sealed, token-free.

One place so no channel can forget a step: secrets typed into the text are hidden
(connectors/redaction.py), the conversation id is `<channel>:<local id>`, the
identity the channel verified for THIS message travels as a seal bound to that conversation and
message id (bot/identity.py), and anything a client put into the metadata that could claim an
identity is dropped.
"""
from __future__ import annotations

import uuid
from typing import Any, Mapping, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.identity import VerifiedCustomer, conversation_id, identity_metadata, strip_reserved
from connectors.redaction import redact

REDACTED_KEY = "redacted"


def namespaced(channel: str, local_id: str) -> str:
    """`<channel>:<local_id>`; an id that already carries this channel's prefix is kept as it is."""
    return local_id if local_id.startswith(f"{channel}:") else conversation_id(channel, local_id)


def customer_message(text: str, output: Optional[OutputChannel], channel: str, local_id: str,
                     customer: Optional[VerifiedCustomer | str], *, expires_at: Optional[float] = None,
                     metadata: Optional[Mapping[str, Any]] = None) -> UserMessage:
    """A UserMessage for conversation `<channel>:<local_id>` from `customer` (None: anonymous)."""
    sender_id = namespaced(channel, local_id)
    message_id = uuid.uuid4().hex
    sealed = identity_metadata(customer, channel, sender_id, message_id, expires_at)
    hidden = redact(text) if isinstance(text, str) and not text.startswith("/") else None
    client = {k: v for k, v in strip_reserved(metadata).items() if k != REDACTED_KEY}
    if hidden and hidden.kinds:
        text, client[REDACTED_KEY] = hidden.text, list(hidden.kinds)
    return UserMessage(text, output, sender_id, input_channel=channel, message_id=message_id,
                       metadata={**client, **sealed})
