"""The web chat channel over real socket.io (a real Sanic server, python-socketio's client):
identity per message, namespaced conversations and rooms, origins, limits, session expiry.

The Rasa agent is replaced by a recorder that answers through the channel's own output (what
Rasa does with every bot message), so the tests see exactly what reaches Rasa and the browser.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional

import pytest
import socketio

from bot import identity
from bot.settings import WebchatSettings, load_limit_settings
from connectors.agent_desk.handoff import get_hub
from connectors.cors import CorsPolicy
from connectors.limits import ChannelLimits
from connectors.store import engine_for
from connectors.token_uses import TokenUses
from connectors.webchat.channel import (RATE_LIMITED_TEXT, TOO_MANY_SESSIONS_TEXT, WebchatInput)
from connectors.webchat.sessions import SessionBook
from tests.unit.sanic_app import rasa_like_app, serving

SECRET = "webchat-unit-test-customer-secret-" + "s" * 8
ALLOWED = "http://bank-pages.example"
WAIT_S = 5.0


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", SECRET)
    monkeypatch.setenv("CUSTOMER_TOKEN_LEEWAY_S", "0")
    monkeypatch.setenv("ASSISTANT_SECRETS_DIR", str(tmp_path / "secrets"))
    monkeypatch.setenv("CONNECTOR_DB_URL", f"sqlite:///{tmp_path / 'connectors.db'}")
    return tmp_path


class Clock:
    """Time for session expiry, moved by the test instead of slept through."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def make_channel(tmp_path, anon_ttl_s: float = 3600.0, sender_burst: int = 10, sessions_burst: int = 20,
                 max_chars: int = 2000, clock: Optional[Clock] = None) -> WebchatInput:
    engine = engine_for(f"sqlite:///{tmp_path / 'connectors.db'}")
    limit_settings = dataclasses.replace(load_limit_settings(), per_sender_burst=sender_burst,
                                         max_message_chars=max_chars)
    settings = WebchatSettings(anon_session_ttl_s=anon_ttl_s, sessions_per_address_per_hour=60.0,
                               sessions_per_address_burst=sessions_burst)
    return WebchatInput(cors=CorsPolicy.from_setting(ALLOWED, defaults=[]),
                        sessions=SessionBook(engine, anon_ttl_s=anon_ttl_s, clock=clock or time.time),
                        limits=ChannelLimits.from_settings(limit_settings), settings=settings,
                        token_uses=TokenUses(engine))


class Server:
    """The channel in a Rasa-like Sanic app; `received` holds what would reach Rasa."""

    def __init__(self, channel: WebchatInput) -> None:
        self.channel = channel
        self.received: List[Any] = []
        self.app = rasa_like_app()

        async def on_new_message(message: Any) -> None:
            self.received.append(message)
            await message.output_channel.send_text_message(message.sender_id, f"收到：{message.text}\n第二行")

        self.app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/webchat")


class Client:
    """A socket.io client like the widgets: events are queued in arrival order. (Long-polling:
    python-engineio's websocket client needs a newer aiohttp than Rasa 3.6 allows.)"""

    def __init__(self, base: str) -> None:
        self.base = base
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: "asyncio.Queue[tuple[str, Any]]" = asyncio.Queue()
        self.session_id: Optional[str] = None
        for name in ("session_confirm", "session_history", "bot_uttered", "webchat_error"):
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name: str):
        async def record(data: Any = None) -> None:
            if name == "session_confirm":
                self.session_id = data
            await self.events.put((name, data))
        return record

    async def connect(self, origin: Optional[str] = None, token: Optional[str] = None) -> "Client":
        await self.sio.connect(self.base, socketio_path="socket.io", transports=["polling"],
                               headers={"Origin": origin} if origin else {},
                               auth={"token": token} if token else None)
        return self

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.sio.disconnect(), 3)
        except asyncio.TimeoutError:  # the polling client can wait for a long-poll the server already ended
            await self.sio.eio.disconnect(abort=True)

    async def next(self, name: str, timeout: float = WAIT_S) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            event, data = await asyncio.wait_for(self.events.get(), max(0.01, deadline - time.monotonic()))
            if event == name:
                return data

    async def quiet(self, seconds: float = 0.5) -> List[tuple]:
        """Everything that arrives within `seconds` (to prove something did NOT arrive)."""
        await asyncio.sleep(seconds)
        seen = []
        while not self.events.empty():
            seen.append(self.events.get_nowait())
        return seen

    async def start_session(self, session_id: Optional[str] = None, custom: Optional[Dict] = None) -> str:
        request = {"session_id": session_id, **({"customData": custom} if custom else {})}
        await self.sio.emit("session_request", request)
        return await self.next("session_confirm")

    async def say(self, text: str, token: Optional[str] = None) -> Dict[str, Any]:
        """Send like rasa-webchat (customData on each message) and return the first bot_uttered."""
        payload: Dict[str, Any] = {"message": text, "session_id": self.session_id}
        if token is not None:
            payload["customData"] = {"customer_token": token}
        await self.sio.emit("user_uttered", payload)
        return await self.next("bot_uttered")


