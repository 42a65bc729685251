"""The agent desk, served by the Rasa server: console page, agent API, agent socket.io, assist.

Registered in credentials.yml like any channel; its routes sit at the server root:
  /agent/                    console (static page)
  /agent/api/...             agent API (Bearer session token from POST /agent/api/login)
  /agent/socket.io           live events for agents (auth.token required; the session is re-checked on
                             every event, before every push and every AGENT_SOCKET_RECHECK_S)
  /agent/internal/handoff    called by the action server (Bearer DESK_SERVICE_TOKEN)
  /assist/suggest            agent assist
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.settings import DeskSettings, load_desk_settings, load_limit_settings
from connectors.agent_desk import assist
from connectors.agent_desk.canned import CANNED_REPLIES, DISPOSITIONS
from connectors.agent_desk.hours import within_hours
from connectors.agent_desk.hub import DeskHub, get_hub, watch_waiting
from connectors.agent_desk.store import PRIORITIES, Agent, queue_of
from connectors.agent_desk.throttle import LoginThrottle
from connectors.limits import client_address
from connectors.realtime import socket_server

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
MAX_TEXT = 2000
MAX_CREDENTIAL_CHARS = 256
PRIORITY_NAMES = {value: key for key, value in PRIORITIES.items()}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class AgentSocket:
    """A connected console: whose it is and which session (hashed token) it rides on."""

    username: str
    token_hash: str


def _json_body(request: Request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - sanic's own parse error
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "send a JSON object")
    return body


def _text_field(body: Dict[str, Any], key: str, limit: int = MAX_TEXT) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"'{key}' must be a non-empty string")
    if len(value) > limit:
        raise ApiError(400, f"'{key}' is longer than {limit} characters")
    return value.strip()


def _bearer(request: Request) -> Optional[str]:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


class AgentDeskInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "agent_desk"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "AgentDeskInput":
        """The action server's shared secret comes from credentials.yml (`service_token`)."""
        return cls(load_desk_settings(), service_token=str((credentials or {}).get("service_token") or ""))

    def __init__(self, settings: DeskSettings, hub: Optional[DeskHub] = None, service_token: str = "") -> None:
        if service_token and len(service_token) < 32:
            raise ValueError("the agent desk's service_token (DESK_SERVICE_TOKEN) must be at least 32 characters")
        self.settings = settings
        self.service_token = service_token or settings.service_token
        self.hub = hub or get_hub()
        self.hub.store.session_ttl_s = settings.agent_session_ttl_s
        self.online: Dict[str, AgentSocket] = {}  # socket id -> its agent and session
        self.throttle = LoginThrottle(settings.login_free_failures, settings.login_account_backoff_s,
                                      settings.login_account_max_backoff_s, settings.login_address_backoff_s,
                                      settings.login_address_max_backoff_s)
        self.trust_forwarded = load_limit_settings().trust_forwarded_for
        self.sio: Optional[AsyncServer] = None

    def online_agents(self) -> set:
        return {s.username for s in self.online.values()}

    async def drop_dead_sockets(self) -> None:
        """Disconnect every console whose session ended (logout, expiry, password reset, disabled)."""
        if not self.online or self.sio is None:
            return
        live = self.hub.store.live_sessions(s.token_hash for s in self.online.values())
        for sid, socket in list(self.online.items()):
            if socket.token_hash not in live:
                await self._disconnect(sid)

    async def drop_session(self, token_hash: str) -> None:
        for sid, socket in list(self.online.items()):
            if socket.token_hash == token_hash:
                await self._disconnect(sid)

    async def _disconnect(self, sid: str) -> None:
        self.online.pop(sid, None)
        if self.sio is not None:
            await self.sio.emit("session_ended", {"reason": "signed_out"}, to=sid)
            await self.sio.disconnect(sid)

    async def recheck_sockets(self, interval_s: float) -> None:
        """Expired sessions end even on a quiet desk."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.drop_dead_sockets()
            except Exception:  # noqa: BLE001 - the check must survive a database hiccup
                log.exception("agent socket re-check failed")

    def url_prefix(self) -> str:
        return "/"

    # --- helpers --------------------------------------------------------------------------
    def _agent(self, request: Request) -> Agent:
        agent = self.hub.store.agent_for(_bearer(request))
        if agent is None:
            raise ApiError(401, "log in first: POST /agent/api/login, then send Authorization: Bearer <token>")
        return agent

    def _handoff(self, handoff_id: int, agent: Agent, must_own: bool = True) -> Dict[str, Any]:
        """The handoff; with must_own, only its agent (or a supervisor) may touch it."""
        handoff = self.hub.store.get(handoff_id)
        if handoff is None:
            raise ApiError(404, f"no handoff {handoff_id}")
        if must_own and handoff["agent"] != agent.username and not agent.is_supervisor:
            raise ApiError(403, "this conversation is not assigned to you")
        return handoff

    def _summary(self, handoff: Dict[str, Any]) -> Dict[str, Any]:
        now = time.time()
        return {"id": handoff["id"], "channel": handoff["channel"], "reason": handoff["reason"],
                "priority": PRIORITY_NAMES.get(handoff["priority"], "normal"), "status": handoff["status"],
                "queue": queue_of(handoff), "agent": handoff["agent"], "waiting_s": round(now - handoff["created_at"]),
                "authenticated": bool(handoff["customer_id"])}

    def expected_wait_s(self, position: int) -> float:
        agents_online = max(len(self.online_agents()), 1)
        return round(position * self.settings.avg_handle_s / agents_online)

    async def route_waiting(self) -> None:
        """Least-busy routing (DESK_ROUTING=least_busy): hand waiting customers to online agents with room."""
        if self.settings.routing != "least_busy":
            return
        for handoff in self.hub.store.waiting():
            agent = self.hub.store.least_busy(self.online_agents(), self.settings.max_active_per_agent,
                                              queue_of(handoff))
            if agent is None:
                continue  # nobody of this queue has room; the next handoff may be another queue's
            if self.hub.store.accept(handoff["id"], agent):
                await self.hub.push("assigned", {"handoff_id": handoff["id"]}, f"agent:{agent}")
                await self.hub.accepted(handoff, agent)

    async def _leave_message(self, handoff: Dict[str, Any]) -> None:
        """Nobody took the conversation in time: it becomes a ticket and the bot resumes."""
        from bot.banking import load_backend

        if not self.hub.store.end(handoff["id"], "ticket", disposition="no_agent_in_time"):
            return
        reference = None
        try:
            ticket = load_backend().create_ticket("callback", f"等待人工超时：{handoff['reason']}",
                                                  handoff["customer_id"], PRIORITY_NAMES.get(handoff["priority"],
                                                                                            "normal"))
            reference = ticket.reference
        except Exception:  # noqa: BLE001 - the customer still gets an honest answer
            log.exception("could not create the leave-a-message ticket")
        text = (f"抱歉，目前暂无空闲的人工客服。已为您登记留言（编号 {reference}），我们会尽快联系您。"
                if reference else "抱歉，目前暂无空闲的人工客服，请稍后再试或拨打客服热线 95xxx。")
        await self.hub.say(handoff, text, notice=True)
        await self.hub.resume_bot(handoff, csat=False)

    # --- blueprint ------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = socket_server("agent_desk", cors_allowed_origins=[])
        self.sio = sio
        desk = SocketBlueprint(sio, "/agent/socket.io", "agent_desk", __name__)
        hub = self.hub

        async def push(event: str, data: Any, room: Optional[str]) -> None:
            """Consoles whose session ended are dropped first: they receive nothing more."""
            await self.drop_dead_sockets()
            if room and room.startswith(("agent:", "queue:")):
                await sio.emit(event, data, to=[room, "supervisors"])  # one copy each, even for a supervisor owner
            else:
                await sio.emit(event, data, to=room or "agents")

        hub.agent_push = push

        async def assist_push(handoff_id: int, text: str) -> None:
            try:
                result = await assist.suggest(hub.rasa_agent, text)
                handoff = hub.store.get(handoff_id)
                if handoff and handoff["agent"]:
                    await push("assist", {"handoff_id": handoff_id, **result}, f"agent:{handoff['agent']}")
            except Exception:  # noqa: BLE001 - suggestions are a help, never a failure
                log.exception("live assist failed")

        hub.assist_hook = assist_push

        @desk.listener("after_server_start")
        async def started(app: Any, _loop: Any) -> None:
            hub.rasa_agent = app.ctx.agent
            app.add_task(watch_waiting(hub, self.settings.max_wait_s, self._leave_message))
            app.add_task(self.recheck_sockets(self.settings.socket_recheck_s))

        def route(path: str, methods: list[str]):
            def wrap(handler: Callable[..., Awaitable[HTTPResponse]]):
                async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                    try:
                        return await handler(request, *args, **kwargs)
                    except ApiError as exc:
                        return response.json({"error": exc.message}, status=exc.status, headers=exc.headers)
                desk.add_route(guarded, path, methods=methods, name=handler.__name__)
                return handler
            return wrap

        @route("/agent/", ["GET"])
        async def console(_: Request) -> HTTPResponse:
            return await response.file(STATIC_DIR / "console.html")

        @route("/agent/<name:(console\\.js|console\\.css)>", ["GET"])
        async def console_asset(_: Request, name: str) -> HTTPResponse:
            return await response.file(STATIC_DIR / name)

        @route("/agent/api/login", ["POST"])
        async def login(request: Request) -> HTTPResponse:
            body = _json_body(request)
            username, password = body.get("username"), body.get("password")
            if not isinstance(username, str) or not isinstance(password, str) \
                    or len(username) > MAX_CREDENTIAL_CHARS or len(password) > MAX_CREDENTIAL_CHARS:
                raise ApiError(400, "send {\"username\": ..., \"password\": ...}")
            address = client_address(request, self.trust_forwarded)
            wait = self.throttle.retry_after(username, address)
            if wait:
                raise ApiError(429, f"too many failed logins; try again in {wait} seconds",
                               {"Retry-After": str(wait)})
            # scrypt (~50 ms) off the event loop, so logins never stall customers' conversations
            token = await asyncio.get_running_loop().run_in_executor(None, hub.store.login, username, password)
            if not token:
                self.throttle.failed(username, address)
                raise ApiError(401, "wrong username or password")
            self.throttle.succeeded(username, address)
            agent = hub.store.agent_for(token)
            return response.json({"token": token, "username": agent.username, "role": agent.role,
                                  "display_name": agent.display_name,
                                  "expires_in": int(self.settings.agent_session_ttl_s)})

        @route("/agent/api/logout", ["POST"])
        async def logout(request: Request) -> HTTPResponse:
            self._agent(request)
            token = _bearer(request)
            hub.store.logout(token)
            await self.drop_session(hashlib.sha256(token.encode("utf-8")).hexdigest())  # its live feed ends now
            return response.json({"ok": True})

        @route("/agent/api/me", ["GET"])
        async def me(request: Request) -> HTTPResponse:
            agent = self._agent(request)
            return response.json({"username": agent.username, "role": agent.role, "display_name": agent.display_name,
                                  "queues": list(agent.queues), "canned": CANNED_REPLIES,
                                  "dispositions": DISPOSITIONS})

        @route("/agent/api/queue", ["GET"])
        async def queue(request: Request) -> HTTPResponse:
            agent = self._agent(request)
            waiting = [{**self._summary(h), "position": i} for i, h in enumerate(hub.store.waiting(), start=1)
                       if agent.serves(queue_of(h))]  # previews only of the agent's own queues
            mine = [self._summary(h) for h in hub.store.active(agent.username)]
            result = {"waiting": waiting, "mine": mine}
            if agent.is_supervisor:
                result["live"] = [self._summary(h) for h in hub.store.active()]
                result["bots"] = [{"sender_id": c["sender_id"], "channel": c["channel"], "last_text": c["last_text"],
                                   "idle_s": round(time.time() - c["at"])} for c in hub.live_bot_conversations()]
                result["load"] = hub.store.load_by_agent()
            return response.json(result)

        @route("/agent/api/handoffs/<handoff_id:int>", ["GET"])
        async def detail(request: Request, handoff_id: int) -> HTTPResponse:
            agent = self._agent(request)
            handoff = self._handoff(handoff_id, agent)  # only the assigned agent (or a supervisor) reads it
            events = await hub.transcript(handoff["sender_id"])
            slots = await hub.slots(handoff["sender_id"])
            return response.json({"handoff": self._summary(handoff),
                                  "transcript": assist.masked_transcript(events),
                                  "context": assist.customer_context(events, slots, handoff["customer_id"]),
                                  "notes": hub.store.notes_of(handoff_id)})

        @route("/agent/api/handoffs/<handoff_id:int>/accept", ["POST"])
        async def accept(request: Request, handoff_id: int) -> HTTPResponse:
            agent = self._agent(request)
            handoff = self._handoff(handoff_id, agent, must_own=False)
            if not agent.serves(queue_of(handoff)):
                raise ApiError(403, "this conversation waits in a queue you do not serve")
            if not hub.store.accept(handoff_id, agent.username):
                raise ApiError(409, "already taken by another agent or no longer waiting")
            await hub.accepted(handoff, agent.username)
            return response.json({"accepted": True})

        @route("/agent/api/handoffs/<handoff_id:int>/messages", ["POST"])
        async def send(request: Request, handoff_id: int) -> HTTPResponse:
            agent = self._agent(request)
            handoff = self._handoff(handoff_id, agent)
            if handoff["status"] != "active":
                raise ApiError(409, "the conversation is not with an agent any more")
            text = _text_field(_json_body(request), "text")
            await hub.say(handoff, text, agent=agent)
            return response.json({"sent": True})

        @route("/agent/api/handoffs/<handoff_id:int>/typing", ["POST"])
        async def typing(request: Request, handoff_id: int) -> HTTPResponse:
            agent = self._agent(request)
            await hub.typing(self._handoff(handoff_id, agent), agent)
            return response.json({"ok": True})

        @route("/agent/api/handoffs/<handoff_id:int>/notes", ["POST"])
        async def note(request: Request, handoff_id: int) -> HTTPResponse:
            agent = self._agent(request)
            self._handoff(handoff_id, agent)
            hub.store.add_note(handoff_id, agent.username, _text_field(_json_body(request), "text"))
            return response.json({"notes": hub.store.notes_of(handoff_id)})

        @route("/agent/api/handoffs/<handoff_id:int>/transfer", ["POST"])
        async def transfer(request: Request, handoff_id: int) -> HTTPResponse:
            agent = self._agent(request)
            handoff = self._handoff(handoff_id, agent)
            target = _text_field(_json_body(request), "to", 64)
            owner = None if agent.is_supervisor else agent.username
            if not hub.store.transfer(handoff_id, owner, target):
                raise ApiError(409, f"cannot transfer to {target!r}: unknown agent or conversation not active")
            await hub.say(handoff, f"已为您转接人工客服 {hub.store.display_name(target)}。", notice=True)
            await push("queue_changed", {}, "agents")
            return response.json({"transferred": True})

        @route("/agent/api/handoffs/<handoff_id:int>/takeover", ["POST"])
        async def takeover(request: Request, handoff_id: int) -> HTTPResponse:
            agent = self._agent(request)
            if not agent.is_supervisor:
                raise ApiError(403, "only supervisors can take over conversations")
            handoff = self._handoff(handoff_id, agent, must_own=False)
            if handoff["status"] == "waiting":
                hub.store.accept(handoff_id, agent.username)
            elif not hub.store.transfer(handoff_id, None, agent.username):
                raise ApiError(409, "the conversation is not open")
            await hub.say(handoff, f"主管 {agent.display_name} 已接入本次对话。", notice=True)
            await push("queue_changed", {}, "agents")
            return response.json({"taken_over": True})

        @route("/agent/api/takeover", ["POST"])
        async def take_over_bot(request: Request) -> HTTPResponse:
            """A supervisor takes a live bot conversation (one listed under "bots" in the queue)."""
            agent = self._agent(request)
            if not agent.is_supervisor:
                raise ApiError(403, "only supervisors can take over conversations")
            handoff = await hub.take_over(_text_field(_json_body(request), "sender_id", 128), agent)
            if handoff is None:
                raise ApiError(404, "no recent conversation with that sender_id")
            return response.json({"taken_over": True, "handoff_id": handoff["id"]})

        async def finish(request: Request, handoff_id: int, closing: bool) -> HTTPResponse:
            agent = self._agent(request)
            handoff = self._handoff(handoff_id, agent)
            disposition = None
            if closing:
                disposition = _json_body(request).get("disposition")
                if disposition not in DISPOSITIONS:
                    raise ApiError(400, f"disposition must be one of {', '.join(DISPOSITIONS)}")
            owner = None if agent.is_supervisor else agent.username
            if not hub.store.end(handoff_id, "closed" if closing else "returned", disposition, owner):
                raise ApiError(409, "the conversation is not open")
            if not closing:
                await hub.say(handoff, "人工服务已结束，接下来由智能客服继续为您服务。", notice=True)
            await hub.resume_bot(handoff, csat=closing)
            await self.route_waiting()
            return response.json({"ended": True})

        @route("/agent/api/handoffs/<handoff_id:int>/return", ["POST"])
        async def return_to_bot(request: Request, handoff_id: int) -> HTTPResponse:
            return await finish(request, handoff_id, closing=False)

        @route("/agent/api/handoffs/<handoff_id:int>/close", ["POST"])
        async def close(request: Request, handoff_id: int) -> HTTPResponse:
            return await finish(request, handoff_id, closing=True)

        @route("/agent/internal/handoff", ["POST"])
        async def internal_handoff(request: Request) -> HTTPResponse:
            token = _bearer(request) or ""
            if not hmac.compare_digest(token.encode(), self.service_token.encode()):
                raise ApiError(401, "service token required")
            body = _json_body(request)
            sender_id = _text_field(body, "sender_id", 128)
            if not within_hours(self.settings.service_hours, self.settings.timezone):
                return response.json({"status": "leave_message", "reason": "outside_hours",
                                      "hours": self.settings.service_hours})
            handoff = hub.store.enqueue(sender_id, str(body.get("channel") or "rest"),
                                        str(body.get("reason") or "request_human")[:64],
                                        str(body.get("priority") or "normal"), body.get("customer_id"), {})
            position = hub.store.position(handoff["id"])
            await push("queue_changed", {}, "agents")
            # routed after the bot's "queued" reply has been sent, so the customer reads them in order
            asyncio.get_running_loop().call_later(0.5, lambda: asyncio.ensure_future(self.route_waiting()))
            return response.json({"status": "queued", "handoff_id": handoff["id"], "position": position,
                                  "expected_wait_s": self.expected_wait_s(position)})

        @route("/assist/suggest", ["POST"])
        async def suggest(request: Request) -> HTTPResponse:
            self._agent(request)
            text = _text_field(_json_body(request), "text", 20_000)
            if hub.rasa_agent is None:
                raise ApiError(503, "the assistant is still starting")
            return response.json(await assist.suggest(hub.rasa_agent, text))

        @sio.on("connect")
        async def connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
            token = auth.get("token") if isinstance(auth, dict) else None
            agent = hub.store.agent_for(token)
            if agent is None:
                return False  # no anonymous access to agent events
            self.online[sid] = AgentSocket(agent.username, hashlib.sha256(token.encode("utf-8")).hexdigest())
            await sio.enter_room(sid, "agents")  # data-free notices only (queue_changed)
            await sio.enter_room(sid, f"agent:{agent.username}")
            if agent.is_supervisor:
                await sio.enter_room(sid, "supervisors")
            else:
                for name in agent.queues:
                    await sio.enter_room(sid, f"queue:{name}")
            asyncio.ensure_future(self.route_waiting())
            return True

        @sio.on("*")
        async def any_event(event: str, sid: str, *_: Any) -> Dict[str, bool]:
            """Every event from a console re-checks its session first."""
            socket = self.online.get(sid)
            if socket is None or hub.store.agent_for_hash(socket.token_hash) is None:
                await self._disconnect(sid)
                return {"ok": False}
            return {"ok": True}

        @sio.on("disconnect")
        async def disconnect(sid: str, *_: Any) -> None:
            self.online.pop(sid, None)

        return desk
