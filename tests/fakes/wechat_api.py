"""A local stand-in for WeChat's API server (api.weixin.qq.com), speaking real HTTP.

Records every customer-service message it receives; can be told to reject the next send
with an errcode (40001 stale token, 45015 window closed) to exercise the client's handling.
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import List, Optional

from aiohttp import web


@dataclass
class FakeWeChatApi:
    app_id: str
    app_secret: str
    port: int = 0
    token_lifetime_s: int = 7200
    sent: List[dict] = field(default_factory=list)
    tokens_issued: int = 0
    fail_next: List[int] = field(default_factory=list)
    _current_token: Optional[str] = None
    _loop: Optional[asyncio.AbstractEventLoop] = None
    _runner: Optional[web.AppRunner] = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _token(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        self.tokens_issued += 1
        self._current_token = f"token-{self.tokens_issued}"
        return web.json_response({"access_token": self._current_token, "expires_in": self.token_lifetime_s})

    async def _send(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") != self._current_token:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        if self.fail_next:
            code = self.fail_next.pop(0)
            return web.json_response({"errcode": code, "errmsg": "injected"})
        body = await request.json()
        self.sent.append({**body, "received_at": time.time()})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def start(self) -> "FakeWeChatApi":
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_get("/cgi-bin/token", self._token)
            app.router.add_post("/cgi-bin/message/custom/send", self._send)
            self._runner = web.AppRunner(app)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop and self._runner:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)

    def texts_to(self, openid: str) -> List[str]:
        return [m["text"]["content"] for m in self.sent if m.get("touser") == openid]

    def wait_for(self, openid: str, count: int = 1, timeout_s: float = 30.0) -> List[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.texts_to(openid)) >= count:
                return self.texts_to(openid)
            time.sleep(0.05)
        return self.texts_to(openid)
