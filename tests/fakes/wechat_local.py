"""The real WeChat channel served in-process on a real port, for fast tests of its gates.

Only the Rasa agent is replaced: `on_new_message` records each UserMessage the channel hands
over and answers with a fixed text, so a test sees exactly what would have reached the bot.
Everything else is real: Sanic, HTTP, crypto, SQL (a temp SQLite file), the desk hub.
"""
from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass, field
from typing import List, Optional

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from tests.conftest import free_port

BOT_ANSWER = "机器人的回答"


@dataclass
class LocalChannel:
    channel: object  # a connectors.wechat.channel.WeChatInput
    received: List[UserMessage] = field(default_factory=list)
    port: int = 0
    _loop: Optional[asyncio.AbstractEventLoop] = None
    _server: object = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/wechat"

    async def _on_new_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_text_message(message.sender_id, BOT_ANSWER)

    def start(self, port: int = 0) -> "LocalChannel":
        """Serve on `port` (0: a free one; a restarted channel can take its predecessor's port)."""
        Sanic.test_mode = True  # several apps per process
        app = Sanic(f"wechat_test_{uuid.uuid4().hex[:8]}")
        app.blueprint(self.channel.blueprint(self._on_new_message), url_prefix="/webhooks/wechat")
        self.port = port or free_port()
        ready, failure = threading.Event(), []

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._server = self._loop.run_until_complete(app.create_server(
                    host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False))
                self._loop.run_until_complete(self._server.startup())
            except Exception as exc:  # noqa: BLE001 - reported to the test thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(20)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop and self._server:
            async def shutdown() -> None:
                self._server.close()
                await self._server.wait_closed()

            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._server = None

    def texts(self) -> List[str]:
        return [m.text for m in self.received]
