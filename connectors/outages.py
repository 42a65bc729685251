"""When the conversation store (SQL tracker store) or the conversation lock (Redis) is down.

Rasa raises out of the channel's handler then, and a customer would see a bare 500 or, in web
chat, nothing at all. The channels answer instead: REST with 503 and Retry-After (resend with the
same `metadata.message_id`: the turn is applied once), web chat with a short apology. Nothing of
the turn was stored, because the tracker is saved only at the end of a turn.
"""
from __future__ import annotations

from typing import Tuple, Type

from rasa.core.lock_store import LockError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError

STORE_OUTAGES: Tuple[Type[BaseException], ...] = (DBAPIError, LockError, RedisConnectionError, RedisTimeoutError)
RETRY_AFTER_S = 5
UNAVAILABLE_TEXT = "系统暂时繁忙，您的消息这次没有处理成功，也没有产生任何变动。请稍后再发一次。"
UNAVAILABLE_ERROR = ("the assistant is temporarily unavailable (conversation store); resend the message in a "
                     "few seconds, with the same metadata.message_id so that it is applied once")
