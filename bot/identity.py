"""Who the customer is — decided by the channel for the CURRENT message only.

Two layers (docs/security.md):

1. **Customer tokens** (JWT) are signed by the bank app: HS256 with CUSTOMER_TOKEN_SECRET for
   the demo, or RS256/ES256 verified with CUSTOMER_TOKEN_PUBLIC_KEY(_FILE) in production. They
   must carry ``iss``, ``aud``, ``sub``, ``exp`` and ``jti``. Channels verify them and never
   pass them on: a token never reaches the tracker store, a log line or the HTTP API.
2. **Identity seals** are what a channel forwards instead: the verified customer id, the
   channel, an expiry and an HMAC (server-internal secret) over those plus the conversation id
   and the message id. Actions accept a seal only on the newest user message of the
   conversation it was made for, from the channel that namespace belongs to, before it expires.
   Nothing is inherited from earlier messages, slots or the tracker.

Kept free of Rasa imports: channels, actions and CLIs all use it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import jwt

from bot.settings import IdentitySettings, configured_secret, load_identity_settings

log = logging.getLogger(__name__)

IDENTITY_METADATA_KEY = "verified_identity"
# Where REST callers and the wechat binding API put a customer token (verified, then dropped).
TOKEN_METADATA_KEY = "customer_token"
# Metadata keys a caller may never set: channels drop them from anything a client sends.
RESERVED_METADATA_KEYS = (IDENTITY_METADATA_KEY, TOKEN_METADATA_KEY)
ISSUER = "shili-bank"
DEFAULT_TTL_S = 30 * 60
# A seal outlives its message only long enough for that message's actions to run.
SEAL_TTL_S = 5 * 60
MAX_TOKEN_CHARS = 4096
SEAL_VERSION = 1


@dataclass(frozen=True)
class VerifiedCustomer:
    """What a channel learns from a valid token; the token itself is dropped."""

    customer_id: str
    expires_at: int
    jti: str


# --- customer tokens (signed by the bank app) --------------------------------------------------

def token_secret(settings: Optional[IdentitySettings] = None) -> str:
    """CUSTOMER_TOKEN_SECRET, or a random per-installation secret kept in var/secrets (demo HS256)."""
    settings = settings or load_identity_settings()
    return configured_secret("CUSTOMER_TOKEN_SECRET", settings.secrets_dir, "customer_token.secret")


def _verification_key(settings: IdentitySettings) -> Any:
    return settings.public_key if settings.algorithm != "HS256" else token_secret(settings)


def issue_token(customer_id: str, ttl_s: int = DEFAULT_TTL_S, secret: Optional[str] = None,
                purpose: Optional[str] = None, audience: Optional[str] = None) -> str:
    """An HS256 customer token (demo, tests, partner trials), or with `purpose` a ticket for that
    purpose only (never accepted as a login). Production tokens are signed by the bank app."""
    settings = load_identity_settings()
    now = int(time.time())
    claims = {"sub": customer_id, "iss": ISSUER, "aud": audience or settings.audience, "iat": now,
              "exp": now + ttl_s, "jti": uuid.uuid4().hex}
    if purpose:
        claims["purpose"] = purpose
    return jwt.encode(claims, secret or token_secret(settings), algorithm="HS256")


def verify_customer_token(token: Any, secret: Optional[str] = None, purpose: Optional[str] = None,
                          settings: Optional[IdentitySettings] = None) -> Optional[VerifiedCustomer]:
    """The customer a valid, unexpired token made for `purpose` (None: a login) names, else None."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    settings = settings or load_identity_settings()
    # Tickets (purpose) are always ours (HS256); logins use the configured algorithm and key.
    algorithm = "HS256" if (purpose or secret) else settings.algorithm
    key = secret or (token_secret(settings) if purpose else _verification_key(settings))
    try:
        claims = jwt.decode(token, key, algorithms=[algorithm], issuer=ISSUER, audience=settings.audience,
                            options={"require": ["sub", "exp", "iss", "aud", "jti"]},
                            leeway=settings.clock_leeway_s)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        log.info("token rejected: %s", type(exc).__name__)
        return None
    if claims.get("purpose") != purpose:
        log.info("token rejected: made for %r, not %r", claims.get("purpose"), purpose)
        return None
    subject, jti = claims.get("sub"), claims.get("jti")
    if not (isinstance(subject, str) and subject and isinstance(jti, str) and jti and len(jti) <= 128):
        return None
    return VerifiedCustomer(customer_id=subject, expires_at=int(claims["exp"]), jti=jti)


def verify_token(token: Any, secret: Optional[str] = None, purpose: Optional[str] = None) -> Optional[str]:
    """The subject of a valid token (see verify_customer_token)."""
    verified = verify_customer_token(token, secret=secret, purpose=purpose)
    return verified.customer_id if verified else None


