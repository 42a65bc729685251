"""The WeChat official account as a Rasa input channel: /webhooks/wechat/webhook.

Protocol pieces live beside it: crypto (signatures, AES), messages (XML in), replies
(XML out, splitting), api (customer-service messages), dispatch (5-second rule, dedup).
"""
from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.identity import TOKEN_METADATA_KEY, issue_token, verify_token
from bot.settings import ChannelSettings, load_channel_settings
from connectors.agent_desk.hub import get_hub
from connectors.store import WeChatBindings
from connectors.wechat.api import CustomerServiceClient
from connectors.wechat.crypto import MessageCrypto, WeChatCryptoError, signature_matches
from connectors.wechat.dispatch import TurnDispatcher
from connectors.wechat.messages import (
    MAX_BODY_BYTES,
    InboundMessage,
    MalformedMessage,
    encrypted_payload,
    parse_message,
)
from connectors.wechat.replies import SUCCESS, encrypted_envelope, numbered_options, split_text, text_reply

log = logging.getLogger(__name__)

BIND_PURPOSE = "wechat_bind"
BIND_TTL_S = 10 * 60
CUSTOMER_TOKEN_TTL_S = 10 * 60
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


class Reject(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WeChatPushOutput(OutputChannel):
    """Bot messages sent outside a webhook response (e.g. after an agent hands back)."""

    def __init__(self, api: CustomerServiceClient) -> None:
        self.api = api

    @classmethod
    def name(cls) -> str:
        return "wechat"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for chunk in split_text(text):
            await self.api.send_text(recipient_id, chunk)


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "WeChatInput":
        return cls(load_channel_settings())

    def __init__(self, settings: ChannelSettings, bindings: Optional[WeChatBindings] = None) -> None:
        self.settings = settings
        self.crypto = (MessageCrypto(settings.wechat_token, settings.wechat_encoding_aes_key,
                                     settings.wechat_app_id) if settings.wechat_safe_mode else None)
        self.bindings = bindings or WeChatBindings()
        self.api = CustomerServiceClient(settings.wechat_api_base, settings.wechat_app_id,
                                         settings.wechat_app_secret)
        self.dispatcher = TurnDispatcher(self._deliver_later, settings.wechat_passive_timeout_s)
        self.options: Dict[str, List[str]] = {}
        self.rejected: Dict[str, int] = {}
        self.hub = get_hub()
        self.hub.register_channel(self.name(), self._desk_deliver, lambda: WeChatPushOutput(self.api))

    async def _desk_deliver(self, openid: str, payload: Dict[str, Any]) -> None:
        if payload.get("typing"):
            return  # WeChat has no typing indicator for official accounts' customer-service messages
        text = payload["text"] if payload.get("notice") or not payload.get("agent") else \
            f"【人工客服 {payload['agent']}】{payload['text']}"
        await self._deliver_later(openid, split_text(text))

    # --- authentication -------------------------------------------------------------------
    def _check_timestamp(self, timestamp: str) -> None:
        if not re.fullmatch(r"\d{1,12}", timestamp or ""):
            raise Reject(403, "missing or malformed timestamp")
        if abs(time.time() - int(timestamp)) > self.settings.wechat_max_clock_skew_s:
            raise Reject(403, "stale timestamp")

    def _inbound_xml(self, request: Request) -> tuple[str, bool]:
        """The message XML and whether it came encrypted; Reject for anything not from WeChat."""
        args = request.args
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        if not self.settings.wechat_configured:
            raise Reject(503, "WeChat channel not configured: set WECHAT_TOKEN")
        if len(request.body or b"") > MAX_BODY_BYTES:
            raise Reject(413, "body too large")
        self._check_timestamp(timestamp)
        if not signature_matches(args.get("signature", ""), self.settings.wechat_token, timestamp, nonce):
            raise Reject(403, "bad signature")
        if self.crypto is None:
            return request.body.decode("utf-8", "replace"), False
        if args.get("encrypt_type") != "aes":
            raise Reject(403, "safe mode: plain messages are not accepted")
        try:
            encrypted = encrypted_payload(request.body)
        except MalformedMessage as exc:
            raise Reject(400, str(exc)) from None
        if not signature_matches(args.get("msg_signature", ""), self.settings.wechat_token, timestamp, nonce,
                                 encrypted):
            raise Reject(403, "bad msg_signature")
        try:
            return self.crypto.decrypt(encrypted), True
        except WeChatCryptoError as exc:
            raise Reject(403, str(exc)) from None

    def _count_rejection(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    # --- turns ----------------------------------------------------------------------------
    def _metadata(self, openid: str) -> Dict[str, Any]:
        customer = self.bindings.customer_of(openid)
        if not customer:
            return {"wechat_bound": False}
        return {"wechat_bound": True, TOKEN_METADATA_KEY: issue_token(customer, ttl_s=CUSTOMER_TOKEN_TTL_S)}

    def _bind_link(self, openid: str) -> str:
        ticket = issue_token(openid, ttl_s=BIND_TTL_S, purpose=BIND_PURPOSE)
        return (f"请在示例银行App内打开以下链接完成绑定（{BIND_TTL_S // 60}分钟内有效），绑定后即可在公众号查询账户：\n"
                f"{self.settings.public_base_url}/webhooks/wechat/bind?ticket={ticket}\n"
                "我们不会在聊天中索要密码或验证码。")

    def _local_answer(self, msg: InboundMessage) -> Optional[List[str]]:
        """Replies the channel gives itself, without a bot turn."""
        text = (msg.content or "").strip()
        if msg.msg_type == "event":
            if msg.event == "click" and MENU_KEYS.get(msg.event_key or "") == "绑定":
                return [self._bind_link(msg.from_user)]
            return [] if msg.event not in {"subscribe", "click"} else None
        if msg.msg_type in {"image", "location", "link", "video", "shortvideo", "file"}:
            return [NON_TEXT_REPLY]
        if msg.msg_type == "voice" and not (msg.recognition or "").strip():
            return [VOICE_UNRECOGNISED]
        if text.lower() in BIND_WORDS:
            return [self._bind_link(msg.from_user)]
        if text.lower() in UNBIND_WORDS:
            removed = self.bindings.unbind(msg.from_user)
            return ["已解除公众号与银行账户的绑定。" if removed else "您的公众号尚未绑定银行账户。"]
        return None

    def _user_text(self, msg: InboundMessage) -> str:
        if msg.msg_type == "event":
            return "/greet" if msg.event == "subscribe" else MENU_KEYS.get(msg.event_key or "", "/greet")
        text = (msg.recognition if msg.msg_type == "voice" else msg.content) or ""
        text = text.strip()
        choices = self.options.pop(msg.from_user, None)
        if choices and text.isdigit() and 1 <= int(text) <= len(choices):
            return choices[int(text) - 1]
        return text

    def _render(self, openid: str, messages: List[Dict[str, Any]]) -> List[str]:
        parts: List[str] = []
        for message in messages:
            buttons = message.get("buttons") or []
            if buttons:
                self.options[openid] = [b.get("payload") or b.get("title", "") for b in buttons]
                parts.append(numbered_options(message.get("text", ""), [b.get("title", "") for b in buttons]))
            elif message.get("text"):
                parts.append(message["text"])
            if message.get("image"):
                parts.append(message["image"])
        return split_text("\n\n".join(parts)) if parts else []

    def _turn(self, msg: InboundMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]]):
        async def run() -> List[str]:
            local = self._local_answer(msg)
            if local is not None:
                return local
            text = self._user_text(msg)
            desk_reply = await self.hub.intercept(msg.from_user, text)
            if desk_reply:
                return [desk_reply]
            collector = CollectingOutputChannel()
            await on_new_message(UserMessage(text, collector, msg.from_user,
                                             input_channel=self.name(), metadata=self._metadata(msg.from_user)))
            await self.hub.customer_message(msg.from_user, text, self.name())
            return self._render(msg.from_user, collector.messages)
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

    # --- HTTP -----------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("wechat_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            stats = self.dispatcher.stats
            return response.json({"status": "ok" if self.settings.wechat_configured else "not configured",
                                  "safe_mode": self.crypto is not None, "turns": stats.turns,
                                  "passive": stats.passive, "asynchronous": stats.asynchronous,
                                  "duplicates": stats.duplicates, "rejected": self.rejected})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            args = request.args
            if not self.settings.wechat_configured:
                return response.text("WeChat channel not configured: set WECHAT_TOKEN", status=503)
            if not signature_matches(args.get("signature", ""), self.settings.wechat_token,
                                     args.get("timestamp", ""), args.get("nonce", "")):
                self._count_rejection("bad signature")
                return response.text("bad signature", status=403)
            return response.text(args.get("echostr", ""))

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                xml, encrypted = self._inbound_xml(request)
                msg = parse_message(xml)
            except Reject as exc:
                self._count_rejection(exc.reason)
                log.warning("WeChat request rejected: %s", exc.reason)
                return response.text(exc.reason, status=exc.status)
            except MalformedMessage as exc:
                self._count_rejection("malformed")
                return response.text(f"malformed message: {exc}", status=400)
            texts = await self.dispatcher.dispatch(msg.dedup_key, msg.from_user, self._turn(msg, on_new_message))
            if not texts:
                return response.text(SUCCESS)
            return self._passive(msg, texts[0], encrypted)

        @webhook.route("/bind", methods=["GET"])
        async def bind_page(_: Request) -> HTTPResponse:
            """The link opened outside the bank app: say where to open it (the app posts the binding)."""
            return response.html("<!doctype html><meta charset='utf-8'><title>绑定示例银行账户</title>"
                                 "<p>请在示例银行App中打开此链接完成公众号绑定。链接10分钟内有效。</p>")

        @webhook.route("/bind", methods=["POST"])
        async def bind(request: Request) -> HTTPResponse:
            """Called by the bank app (customer logged in) with the ticket from the WeChat link."""
            try:
                body = request.json
            except Exception:  # noqa: BLE001 - sanic raises its own error type for bad JSON
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "send JSON {\"ticket\": ..., \"customer_token\": ...}"}, status=400)
            openid = verify_token(body.get("ticket"), purpose=BIND_PURPOSE)
            customer = verify_token(body.get("customer_token"))
            if not openid:
                return response.json({"error": "binding ticket invalid or expired; send 绑定 again in WeChat"},
                                     status=400)
            if not customer:
                return response.json({"error": "customer not logged in (customer_token invalid or expired)"},
                                     status=401)
            self.bindings.bind(openid, customer)
            return response.json({"bound": True})

        return webhook
