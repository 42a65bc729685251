"""The in-app web chat: a socket.io channel speaking the rasa-webchat protocol, plus the widget.

Protocol (compatible with rasa-webchat clients): `session_request` {session_id?} →
`session_confirm` session_id (+ `session_history` for a resumed session); `user_uttered`
{message, session_id} → `bot_uttered` {text | buttons | quick_replies | attachment}.

Identity: the host app passes its signed customer token (socket.io `auth.token`, or
`customData.customer_token` in session_request). A session remembers who owned it; a
client that presents another identity gets a fresh session, never someone else's.
"""
from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.identity import TOKEN_METADATA_KEY, verify_token
from bot.settings import REPO_ROOT
from connectors.agent_desk.hub import get_hub
from connectors.store import WebchatSessions
from connectors.webchat.history import visible_turns

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_FILE = REPO_ROOT / "models" / "webchat_vendor" / "socket.io.min.js"
SESSION_ID = re.compile(r"[0-9a-f]{32}")
MAX_MESSAGE_CHARS = 2000


class WebchatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "WebchatInput":
        credentials = credentials or {}
        return cls(socketio_path=credentials.get("socketio_path", "/socket.io"))

    def __init__(self, socketio_path: str = "/socket.io", sessions: Optional[WebchatSessions] = None) -> None:
        self.socketio_path = socketio_path
        self.sessions = sessions or WebchatSessions()
        self.sio: Optional[AsyncServer] = None
        self.app: Any = None

    def get_output_channel(self) -> Optional[OutputChannel]:
        return SocketIOOutput(self.sio, "bot_uttered") if self.sio else None

    # --- sessions -------------------------------------------------------------------------
    def _claim_session(self, requested: Any, customer: Optional[str]) -> tuple[str, bool]:
        """(session_id, resumed): the requested session if this identity owns it, else a new one."""
        if isinstance(requested, str) and SESSION_ID.fullmatch(requested):
            known, owner = self.sessions.owner(requested)
            if known and owner == customer:
                return requested, True
            if known:
                log.info("webchat: session requested by a different identity; issuing a new one")
        session_id = uuid.uuid4().hex
        self.sessions.create(session_id, customer)
        return session_id, False

    async def _history(self, session_id: str) -> list:
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        if agent is None or agent.tracker_store is None:
            return []
        tracker = await agent.tracker_store.retrieve(session_id)
        return visible_turns(event.as_dict() for event in tracker.events) if tracker else []

    # --- HTTP + socket.io -----------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        self.sio = sio
        webchat = SocketBlueprint(sio, self.socketio_path, "webchat", __name__)

        async def deliver(session_id: str, payload: Dict[str, Any]) -> None:
            """Messages from the agent desk: agent text, notices, typing."""
            if payload.get("typing"):
                await sio.emit("agent_typing", {"agent": payload.get("agent")}, room=session_id)
            elif payload.get("notice"):
                await sio.emit("bot_uttered", {"text": payload["text"], "custom": {"type": "notice",
                                                                                  "text": payload["text"]}},
                               room=session_id)
            else:
                await sio.emit("bot_uttered", {"text": payload["text"], "metadata": {"agent": payload.get("agent")}},
                               room=session_id)

        hub = get_hub()
        hub.register_channel(self.name(), deliver, lambda: SocketIOOutput(sio, "bot_uttered"))

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
            token = auth.get("token") if isinstance(auth, dict) else None
            await sio.save_session(sid, {"token": token if verify_token(token) else None})
            return True

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            state = await sio.get_session(sid)
            custom = data.get("customData") if isinstance(data.get("customData"), dict) else {}
            offered = custom.get(TOKEN_METADATA_KEY)
            if verify_token(offered):
                state["token"] = offered
            customer = verify_token(state.get("token"))
            session_id, resumed = self._claim_session(data.get("session_id"), customer)
            state["session_id"] = session_id
            await sio.save_session(sid, state)
            await sio.enter_room(sid, session_id)  # a coroutine in python-socketio 5.x (Rasa 3.6 forgets the await)
            await sio.emit("session_confirm", session_id, room=sid)
            await sio.emit("session_history", {"session_id": session_id, "authenticated": bool(customer),
                                               "messages": await self._history(session_id) if resumed else []},
                           room=sid)

        @sio.on("user_typing")
        async def user_typing(sid: str, _data: Any = None) -> None:
            state = await sio.get_session(sid)
            if state.get("session_id"):
                await hub.customer_typing(state["session_id"])

        @sio.on("user_uttered")
        async def user_uttered(sid: str, data: Any) -> None:
            state = await sio.get_session(sid)
            problem = _problem(data, state.get("session_id"))
            if problem:
                await sio.emit("webchat_error", {"message": problem}, room=sid)
                return
            text, session_id = data["message"].strip(), state["session_id"]
            desk_reply = await hub.intercept(session_id, text)
            if desk_reply:
                await sio.emit("bot_uttered", {"text": desk_reply}, room=session_id)
                return
            metadata = {TOKEN_METADATA_KEY: state["token"]} if state.get("token") else {}
            await on_new_message(UserMessage(text, SocketIOOutput(sio, "bot_uttered"), session_id,
                                             input_channel=self.name(), metadata=metadata))
            await hub.customer_message(session_id, text, self.name())

        return webchat


def _problem(data: Any, session_id: Optional[str]) -> Optional[str]:
    if not session_id:
        return "no session: send session_request first"
    if not isinstance(data, dict) or not isinstance(data.get("message"), str) or not data["message"].strip():
        return "user_uttered needs {\"message\": non-empty text, \"session_id\": ...}"
    if data.get("session_id") not in (None, session_id):
        return "session_id does not belong to this connection"
    if len(data["message"]) > MAX_MESSAGE_CHARS:
        return f"message longer than {MAX_MESSAGE_CHARS} characters"
    return None
