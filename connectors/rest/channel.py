"""/webhooks/rest/webhook — Rasa's REST protocol, with the bank's rules on identity and abuse.

Replaces Rasa's stock `rest` channel under the same name and URL (architecture contract):
- conversations are namespaced: a caller's `sender` "abc" is conversation `rest:abc` (the
  `recipient_id` of every reply is that id, to use with the tracker API); a REST caller can never
  address a web chat or WeChat conversation;
- identity only from a verified customer token in THIS message (`metadata.customer_token`); the
  token is dropped after verification and actions receive a seal (bot/identity.py);
- `input_channel` is always `rest` (Rasa's stock channel lets the caller choose it);
- a bearer credential can be required (`bearer_token` in credentials.yml, REST_BEARER_TOKEN);
- body size, sender id, message length and rates are checked before anything reaches the bot;
- a message sent again with the same `metadata.message_id` is answered once (bot/idempotent_turns.py).
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.identity import TOKEN_METADATA_KEY, verify_customer_token
from bot.idempotent_turns import invalid_client_message_id
from bot.settings import load_limit_settings
from connectors.cors import CorsPolicy
from connectors.limits import ChannelLimits, client_address
from connectors.messages import customer_message, namespaced
from connectors.outages import RETRY_AFTER_S, STORE_OUTAGES, UNAVAILABLE_ERROR
from connectors.token_uses import TokenUses

log = logging.getLogger(__name__)

CHANNEL = "rest"
SENDER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
MAX_BODY_BYTES = 64 * 1024
RATE_LIMITED_TEXT = "您发送消息太频繁了，请稍后再试。"


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class BankRestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "BankRestInput":
        credentials = credentials or {}
        return cls(bearer_token=str(credentials.get("bearer_token") or ""),
                   cors=CorsPolicy.from_setting(credentials.get("cors_allowed_origins")))

    def __init__(self, bearer_token: str = "", cors: Optional[CorsPolicy] = None,
                 limits: Optional[ChannelLimits] = None, token_uses: Optional[TokenUses] = None) -> None:
        if bearer_token and len(bearer_token) < 32:
            raise ValueError("REST_BEARER_TOKEN must be at least 32 characters long")
        self.bearer_token = bearer_token
        self.cors = cors or CorsPolicy.from_setting(None)
        self.limits = limits or ChannelLimits.from_settings(scope=CHANNEL)
        self.token_uses = token_uses or TokenUses()
        self.trust_forwarded = load_limit_settings().trust_forwarded_for

    def _authorised(self, request: Request) -> bool:
        if not self.bearer_token:
            return True
        offered = request.headers.get("authorization", "")
        return hmac.compare_digest(offered.encode(), f"Bearer {self.bearer_token}".encode())

    def _parse(self, request: Request) -> tuple[Optional[dict], Optional[HTTPResponse]]:
        if len(request.body or b"") > MAX_BODY_BYTES:
            return None, _error(413, f"request body larger than {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(request.body or b"")
        except (ValueError, UnicodeDecodeError):
            return None, _error(400, 'send JSON {"sender": "...", "message": "...", "metadata": {...}}')
        if not isinstance(body, dict):
            return None, _error(400, 'the body must be a JSON object {"sender": ..., "message": ...}')
        message, sender = body.get("message"), body.get("sender")
        if self.limits.too_long(message):
            return None, _error(413, f"message longer than {self.limits.settings.max_message_chars} characters")
        if not isinstance(message, str) or not message.strip():
            return None, _error(400, '"message" must be non-empty text')
        if not isinstance(sender, str) or not SENDER_ID.fullmatch(sender):
            return None, _error(400, '"sender" must be 1–128 characters of letters, digits and _ . : @ -')
        if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
            return None, _error(400, '"metadata" must be a JSON object')
        bad_id = invalid_client_message_id(body.get("metadata"))
        if bad_id:
            return None, _error(400, bad_id)
        return body, None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("bank_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["OPTIONS"])
        async def preflight(request: Request) -> HTTPResponse:
            return self.cors.preflight(request)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        self.cors.install(webhook)  # also rewrites Rasa's app-wide Sanic-CORS answer to OPTIONS
        return webhook

    async def _receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
                       ) -> HTTPResponse:
        address = client_address(request, self.trust_forwarded)
        if not self._authorised(request):  # guessing the credential spends the address's budget too
            if not self.limits.allow(None, address):
                return _error(429, "too many requests from this address; try again later")
            return _error(401, "this REST endpoint needs `Authorization: Bearer <partner credential>`")
        body, problem = self._parse(request)
        if problem is not None:
            return problem
        assert body is not None
        if not self.limits.allow(f"{CHANNEL}:{body['sender']}", address):
            return response.json([{"recipient_id": body["sender"], "text": RATE_LIMITED_TEXT}], status=429,
                                 headers={"Retry-After": "10"})
        metadata = body.get("metadata") or {}
        collector = CollectingOutputChannel()
        customer = self.token_uses.for_conversation(verify_customer_token(metadata.get(TOKEN_METADATA_KEY)),
                                                    namespaced(CHANNEL, body["sender"]))
        message = customer_message(body["message"], collector, CHANNEL, body["sender"], customer,
                                   metadata=metadata)
        try:
            await on_new_message(message)
        except asyncio.CancelledError:
            log.error("REST message handling timed out for %s", message.sender_id)
        except STORE_OUTAGES as exc:
            log.error("REST turn of %s not run: conversation store unavailable (%s)", message.sender_id,
                      type(exc).__name__)
            return response.json({"error": UNAVAILABLE_ERROR}, status=503,
                                 headers={"Retry-After": str(RETRY_AFTER_S)})
        return response.json(collector.messages)
