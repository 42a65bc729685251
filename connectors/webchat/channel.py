"""The in-app web chat: a socket.io channel speaking the rasa-webchat protocol, plus our widget.

Protocol (the stock npm `rasa-webchat` widget and ours): `session_request` {session_id?,
customData?} → `session_confirm` session_id (+ `session_history` for a resumed session);
`user_uttered` {message, customData?, session_id} → `bot_uttered` {text | quick_replies |
attachment, metadata?}. A `session_confirm` with another id may come at any time (identity
change); both widgets adopt it.

Identity is decided for EVERY message: the customer token in that message's
`customData.customer_token` (what rasa-webchat sends), else the one the connection presented
(socket.io `auth.token`, or `customData.customer_token` of session_request), verified again
each time, so a message after the token expired is anonymous. The token stays in this process;
Rasa gets a seal (connectors/messages.py). The conversation id is `webchat:<session_id>`, which
is also the socket.io room, so Rasa's output and the agent desk reach every tab of it.

Sessions are owned by the identity of their first message (connectors/webchat/sessions.py): a
client presenting another identity gets a new session, never someone else's; an anonymous
session expires. A client that asks to resume a customer's session without presenting any token
(rasa-webchat sends it only with messages) gets a pending claim: it is not in the room and sees no
history until a message proves the same customer; any other message moves it to a new session.

Browser origins are limited by `cors_allowed_origins` (connectors/cors.py); message size, message
rate and new sessions per client address are limited (connectors/limits.py).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.identity import MAX_TOKEN_CHARS, TOKEN_METADATA_KEY, verify_customer_token
from bot.idempotent_turns import CLIENT_MESSAGE_ID, client_message_id, invalid_client_message_id
from bot.settings import REPO_ROOT, WebchatSettings, load_limit_settings, load_webchat_settings
from bot.session_rollover import conversation_events
from connectors.agent_desk.handoff import get_hub
from connectors.cors import CorsPolicy
from connectors.limits import ChannelLimits, client_address, shared_buckets
from connectors.messages import customer_message, namespaced
from connectors.outages import STORE_OUTAGES, UNAVAILABLE_TEXT
from connectors.realtime import socket_server
from connectors.token_uses import TokenUses
from connectors.webchat.history import visible_turns
from connectors.webchat.output import WebchatOutput, for_widget
from connectors.webchat.sessions import SessionBook, SessionRecord, new_session_id

log = logging.getLogger(__name__)

CHANNEL = "webchat"
STATIC_DIR = Path(__file__).parent / "static"
VENDOR_FILE = REPO_ROOT / "models" / "webchat_vendor" / "socket.io.min.js"
TOO_LONG_TEXT = "您的消息太长了（最多 {limit} 个字），请分几条发送。"
RATE_LIMITED_TEXT = "您发送消息太频繁了，请稍等片刻再试。"
TOO_MANY_SESSIONS_TEXT = "当前网络新建会话过多，请稍后再试。"


def _offered_token(data: Any) -> tuple[bool, Optional[str]]:
    """(present, token) of `customData.customer_token` in a session_request or user_uttered."""
    custom = data.get("customData") if isinstance(data, dict) else None
    if not isinstance(custom, dict) or TOKEN_METADATA_KEY not in custom:
        return False, None
    token = custom[TOKEN_METADATA_KEY]
    return True, token if isinstance(token, str) and len(token) <= MAX_TOKEN_CHARS else None


class WebchatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "WebchatInput":
        credentials = credentials or {}
        return cls(socketio_path=credentials.get("socketio_path", "/socket.io"),
                   cors=CorsPolicy.from_setting(credentials.get("cors_allowed_origins")))

    def __init__(self, socketio_path: str = "/socket.io", cors: Optional[CorsPolicy] = None,
                 sessions: Optional[SessionBook] = None, limits: Optional[ChannelLimits] = None,
                 settings: Optional[WebchatSettings] = None, token_uses: Optional[TokenUses] = None) -> None:
        self.settings = settings or load_webchat_settings()
        self.socketio_path = socketio_path
        self.cors = cors or CorsPolicy.from_setting(None)
        self.sessions = sessions or SessionBook(anon_ttl_s=self.settings.anon_session_ttl_s)
        self.limits = limits or ChannelLimits.from_settings(scope=CHANNEL)
        self.new_sessions = shared_buckets(f"{CHANNEL}:new_sessions",
                                           self.settings.sessions_per_address_per_hour / 60.0,
                                           self.settings.sessions_per_address_burst)
        self.token_uses = token_uses or TokenUses(self.sessions.engine)
        self.trust_forwarded = load_limit_settings().trust_forwarded_for
        self.sio: Optional[AsyncServer] = None
        self.app: Any = None

    def get_output_channel(self) -> Optional[OutputChannel]:
        return WebchatOutput(self.sio, "bot_uttered") if self.sio else None

    # --- identity and sessions ------------------------------------------------------------
    async def _history(self, session_id: str) -> list:
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        if agent is None or agent.tracker_store is None:
            return []
        return visible_turns(await conversation_events(agent.tracker_store, namespaced(CHANNEL, session_id)))

    # --- HTTP + socket.io -----------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = socket_server(CHANNEL, cors_allowed_origins=self.cors.socketio_check())
        self.sio = sio
        webchat = SocketBlueprint(sio, self.socketio_path, CHANNEL, __name__)
        output = WebchatOutput(sio, "bot_uttered")
        hub = get_hub()

        async def deliver(conversation: str, payload: Dict[str, Any]) -> None:
            """From the agent desk: agent text, notices (plain text: rasa-webchat drops `custom`), typing."""
            if payload.get("typing"):
                await sio.emit("agent_typing", {"agent": payload.get("agent")}, room=conversation)
                return
            metadata = {"notice": True} if payload.get("notice") else {"agent": payload.get("agent")}
            await sio.emit("bot_uttered", for_widget({"text": payload["text"], "metadata": metadata}),
                           room=conversation)

        hub.register_channel(self.name(), deliver, lambda: output)

        async def say(sid: str, text: str) -> None:
            """A polite answer to this connection only, without a bot turn."""
            await sio.emit("bot_uttered", for_widget({"text": text}), room=sid)

        async def open_session(sid: str, state: Dict[str, Any], record: Optional[SessionRecord],
                               status: str, customer: Optional[str]) -> None:
            """Point this connection at `record`'s session (None: a new one) and tell the client."""
            if record is None:
                if not self.new_sessions.allow(state["address"]):
                    raise PermissionError("too many new sessions from this address")
                record, status = SessionRecord(new_session_id(), customer, None), "new"
            if state.get("session_id") and state["session_id"] != record.session_id:
                await sio.leave_room(sid, namespaced(CHANNEL, state["session_id"]))
                state["previous"] = state["session_id"]
            state.update(session_id=record.session_id, status=status, owner=record.owner,
                         created_at=record.created_at)
            if status != "pending":  # a pending claim hears nothing until it proves ownership
                await sio.enter_room(sid, namespaced(CHANNEL, record.session_id))
            await sio.save_session(sid, state)
            await sio.emit("session_confirm", record.session_id, room=sid)

        def expired(state: Dict[str, Any]) -> bool:
            created = state.get("created_at")
            return created is not None and self.sessions.expired(SessionRecord(state["session_id"],
                                                                               state.get("owner"), created))

        async def settle_owner(sid: str, state: Dict[str, Any], customer: Optional[str]) -> None:
            """Make sure the connection's session may carry a message from `customer`: a session
            is created by its first message and owned by that message's identity; another
            identity (or an unproven resume, or an expired anonymous session) gets a new one."""
            status, owner = state["status"], state.get("owner")
            if status == "pending" and customer is not None and customer == owner:
                state["status"] = "active"
                await sio.enter_room(sid, namespaced(CHANNEL, state["session_id"]))
            elif status == "active" and (customer is None or customer == owner) and not expired(state):
                pass  # the owner, or an anonymous message (e.g. the token expired) in the owner's session
            elif status != "new":
                log.info("webchat: identity differs from the session's (or it expired); new session")
                await open_session(sid, state, None, "new", customer)
            if state["status"] == "new":
                record = self.sessions.create(state["session_id"], customer)
                state.update(status="active", owner=customer, created_at=record.created_at)
            await sio.save_session(sid, state)

        @webchat.listener("after_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            self.app = app

        @webchat.route("/", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return await response.file(STATIC_DIR / "index.html")

        @webchat.route("/health", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "widget_vendor": VENDOR_FILE.is_file()})

        @webchat.route("/<name:(widget\\.js|widget\\.css)>", methods=["GET"])
        async def asset(_: Request, name: str) -> HTTPResponse:
            return await response.file(STATIC_DIR / name)

        @webchat.route("/vendor/socket.io.min.js", methods=["GET"])
        async def vendor(_: Request) -> HTTPResponse:
            if not VENDOR_FILE.is_file():
                return response.text("widget assets not built: run `make setup`", status=503)
            return await response.file(VENDOR_FILE)

        @sio.on("connect")
        async def connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
            request = environ.get("sanic.request")
            address = client_address(request, self.trust_forwarded) if request is not None else "-"
            token = auth.get("token") if isinstance(auth, dict) else None
            valid = isinstance(token, str) and len(token) <= MAX_TOKEN_CHARS
            await sio.save_session(sid, {"token": token if valid else None, "address": address})
            return True

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            state = await sio.get_session(sid)
            present, offered = _offered_token(data)
            if present:
                state["token"] = offered
            verified = verify_customer_token(state.get("token"))
            customer = verified.customer_id if verified else None
            record = self.sessions.find(data.get("session_id"))
            resumed = False
            try:
                if record is not None and not self.sessions.expired(record) and record.owner == customer:
                    await open_session(sid, state, record, "active", customer)
                    resumed = True
                elif record is not None and not self.sessions.expired(record) and not state.get("token"):
                    # rasa-webchat after a reload: its token only comes with the first message, so
                    # the claim waits for it (an invalid token presented now is another identity)
                    await open_session(sid, state, record, "pending", customer)
                else:
                    await open_session(sid, state, None, "new", customer)
            except PermissionError:
                await say(sid, TOO_MANY_SESSIONS_TEXT)
                return
            session_id = state["session_id"]
            history = await self._history(session_id) if resumed else []
            await sio.emit("session_history", {"session_id": session_id, "authenticated": bool(customer),
                                               "messages": history}, room=sid)

        @sio.on("user_typing")
        async def user_typing(sid: str, _data: Any = None) -> None:
            state = await sio.get_session(sid)
            if state.get("session_id") and state.get("status") == "active":
                await hub.customer_typing(namespaced(CHANNEL, state["session_id"]))

        @sio.on("user_uttered")
        async def user_uttered(sid: str, data: Any) -> None:
            state = await sio.get_session(sid)
            message = data.get("message") if isinstance(data, dict) else None
            if self.limits.too_long(message):  # the raw text, before anything else looks at it
                await say(sid, TOO_LONG_TEXT.format(limit=self.limits.settings.max_message_chars))
                return
            problem = _problem(data, state)
            if problem:
                await sio.emit("webchat_error", {"message": problem}, room=sid)
                return
            if not self.limits.allow(namespaced(CHANNEL, state["session_id"]), state.get("address")):
                await say(sid, RATE_LIMITED_TEXT)
                return
            present, offered = _offered_token(data)
            token = offered if present else state.get("token")
            claimed = verify_customer_token(token)
            try:
                await settle_owner(sid, state, claimed.customer_id if claimed else None)
            except PermissionError:
                await say(sid, TOO_MANY_SESSIONS_TEXT)
                return
            conversation = namespaced(CHANNEL, state["session_id"])
            # a token already used in another conversation names nobody here (connectors/token_uses.py)
            verified = self.token_uses.for_conversation(claimed, conversation)
            text = message.strip()
            desk_reply = await hub.intercept(conversation, text)
            if desk_reply:
                await sio.emit("bot_uttered", for_widget({"text": desk_reply}), room=conversation)
                return
            client_id = client_message_id(data.get("customData"))  # a resend after reconnecting: one turn
            try:
                await on_new_message(customer_message(text, output, CHANNEL, state["session_id"], verified,
                                                      metadata={CLIENT_MESSAGE_ID: client_id} if client_id else None))
            except STORE_OUTAGES as exc:
                log.error("web chat turn of %s not run: conversation store unavailable (%s)", conversation,
                          type(exc).__name__)
                await say(sid, UNAVAILABLE_TEXT)
                return
            await hub.customer_message(conversation, text, self.name())

        return webchat


def _problem(data: Any, state: Dict[str, Any]) -> Optional[str]:
    if not state.get("session_id"):
        return "no session: send session_request first"
    if not isinstance(data, dict) or not isinstance(data.get("message"), str) or not data["message"].strip():
        return "user_uttered needs {\"message\": non-empty text, \"session_id\": ...}"
    if data.get("session_id") not in (None, state["session_id"], state.get("previous")):
        return "session_id does not belong to this connection"
    custom = data.get("customData")
    return invalid_client_message_id(custom) if isinstance(custom, dict) else None