# --- identity seals (channel → actions) --------------------------------------------------------

def conversation_id(channel: str, local_id: str) -> str:
    """Sender ids are namespaced by channel, so no channel can address another's conversations."""
    return f"{channel}:{local_id}"


def channel_of(sender_id: str) -> Optional[str]:
    channel, sep, rest = sender_id.partition(":")
    return channel if sep and rest else None


def _seal_secret(settings: IdentitySettings) -> bytes:
    return configured_secret("IDENTITY_SEAL_SECRET", settings.secrets_dir, "identity_seal.secret").encode()


def _mac(settings: IdentitySettings, customer_id: str, channel: str, sender_id: str, message_id: str,
         expires_at: int) -> str:
    body = json.dumps([SEAL_VERSION, customer_id, channel, sender_id, message_id, expires_at],
                      ensure_ascii=False, separators=(",", ":"))
    return hmac.new(_seal_secret(settings), body.encode(), hashlib.sha256).hexdigest()


def seal(customer_id: str, channel: str, sender_id: str, message_id: str,
         expires_at: Optional[float] = None, settings: Optional[IdentitySettings] = None) -> dict:
    """The metadata value that tells actions who sent message `message_id` of `sender_id`."""
    settings = settings or load_identity_settings()
    limit = int(time.time()) + SEAL_TTL_S
    expiry = min(int(expires_at), limit) if expires_at else limit
    return {"v": SEAL_VERSION, "customer_id": customer_id, "channel": channel, "exp": expiry,
            "mac": _mac(settings, customer_id, channel, sender_id, message_id, expiry)}


def identity_metadata(customer: Optional[VerifiedCustomer | str], channel: str, sender_id: str,
                      message_id: str, expires_at: Optional[float] = None) -> dict:
    """{IDENTITY_METADATA_KEY: seal} for a verified customer, {} for an anonymous message."""
    if customer is None:
        return {}
    if isinstance(customer, VerifiedCustomer):
        customer_id, expires_at = customer.customer_id, min(expires_at or customer.expires_at, customer.expires_at)
    else:
        customer_id = customer
    return {IDENTITY_METADATA_KEY: seal(customer_id, channel, sender_id, message_id, expires_at)}


def strip_reserved(metadata: Any) -> dict:
    """A client's metadata without anything that could claim an identity."""
    if not isinstance(metadata, Mapping):
        return {}
    return {key: value for key, value in metadata.items() if key not in RESERVED_METADATA_KEYS}


def customer_from_user_event(sender_id: str, event: Mapping[str, Any],
                             settings: Optional[IdentitySettings] = None) -> Optional[str]:
    """The customer a user event's seal names, if the seal is valid for THIS event."""
    metadata = event.get("metadata") or {}
    sealed = metadata.get(IDENTITY_METADATA_KEY) if isinstance(metadata, Mapping) else None
    message_id = event.get("message_id")
    if not isinstance(sealed, Mapping) or not isinstance(message_id, str) or not message_id:
        return None
    customer, channel, expiry, mac = (sealed.get(k) for k in ("customer_id", "channel", "exp", "mac"))
    if not (isinstance(customer, str) and customer and isinstance(channel, str) and isinstance(expiry, int)
            and isinstance(mac, str)):
        return None
    if channel_of(sender_id) != channel:
        log.warning("identity seal for channel %s on a conversation of another channel: ignored", channel)
        return None
    if expiry < time.time():
        return None
    settings = settings or load_identity_settings()
    expected = _mac(settings, customer, channel, sender_id, message_id, expiry)
    if not hmac.compare_digest(expected, mac):
        log.warning("identity seal with a wrong MAC on %s: ignored", channel)
        return None
    return customer


def current_customer(sender_id: str, events: list) -> Optional[str]:
    """The customer verified on the newest user message — never one from an earlier message."""
    for event in reversed(events):
        if event.get("event") == "user":
            return customer_from_user_event(sender_id, event)
    return None


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.identity issue C001 [--ttl 1800]``: an HS256 token for demos and partner tests."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bot.identity", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue", help="print a signed token for a customer id")
    issue.add_argument("customer_id")
    issue.add_argument("--ttl", type=int, default=DEFAULT_TTL_S, help="seconds until it expires")
    args = parser.parse_args(argv)
    if args.ttl <= 0:
        parser.error("--ttl must be a positive number of seconds")
    if load_identity_settings().algorithm != "HS256":
        parser.error("CUSTOMER_TOKEN_ALGORITHM is not HS256: tokens are signed by the bank app's private key")
    print(issue_token(args.customer_id, ttl_s=args.ttl))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
