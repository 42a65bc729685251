"""WeChat identities as the rest of the assistant sees them: never the raw openid.

The conversation id is `wechat:<32 hex>` = SHA-256 over AppID and openid, so trackers, the agent
desk and logs never hold an openid, and the same follower always lands in the same conversation
(on every replica, after restarts). Only the channel's own table maps it back (ConversationMap).
"""
from __future__ import annotations

import hashlib

CHANNEL = "wechat"
LOCAL_ID_CHARS = 32


def local_id(app_id: str, openid: str) -> str:
    return hashlib.sha256(f"{app_id}\x00{openid}".encode("utf-8")).hexdigest()[:LOCAL_ID_CHARS]


def conversation_id(app_id: str, openid: str) -> str:
    return f"{CHANNEL}:{local_id(app_id, openid)}"


def message_id(dedup_key: str) -> str:
    """The turn's client message id (metadata.message_id): the same for every copy of one WeChat message,
    so a turn run again after its replica died is applied once (bot/idempotent_turns.py)."""
    return "wx-" + hashlib.sha256(dedup_key.encode("utf-8")).hexdigest()[:40]


def mask_openid(openid: str) -> str:
    """What the app shows of the WeChat account being bound: enough to compare, not to reuse."""
    if len(openid) <= 8:
        return openid[:2] + "***"
    return f"{openid[:4]}***{openid[-4:]}"