def run(coroutine_fn):
    """Run an async test body with a fresh server."""
    return asyncio.run(asyncio.wait_for(coroutine_fn(), 45))


def sealed_customer(message: Any) -> Optional[str]:
    return identity.customer_from_user_event(message.sender_id, {"metadata": message.metadata,
                                                                 "message_id": message.message_id})


def test_the_token_is_verified_on_every_message_and_an_expired_one_makes_it_anonymous(environment):
    async def body():
        server = Server(make_channel(environment))
        async with serving(server.app) as base:
            client = await Client(base).connect()
            session = await client.start_session()
            token = identity.issue_token("C001", ttl_s=2)
            reply = await client.say("帮我查一下余额", token=token)
            assert reply["text"].startswith("收到：帮我查一下余额")
            first = server.received[-1]
            assert first.sender_id == f"webchat:{session}" and first.input_channel == "webchat"
            assert sealed_customer(first) == "C001"
            assert token not in json.dumps(first.metadata)  # the token itself never goes to Rasa

            await asyncio.sleep(3.1)  # the token expires; the widget still sends it
            await client.say("再查一下余额", token=token)
            second = server.received[-1]
            assert second.sender_id == f"webchat:{session}"  # same conversation ...
            assert sealed_customer(second) is None  # ... but this message is anonymous
            await client.close()

    run(body)


def test_a_forged_token_or_one_signed_with_another_key_is_anonymous(environment):
    foreign = identity.issue_token("C001", secret="another-bank-secret-" + "x" * 20)

    async def body():
        server = Server(make_channel(environment))
        async with serving(server.app) as base:
            client = await Client(base).connect(token="forged.token.value")
            await client.start_session(custom={"customer_token": "also.not.valid"})
            await client.say("查余额")
            await client.say("查余额", token=foreign)
            assert [sealed_customer(m) for m in server.received] == [None, None]
            await client.close()

    run(body)


def test_socketio_auth_token_works_for_our_widget_and_is_checked_again_per_message(environment):
    token = identity.issue_token("C002")

    async def body():
        server = Server(make_channel(environment))
        async with serving(server.app) as base:
            client = await Client(base).connect(token=token)
            await client.start_session()
            await client.say("查余额")
            assert sealed_customer(server.received[-1]) == "C002"
            await client.close()

    run(body)


def test_another_identity_gets_a_new_session_and_never_hears_the_owners_conversation(environment):
    owner_token = identity.issue_token("C001")
    other_token = identity.issue_token("C002")

    async def body():
        server = Server(make_channel(environment))
        async with serving(server.app) as base:
            owner = await Client(base).connect()
            session = await owner.start_session()
            await owner.say("查余额", token=owner_token)

            # rasa-webchat after a reload: session_request carries no token, only the id
            intruder = await Client(base).connect()
            assert await intruder.start_session(session) == session  # a claim, not yet proven
            await owner.say("再查一次", token=owner_token)
            assert not [e for e in await intruder.quiet() if e[0] == "bot_uttered"]  # hears nothing

            await intruder.sio.emit("user_uttered", {"message": "查余额", "session_id": session})
            moved = await intruder.next("session_confirm")  # unproven → a new session of its own
            assert moved != session
            assert server.received[-1].sender_id == f"webchat:{moved}"
            assert sealed_customer(server.received[-1]) is None

            # another customer's token on the same connection: a new session too
            await intruder.sio.emit("user_uttered", {"message": "查余额", "session_id": moved,
                                                     "customData": {"customer_token": other_token}})
            third = await intruder.next("session_confirm")
            assert third not in (session, moved)
            assert server.received[-1].sender_id == f"webchat:{third}"
            assert sealed_customer(server.received[-1]) == "C002"

            # the owner reconnecting with the token in the first message keeps the conversation
            again = await Client(base).connect()
            assert await again.start_session(session) == session
            await again.say("还是我", token=owner_token)
            assert server.received[-1].sender_id == f"webchat:{session}"
            assert sealed_customer(server.received[-1]) == "C001"
            for client in (owner, intruder, again):
                await client.close()

    run(body)


