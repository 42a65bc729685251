"""The WeChat official account as a Rasa input channel: /webhooks/wechat/webhook.

Protocol pieces live beside it: crypto (signatures, AES), messages (XML in), replies (XML out,
splitting), api (customer-service messages), dispatch (5-second rule), replay (replay window),
binding (app-confirmed bindings), ids (conversation ids), store (SQL), config (secrets).

Every push passes, in this order: configured and safe mode (else 503) → body size → timestamp
window → signature(s) → decryption → XML → ToUserName → message length → replay window → rate
limits → one bot turn for conversation `wechat:<hash of openid>`, with the bound customer sealed
onto that message only (connectors/messages.py).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import secrets
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine

from bot.settings import ChannelSettings, load_channel_settings, load_limit_settings
from connectors.agent_desk.handoff import DeskHub, get_hub
from connectors.limits import ChannelLimits, client_address
from connectors.messages import customer_message
from connectors.wechat.api import CustomerServiceClient
from connectors.wechat.binding import BindingFlow, add_routes
from connectors.wechat.config import WeChatSecrets, refusal
from connectors.wechat.crypto import MessageCrypto, WeChatCryptoError, signature_matches
from connectors.wechat.dispatch import TurnDispatcher
from connectors.wechat.ids import CHANNEL, conversation_id, message_id
from connectors.wechat.messages import (
    MAX_BODY_BYTES,
    InboundMessage,
    MalformedMessage,
    encrypted_payload,
    parse_message,
)
from connectors.wechat.replay import ReplayGuard, Verdict
from connectors.wechat.replies import SUCCESS, encrypted_envelope, numbered_options, split_text, text_reply
from connectors.wechat.store import (Bindings, ConversationMap, MessageTurns, OfferedChoices, OnceKeys,
                                     SharedAccessToken)

log = logging.getLogger(__name__)

BIND_WORDS = {"绑定", "绑定账户", "绑定银行卡", "bind"}
UNBIND_WORDS = {"解绑", "解除绑定", "unbind"}
# Menu CLICK keys configured in the official account's custom menu → what the customer asked.
MENU_KEYS = {
    "BALANCE": "/check_balance", "TRANSACTIONS": "/query_transactions", "CARD_LOSS": "/report_card_loss",
    "CREDIT_BILL": "/credit_card_bill", "BRANCH": "/find_branch", "EXCHANGE_RATE": "/exchange_rate",
    "WEALTH": "/wealth_products", "HUMAN": "/request_human", "BIND": "绑定",
}
NON_TEXT_REPLY = "目前只能处理文字和语音消息。请用文字描述您的问题，例如“信用卡账单”或“附近网点”。"
VOICE_UNRECOGNISED = "抱歉，没能识别这段语音，请再说一遍或改用文字。"
RATE_LIMITED_TEXT = "您发送消息太频繁了，请稍等一分钟再试。"
TOO_LONG_TEXT = "您的消息太长了，请精简到{limit}字以内后再发送。"
REFUSAL_LOG_EVERY_S = 60.0


class Reject(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WeChatPushOutput(OutputChannel):
    """Bot messages sent outside a webhook response (e.g. after an agent hands back): the
    recipient is a conversation id, the customer-service API needs the openid behind it."""

    def __init__(self, api: CustomerServiceClient, conversations: ConversationMap) -> None:
        self.api = api
        self.conversations = conversations

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        openid = self.conversations.openid_of(recipient_id)
        if openid is None:
            log.warning("no WeChat follower known for conversation %s; message not sent", recipient_id)
            return
        for chunk in split_text(text):
            if not await self.api.send_text(openid, chunk):
                return


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "WeChatInput":
        return cls(WeChatSecrets.from_credentials(credentials), load_channel_settings())

    def __init__(self, secrets_: WeChatSecrets, settings: ChannelSettings, *, engine: Optional[Engine] = None,
                 hub: Optional[DeskHub] = None, limits: Optional[ChannelLimits] = None,
                 app_limits: Optional[ChannelLimits] = None) -> None:
        self.secrets = secrets_
        self.settings = settings
        self.refusal = refusal(secrets_, settings.wechat_allow_plain_mode)
        self.crypto = (MessageCrypto(secrets_.token, secrets_.encoding_aes_key, secrets_.app_id)
                       if secrets_.safe_mode and not self.refusal else None)
        if self.refusal:
            log.error("WeChat channel will answer 503 to every message: %s", self.refusal)
        elif self.crypto is None:
            log.warning("WeChat channel in PLAIN mode (WECHAT_ALLOW_PLAIN_MODE=1): messages travel "
                        "unencrypted; use this only for a test account")
        self.conversations = ConversationMap(engine)
        self.bindings = Bindings(engine)
        once = OnceKeys(engine)
        self.replay = ReplayGuard(once, MessageTurns(engine), settings.wechat_max_clock_skew_s)
        self.binding = BindingFlow(self.bindings, self.conversations, once, settings.wechat_binding_ttl_days * 86400,
                                   settings.public_base_url, self._notify)
        self.api = CustomerServiceClient(settings.wechat_api_base, secrets_.app_id, secrets_.app_secret,
                                         SharedAccessToken(secrets_.app_id, engine))
        self.dispatcher = TurnDispatcher(self._deliver_later, settings.wechat_passive_timeout_s)
        limit_settings = load_limit_settings()
        self.trust_forwarded = limit_settings.trust_forwarded_for
        # Pushes come from WeChat's servers: few addresses carry the whole account's traffic.
        self.limits = limits or ChannelLimits.from_settings(dataclasses.replace(
            limit_settings, per_address_per_minute=settings.wechat_rate_per_address_per_min,
            per_address_burst=settings.wechat_rate_per_address_burst), scope="wechat")
        self.app_limits = app_limits or ChannelLimits.from_settings(limit_settings, scope="wechat_app")  # bank app
        self.choices = OfferedChoices(engine)
        self.rejected: Dict[str, int] = {}
        self.background: set = set()
        self._refusal_logged_at = 0.0
        self.hub = hub or get_hub()
        self.hub.register_channel(CHANNEL, self._desk_deliver,
                                  lambda: WeChatPushOutput(self.api, self.conversations))

    def conversation_of(self, openid: str) -> str:
        return conversation_id(self.secrets.app_id, openid)

    async def _desk_deliver(self, conversation: str, payload: Dict[str, Any]) -> None:
        """The agent desk reaches a WeChat customer by conversation id (wechat:<hash>)."""
        if payload.get("typing"):
            return  # WeChat has no typing indicator for official accounts' customer-service messages
        openid = self.conversations.openid_of(conversation)
        if openid is None:
            log.warning("no WeChat follower known for conversation %s; desk message kept in the transcript",
                        conversation)
            return
        text = payload["text"] if payload.get("notice") or not payload.get("agent") else \
            f"【人工客服 {payload['agent']}】{payload['text']}"
        await self._deliver_later(openid, split_text(text))

    def _notify(self, openid: str, text: str) -> None:
        """A customer-service message sent in the background (binding notices)."""
        async def send() -> None:
            try:
                await self._deliver_later(openid, [text])
            except Exception:  # noqa: BLE001 - a failed notice must not fail the app's call
                log.exception("WeChat notice could not be sent")

        task = asyncio.get_running_loop().create_task(send())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    # --- authentication -------------------------------------------------------------------
    def _check_timestamp(self, timestamp: str) -> None:
        if not re.fullmatch(r"\d{1,12}", timestamp or ""):
            raise Reject(403, "missing or malformed timestamp")
        if abs(time.time() - int(timestamp)) > self.settings.wechat_max_clock_skew_s:
            raise Reject(403, "stale timestamp")

    def _refused(self) -> HTTPResponse:
        now = time.monotonic()
        if now - self._refusal_logged_at >= REFUSAL_LOG_EVERY_S:
            self._refusal_logged_at = now
            log.error("WeChat request answered 503: %s", self.refusal)
        self._count_rejection("not serving")
        return response.text(self.refusal or "", status=503)

    def _inbound_xml(self, request: Request) -> tuple[str, bool]:
        """The message XML and whether it came encrypted; Reject for anything not from WeChat."""
        args = request.args
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        if len(request.body or b"") > MAX_BODY_BYTES:
            raise Reject(413, "body too large")
        self._check_timestamp(timestamp)
        if not signature_matches(args.get("signature", ""), self.secrets.token, timestamp, nonce):
            raise Reject(403, "bad signature")
        if self.crypto is None:
            return request.body.decode("utf-8", "replace"), False
        if args.get("encrypt_type") != "aes":
            raise Reject(403, "safe mode: plain messages are not accepted")
        try:
            encrypted = encrypted_payload(request.body)
        except MalformedMessage as exc:
            raise Reject(400, str(exc)) from None
        if not signature_matches(args.get("msg_signature", ""), self.secrets.token, timestamp, nonce,
                                 encrypted):
            raise Reject(403, "bad msg_signature")
        try:
            return self.crypto.decrypt(encrypted), True
        except WeChatCryptoError as exc:
            raise Reject(403, str(exc)) from None

    def _check_recipient(self, msg: InboundMessage) -> None:
        account = self.settings.wechat_account_id
        if account and msg.to_user != account:
            raise Reject(403, "wrong ToUserName")

    def _count_rejection(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    # --- turns ----------------------------------------------------------------------------
    def _local_answer(self, msg: InboundMessage, conversation: str) -> Optional[List[str]]:
        """Replies the channel gives itself, without a bot turn."""
        text = (msg.content or "").strip()
        if msg.msg_type == "event":
            if msg.event == "click" and MENU_KEYS.get(msg.event_key or "") == "绑定":
                return [self.binding.link_text(conversation)]
            return [] if msg.event not in {"subscribe", "click"} else None
        if msg.msg_type in {"image", "location", "link", "video", "shortvideo", "file"}:
            return [NON_TEXT_REPLY]
        if msg.msg_type == "voice" and not (msg.recognition or "").strip():
            return [VOICE_UNRECOGNISED]
        if text.lower() in BIND_WORDS:
            return [self.binding.link_text(conversation)]
        if text.lower() in UNBIND_WORDS:
            removed = self.bindings.unbind(msg.from_user)
            return ["已解除公众号与银行账户的绑定。" if removed else "您的公众号尚未绑定银行账户。"]
        return None

    def _user_text(self, msg: InboundMessage, conversation: str) -> str:
        if msg.msg_type == "event":
            return "/greet" if msg.event == "subscribe" else MENU_KEYS.get(msg.event_key or "", "/greet")
        text = (msg.recognition if msg.msg_type == "voice" else msg.content) or ""
        text = text.strip()
        choices = self.choices.take(conversation)
        if choices and text.isdigit() and 1 <= int(text) <= len(choices):
            return choices[int(text) - 1]
        return text

    def _render(self, conversation: str, messages: List[Dict[str, Any]]) -> List[str]:
        parts: List[str] = []
        for message in messages:
            buttons = message.get("buttons") or []
            if buttons:
                self.choices.offer(conversation, [b.get("payload") or b.get("title", "") for b in buttons])
                parts.append(numbered_options(message.get("text", ""), [b.get("title", "") for b in buttons]))
            elif message.get("text"):
                parts.append(message["text"])
            if message.get("image"):
                parts.append(message["image"])
        return split_text("\n\n".join(parts)) if parts else []

    def _turn(self, msg: InboundMessage, conversation: str,
              on_new_message: Callable[[UserMessage], Awaitable[Any]]):
        async def run() -> List[str]:
            local = self._local_answer(msg, conversation)
            if local is not None:
                return local
            text = self._user_text(msg, conversation)
            desk_reply = await self.hub.intercept(conversation, text)
            if desk_reply:
                return [desk_reply]
            customer = self.bindings.customer_of(msg.from_user)  # None: unbound or expired → anonymous
            collector = CollectingOutputChannel()
            await on_new_message(customer_message(text, collector, CHANNEL, conversation, customer,
                                                  metadata={"wechat_bound": customer is not None,
                                                            "message_id": message_id(msg.dedup_key)}))
            await self.hub.customer_message(conversation, text, CHANNEL)
            return self._render(conversation, collector.messages)
        return run

    async def _deliver_later(self, openid: str, texts: List[str]) -> None:
        for text in texts:
            if not await self.api.send_text(openid, text):
                return

    def _passive(self, msg: InboundMessage, text: str, encrypted: bool) -> HTTPResponse:
        xml = text_reply(msg.from_user, msg.to_user, text)
        if encrypted and self.crypto:
            timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
            payload = self.crypto.encrypt(xml)
            xml = encrypted_envelope(payload, self.crypto.sign(timestamp, nonce, payload), timestamp, nonce)
        return response.text(xml, content_type="application/xml; charset=utf-8")

    async def _handle(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
                      ) -> HTTPResponse:
        try:
            xml, encrypted = self._inbound_xml(request)
            msg = parse_message(xml)
            self._check_recipient(msg)
        except Reject as exc:
            self._count_rejection(exc.reason)
            log.warning("WeChat request rejected: %s", exc.reason)
            return response.text(exc.reason, status=exc.status)
        except MalformedMessage as exc:
            self._count_rejection("malformed")
            return response.text(f"malformed message: {exc}", status=400)
        if self.limits.too_long(msg.recognition if msg.msg_type == "voice" else msg.content):
            self._count_rejection("too long")
            limit = self.limits.settings.max_message_chars
            return self._passive(msg, TOO_LONG_TEXT.format(limit=limit), encrypted)
        args = request.args
        verdict = self.replay.check(args.get("timestamp", ""), args.get("nonce", ""), msg.dedup_key)
        if verdict is Verdict.REPLAY:
            self._count_rejection("replayed request")
            log.warning("WeChat request rejected: a used timestamp/nonce with another message")
            return response.text("replayed request", status=403)
        if verdict is Verdict.RETRY:
            self.dispatcher.stats.duplicates += 1
            return response.text(SUCCESS)
        conversation = self.conversation_of(msg.from_user)
        if not self.limits.allow(conversation, client_address(request, self.trust_forwarded)):
            self._count_rejection("rate limited")
            return self._passive(msg, RATE_LIMITED_TEXT, encrypted)
        self.conversations.remember(conversation, msg.from_user)
        texts = await self.dispatcher.dispatch(msg.from_user, self.replay.held(
            msg.dedup_key, self._turn(msg, conversation, on_new_message)))
        if not texts:
            return response.text(SUCCESS)
        return self._passive(msg, texts[0], encrypted)

    async def _app_guard(self, request: Request) -> Optional[HTTPResponse]:
        """The bank app's binding API: per-address limit (429)."""
        if not self.app_limits.allow(None, client_address(request, self.trust_forwarded)):
            return response.json({"error": "too many requests; try again in a minute"}, status=429)
        return None

    # --- HTTP -----------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("wechat_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            stats = self.dispatcher.stats
            status = "ok" if not self.refusal else "not configured" if not self.secrets.configured else "refused"
            return response.json({"status": status, "safe_mode": self.crypto is not None,
                                  "turns": stats.turns,
                                  "passive": stats.passive, "asynchronous": stats.asynchronous,
                                  "duplicates": stats.duplicates, "rejected": self.rejected})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            args = request.args
            if self.refusal:
                return self._refused()
            if not signature_matches(args.get("signature", ""), self.secrets.token,
                                     args.get("timestamp", ""), args.get("nonce", "")):
                self._count_rejection("bad signature")
                return response.text("bad signature", status=403)
            return response.text(args.get("echostr", ""))

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.refusal:
                return self._refused()
            return await self._handle(request, on_new_message)

        add_routes(webhook, self.binding, self._app_guard)
        return webhook
