"""Who the customer is: a signed, expiring token carried in each message's metadata.

Channels never pass a bare customer id: the in-app widget forwards the token
the bank app signed; server-side channels (WeChat after binding) sign one
themselves. Actions trust only a token that verifies, so a REST caller cannot
claim to be somebody else by writing a customer id into the metadata.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Mapping, Optional

import jwt

from bot.settings import configured_secret, load_settings

log = logging.getLogger(__name__)

TOKEN_METADATA_KEY = "customer_token"
ALGORITHM = "HS256"
ISSUER = "shili-bank"
DEFAULT_TTL_S = 30 * 60


def token_secret() -> str:
    """CUSTOMER_TOKEN_SECRET, or a random per-installation secret kept in var/secrets."""
    return configured_secret("CUSTOMER_TOKEN_SECRET", load_settings().secrets_dir, "customer_token.secret")


def issue_token(customer_id: str, ttl_s: int = DEFAULT_TTL_S, secret: Optional[str] = None,
                purpose: Optional[str] = None) -> str:
    """A customer token, or with `purpose` a ticket for that purpose only (never accepted as a login)."""
    now = int(time.time())
    claims = {"sub": customer_id, "iss": ISSUER, "iat": now, "exp": now + ttl_s}
    if purpose:
        claims["purpose"] = purpose
    return jwt.encode(claims, secret or token_secret(), algorithm=ALGORITHM)


def verify_token(token: Any, secret: Optional[str] = None, purpose: Optional[str] = None) -> Optional[str]:
    """The subject of a valid, unexpired token made for `purpose` (None: a customer token)."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    try:
        claims = jwt.decode(token, secret or token_secret(), algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["sub", "exp", "iss"]})
    except jwt.PyJWTError as exc:
        log.info("token rejected: %s", type(exc).__name__)
        return None
    if claims.get("purpose") != purpose:
        log.info("token rejected: made for %r, not %r", claims.get("purpose"), purpose)
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and subject else None


def customer_from_metadata(metadata: Optional[Mapping[str, Any]]) -> Optional[str]:
    return verify_token((metadata or {}).get(TOKEN_METADATA_KEY))


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.identity issue C001 [--ttl 1800]``: a token for demos and partner tests."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bot.identity", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue", help="print a signed token for a customer id")
    issue.add_argument("customer_id")
    issue.add_argument("--ttl", type=int, default=DEFAULT_TTL_S, help="seconds until it expires")
    args = parser.parse_args(argv)
    if args.ttl <= 0:
        parser.error("--ttl must be a positive number of seconds")
    print(issue_token(args.customer_id, ttl_s=args.ttl))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