def test_an_invalid_token_presented_at_session_request_gets_a_new_session_at_once(environment):
    owner_token = identity.issue_token("C001")

    async def body():
        server = Server(make_channel(environment))
        async with serving(server.app) as base:
            owner = await Client(base).connect(token=owner_token)
            session = await owner.start_session()
            await owner.say("查余额")
            intruder = await Client(base).connect(token="forged.token.value")
            assert await intruder.start_session(session) != session
            history = await intruder.next("session_history")
            assert history["messages"] == [] and history["authenticated"] is False
            for client in (owner, intruder):
                await client.close()

    run(body)


def test_conversation_room_reaches_all_tabs_and_agent_notices_are_plain_text(environment):
    async def body():
        server = Server(make_channel(environment))
        async with serving(server.app) as base:
            first = await Client(base).connect()
            session = await first.start_session()
            reply = await first.say("你好")
            assert reply["text"] == "收到：你好  \n第二行"  # single line break kept for markdown
            assert reply["metadata"]["markdown"] is True

            second = await Client(base).connect()
            assert await second.start_session(session) == session
            history = await second.next("session_history")
            assert history["session_id"] == session

            deliver = get_hub().channels["webchat"].deliver
            await deliver(f"webchat:{session}", {"text": "人工客服 王芳 已接入\n请问有什么可以帮您？",
                                                 "notice": True})
            for client in (first, second):
                notice = await client.next("bot_uttered")
                assert "custom" not in notice
                assert notice["text"] == "人工客服 王芳 已接入  \n请问有什么可以帮您？"
                assert notice["metadata"]["notice"] is True
            await deliver("webchat:" + "0" * 32, {"text": "别人的", "agent": "王芳"})
            assert not [e for e in await first.quiet(0.3) if e[0] == "bot_uttered"]
            for client in (first, second):
                await client.close()

    run(body)


def test_rate_limit_answers_politely_without_a_bot_turn(environment):
    async def body():
        server = Server(make_channel(environment, sender_burst=2))
        async with serving(server.app) as base:
            client = await Client(base).connect()
            await client.start_session()
            await client.say("一")
            await client.say("二")
            limited = await client.say("三")
            assert limited["text"] == RATE_LIMITED_TEXT
            assert [m.text for m in server.received] == ["一", "二"]
            await client.close()

    run(body)


def test_too_long_message_is_refused_before_anything_else(environment):
    async def body():
        server = Server(make_channel(environment, max_chars=50))
        async with serving(server.app) as base:
            client = await Client(base).connect()
            await client.start_session()
            refused = await client.say("长" * 51)
            assert "太长" in refused["text"] and "50" in refused["text"]
            assert server.received == []
            await client.close()

    run(body)


def test_an_expired_anonymous_session_is_not_resumed(environment):
    clock = Clock()

    async def body():
        server = Server(make_channel(environment, anon_ttl_s=600.0, clock=clock))
        async with serving(server.app) as base:
            client = await Client(base).connect()
            session = await client.start_session()
            await client.say("你好")
            await client.close()

            fresh = await Client(base).connect()
            assert await fresh.start_session(session) == session  # within the TTL: resumed
            await fresh.close()
            clock.now += 601
            late = await Client(base).connect()
            assert await late.start_session(session) != session
            await late.close()

    run(body)


def test_new_sessions_per_client_address_are_bounded(environment):
    async def body():
        server = Server(make_channel(environment, sessions_burst=2))
        async with serving(server.app) as base:
            client = await Client(base).connect()
            await client.start_session()
            await client.start_session()
            await client.sio.emit("session_request", {})
            refused = await client.next("bot_uttered")
            assert refused["text"] == TOO_MANY_SESSIONS_TEXT
            await client.close()

    run(body)


def _handshake(base: str, origin: Optional[str]) -> tuple[int, Optional[str]]:
    headers = {"Origin": origin} if origin else {}
    request = urllib.request.Request(f"{base}/socket.io/?EIO=4&transport=polling", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Access-Control-Allow-Origin")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Access-Control-Allow-Origin")


def test_socketio_handshake_only_from_allowed_origins(environment):
    async def body():
        server = Server(make_channel(environment))
        async with serving(server.app) as base:
            loop = asyncio.get_running_loop()
            check = lambda origin: loop.run_in_executor(None, _handshake, base, origin)  # noqa: E731
            assert await check(ALLOWED) == (200, ALLOWED)
            assert await check(base) == (200, base)  # the assistant's own page
            assert (await check(None))[0] == 200  # no browser page: no Origin to check
            for refused in ("http://evil.example", "null", ALLOWED + ".evil.example"):
                status, allow = await check(refused)
                assert status == 400 and allow is None
            with pytest.raises(socketio.exceptions.ConnectionError):
                await Client(base).connect(origin="http://evil.example")

    run(body)
