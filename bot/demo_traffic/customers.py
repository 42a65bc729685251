"""The customers' side of the channels: the Customer protocol, REST and web chat clients
(WeChat's, with its throwaway account, is in `wechat`)."""
from __future__ import annotations

import contextlib
import queue
import uuid
from typing import Any, Dict, List, Optional, Protocol

from bot.demo_traffic.errors import DemoError
from bot.demo_traffic.http_json import TURN_TIMEOUT_S, post_json
from bot.demo_traffic.replies import Reply, rest_reply, webchat_reply

QUIET_S = 1.5  # web chat has no end-of-turn event: a turn is over when nothing arrived for this long


class Customer(Protocol):
    """One conversation's client, whatever the channel: the driver needs nothing else."""

    channel: str
    hears_desk: bool  # whether agent messages and the CSAT question reach this customer

    def say(self, text: str, expect_reply: bool = True) -> Reply:
        """Sends `text`; the answer (may be empty only when `expect_reply` is False)."""

    def close(self) -> int:
        """Ends the conversation's connection; the messages that took (a WeChat unbind)."""


class RestCustomer:
    """A partner app on the REST channel: one sender id per conversation; when logged in, the
    customer token rides in every message's metadata (verified, then dropped by the channel)."""

    channel = "rest"
    hears_desk = False  # REST is request/response: agent messages cannot be pushed to it

    def __init__(self, base_url: str, sender: str, token: Optional[str]) -> None:
        self.url = f"{base_url}/webhooks/rest/webhook"
        self.sender = sender
        self.token = token

    def say(self, text: str, expect_reply: bool = True) -> Reply:
        metadata: Dict[str, Any] = {"message_id": uuid.uuid4().hex}  # a resend would be answered once
        if self.token:
            metadata["customer_token"] = self.token
        reply = rest_reply(post_json(self.url, {"sender": self.sender, "message": text, "metadata": metadata}))
        if expect_reply and not reply.texts:
            raise DemoError("REST answered no message")
        return reply

    def close(self) -> int:
        return 0


class WebchatCustomer:
    """The web chat widget's side of the socket.io protocol (long-polling, as our tests do)."""

    channel = "webchat"
    hears_desk = True

    def __init__(self, base_url: str, token: Optional[str]) -> None:
        import socketio

        self.heard: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        confirmed: "queue.Queue[str]" = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", lambda data: self.heard.put(data if isinstance(data, dict) else {}))
        self.client.on("webchat_error", lambda data: self.heard.put({"error": data}))
        self.client.on("session_confirm", confirmed.put)
        try:
            self.client.connect(base_url, socketio_path="/socket.io", transports=["polling"], wait_timeout=30,
                                auth={"token": token} if token else None)
            self.client.emit("session_request", {"session_id": None})
            self.session_id = confirmed.get(timeout=30)
        except (queue.Empty, socketio.exceptions.ConnectionError) as exc:
            self.close()
            raise DemoError(f"web chat session not opened at {base_url}/socket.io: {exc or 'no session_confirm'}") \
                from None

    def _drain(self) -> None:
        """Messages from before this turn (agent notices, the CSAT question) are not its answer."""
        while not self.heard.empty():
            self.heard.get_nowait()

    def say(self, text: str, expect_reply: bool = True) -> Reply:
        self._drain()
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})
        payloads = self._heard_until_quiet(TURN_TIMEOUT_S if expect_reply else QUIET_S)
        if expect_reply and not payloads:
            raise DemoError(f"no web chat answer within {TURN_TIMEOUT_S:.0f} s")
        return webchat_reply(payloads)

    def _heard_until_quiet(self, first_within_s: float) -> List[Dict[str, Any]]:
        """bot_uttered payloads: the first within `first_within_s`, then until none came for QUIET_S."""
        payloads: List[Dict[str, Any]] = []
        wait = first_within_s
        while True:
            try:
                payload = self.heard.get(timeout=wait)
            except queue.Empty:
                return payloads
            if "error" in payload:
                raise DemoError(f"web chat error: {payload['error']}")
            payloads.append(payload)
            wait = QUIET_S

    def close(self) -> int:
        with contextlib.suppress(Exception):  # the polling client may already be gone
            self.client.disconnect()
        return 0
