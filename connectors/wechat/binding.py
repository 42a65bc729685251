"""Binding a WeChat follower to a bank customer — seen and confirmed by the customer in the app.

1. In WeChat the follower sends 绑定 and gets a link with a ticket (10 minutes, single use). The
   ticket names the conversation (wechat:<hash>), never the raw openid.
2. The bank app opens the link and calls `bind/preview` with the ticket: it learns which WeChat
   account (masked openid, nickname placeholder) would be bound and shows it to the customer.
3. Only on the customer's explicit confirmation the app calls `bind/confirm` with the ticket and
   the customer's verified token. The ticket's `jti` is spent (SQL, until the ticket expires), the
   binding is stored with an expiry (WECHAT_BINDING_TTL_DAYS) and the WeChat account is told.
4. The app lists the customer's bindings and revokes one (`Authorization: Bearer <customer token>`);
   解绑 in WeChat works as well.
"""
from __future__ import annotations

import json
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.identity import VerifiedCustomer, issue_token, verify_customer_token
from connectors.wechat.ids import mask_openid
from connectors.wechat.store import Binding, Bindings, ConversationMap, OnceKeys

BIND_PURPOSE = "wechat_bind"
BIND_TTL_S = 10 * 60
MAX_BODY_BYTES = 16 * 1024
NICKNAME_PLACEHOLDER = "微信用户"  # WeChat no longer tells official accounts a follower's nickname
BOUND_NOTICE = ("您的微信已绑定示例银行账户，现在可以在公众号查询账户信息，绑定有效期至{until}。"
                "如非本人操作请立即解绑：回复“解绑”，或在示例银行App“微信绑定”中解除。")
REVOKED_NOTICE = "您的微信与示例银行账户的绑定已在示例银行App中解除。如有疑问请联系示例银行客服。"

Result = Tuple[int, Dict[str, Any]]
Notify = Callable[[str, str], None]


def _date(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(epoch))


class BindingFlow:
    def __init__(self, bindings: Bindings, conversations: ConversationMap, once: OnceKeys, ttl_s: float,
                 public_base_url: str, notify: Notify) -> None:
        self.bindings = bindings
        self.conversations = conversations
        self.once = once
        self.ttl_s = ttl_s
        self.public_base_url = public_base_url
        self.notify = notify

    # --- WeChat side ------------------------------------------------------------------------
    def link_text(self, conversation_id: str) -> str:
        ticket = issue_token(conversation_id, ttl_s=BIND_TTL_S, purpose=BIND_PURPOSE)
        return (f"请在示例银行App内打开以下链接（{BIND_TTL_S // 60}分钟内有效，仅可使用一次），"
                "核对App显示的微信账号并确认后即完成绑定：\n"
                f"{self.public_base_url}/webhooks/wechat/bind?ticket={ticket}\n"
                "我们不会在聊天中索要密码或验证码；请勿把链接转发给他人。")

    # --- app side ---------------------------------------------------------------------------
    def _ticket(self, ticket: Any) -> Tuple[Optional[VerifiedCustomer], Optional[str], Optional[Result]]:
        verified = verify_customer_token(ticket, purpose=BIND_PURPOSE)
        if verified is None:
            return None, None, (400, {"error": "binding ticket invalid or expired; send 绑定 again in WeChat"})
        if self.once.taken(f"ticket:{verified.jti}"):
            return None, None, (409, {"error": "binding ticket already used; send 绑定 again in WeChat"})
        openid = self.conversations.openid_of(verified.customer_id)
        if openid is None:
            return None, None, (400, {"error": "binding ticket names no known WeChat follower"})
        return verified, openid, None

    def preview(self, ticket: Any) -> Result:
        """What would be bound — for the app to show before the customer confirms; spends nothing."""
        verified, openid, error = self._ticket(ticket)
        if error:
            return error
        masked = mask_openid(openid)
        return 200, {"wechat_account": masked, "nickname": NICKNAME_PLACEHOLDER,
                     "ticket_expires_at": verified.expires_at,
                     "binding_valid_days": round(self.ttl_s / 86400),
                     "confirm_text": f"确认将微信账号 {masked}（{NICKNAME_PLACEHOLDER}）绑定到您的示例银行账户？"
                                     "绑定后可在该微信的公众号中查询您的账户。请确认这是您本人的微信，"
                                     "且链接是您本人刚在公众号中获取的。"}

    def confirm(self, ticket: Any, customer_token: Any) -> Result:
        verified, openid, error = self._ticket(ticket)
        if error:
            return error
        customer = verify_customer_token(customer_token)
        if customer is None:
            return 401, {"error": "customer not logged in (customer token invalid or expired)"}
        # Spent only now: a failed login does not burn the customer's ticket.
        if self.once.claim(f"ticket:{verified.jti}", "used", verified.expires_at + 60) is not None:
            return 409, {"error": "binding ticket already used; send 绑定 again in WeChat"}
        binding = self.bindings.bind(openid, customer.customer_id, self.ttl_s)
        self.notify(openid, BOUND_NOTICE.format(until=_date(binding.expires_at)))
        return 200, {"bound": True, **self._public(binding)}

    def list(self, customer_token: Any) -> Result:
        customer = verify_customer_token(customer_token)
        if customer is None:
            return 401, {"error": "customer not logged in (customer token invalid or expired)"}
        return 200, {"bindings": [self._public(b) for b in self.bindings.of_customer(customer.customer_id)]}

    def revoke(self, customer_token: Any, binding_id: str) -> Result:
        customer = verify_customer_token(customer_token)
        if customer is None:
            return 401, {"error": "customer not logged in (customer token invalid or expired)"}
        removed = self.bindings.revoke(customer.customer_id, binding_id)
        if removed is None:
            return 404, {"error": "no such binding of this customer"}
        self.notify(removed.openid, REVOKED_NOTICE)
        return 200, {"revoked": True, "binding_id": binding_id}

    @staticmethod
    def _public(binding: Binding) -> Dict[str, Any]:
        """A binding as the app sees it: never the raw openid."""
        return {"binding_id": binding.binding_id, "wechat_account": mask_openid(binding.openid),
                "nickname": NICKNAME_PLACEHOLDER, "bound_at": int(binding.bound_at),
                "expires_at": int(binding.expires_at)}


# --- HTTP ---------------------------------------------------------------------------------------

def _body(request: Request) -> Optional[Dict[str, Any]]:
    raw = request.body or b""
    if len(raw) > MAX_BODY_BYTES:
        return None
    try:
        body = json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _bearer(request: Request) -> Optional[str]:
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _reply(result: Result) -> HTTPResponse:
    status, body = result
    return response.json(body, status=status, headers={"Cache-Control": "no-store"})


BAD_JSON = (400, {"error": "send JSON, e.g. {\"ticket\": \"...\"}"})


def add_routes(blueprint: Blueprint, flow: BindingFlow,
               guard: Callable[[Request], Awaitable[Optional[HTTPResponse]]]) -> None:
    """The app-facing binding API under /webhooks/wechat/; `guard` answers 429 to a flooding address."""

    @blueprint.route("/bind", methods=["GET"])
    async def bind_page(_: Request) -> HTTPResponse:
        """The link opened outside the bank app: say where to open it."""
        return response.html("<!doctype html><meta charset='utf-8'><title>绑定示例银行账户</title>"
                             "<p>请在示例银行App中打开此链接。App会显示要绑定的微信账号，您确认后才会绑定。"
                             "链接10分钟内有效，仅可使用一次。</p>")

    @blueprint.route("/bind", methods=["POST"])
    async def bind_gone(_: Request) -> HTTPResponse:
        return _reply((410, {"error": "binding needs two steps: POST bind/preview {ticket}, then POST "
                                      "bind/confirm {ticket} with Authorization: Bearer <customer token>"}))

    @blueprint.route("/bind/preview", methods=["GET", "POST"])
    async def preview(request: Request) -> HTTPResponse:
        refused = await guard(request)
        if refused:
            return refused
        body = _body(request) if request.method == "POST" else {"ticket": request.args.get("ticket")}
        return _reply(flow.preview(body.get("ticket")) if body is not None else BAD_JSON)

    @blueprint.route("/bind/confirm", methods=["POST"])
    async def confirm(request: Request) -> HTTPResponse:
        refused = await guard(request)
        if refused:
            return refused
        body = _body(request)
        if body is None:
            return _reply(BAD_JSON)
        return _reply(flow.confirm(body.get("ticket"), _bearer(request) or body.get("customer_token")))

    @blueprint.route("/bindings", methods=["GET"])
    async def bindings(request: Request) -> HTTPResponse:
        refused = await guard(request)
        return refused or _reply(flow.list(_bearer(request)))

    @blueprint.route("/bindings/<binding_id:str>", methods=["DELETE"])
    async def revoke(request: Request, binding_id: str) -> HTTPResponse:
        refused = await guard(request)
        return refused or _reply(flow.revoke(_bearer(request), binding_id[:64]))
