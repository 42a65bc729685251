"""Client for WeChat's customer-service message API (replies sent after the 5-second window).

The access_token is cached and refreshed before it expires and whenever WeChat says it is
invalid (40001, 40014, 42001). 45015 means the customer's 48-hour window has closed: nothing
we send will arrive, so it is logged and dropped instead of retried.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Optional

import aiohttp

log = logging.getLogger(__name__)

TOKEN_INVALID = {40001, 40014, 42001}
WINDOW_CLOSED = 45015
REFRESH_MARGIN_S = 300
TIMEOUT = aiohttp.ClientTimeout(total=10)


class WeChatApiError(RuntimeError):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode


@dataclass
class _Token:
    value: str
    expires_at: float


class CustomerServiceClient:
    def __init__(self, api_base: str, app_id: str, app_secret: str) -> None:
        self.api_base = api_base.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self._token: Optional[_Token] = None
        self._lock = asyncio.Lock()

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            async with session.request(method, f"{self.api_base}{path}", **kwargs) as response:
                response.raise_for_status()
                payload = await response.json(content_type=None)
        if not isinstance(payload, dict):
            raise WeChatApiError(-1, "response is not a JSON object")
        if payload.get("errcode"):
            raise WeChatApiError(int(payload["errcode"]), str(payload.get("errmsg", "")))
        return payload

    async def access_token(self, force_refresh: bool = False) -> str:
        async with self._lock:
            if force_refresh or not self._token or time.monotonic() >= self._token.expires_at:
                payload = await self._request("GET", "/cgi-bin/token", params={
                    "grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret})
                lifetime = float(payload.get("expires_in", 7200))
                self._token = _Token(str(payload["access_token"]),
                                     time.monotonic() + max(lifetime - REFRESH_MARGIN_S, lifetime / 2))
            return self._token.value

    async def send_text(self, openid: str, text: str) -> bool:
        """True when WeChat accepted the message; False when it can never be delivered."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        for attempt in range(2):
            token = await self.access_token(force_refresh=attempt > 0)
            try:
                await self._request("POST", "/cgi-bin/message/custom/send",
                                    params={"access_token": token}, json=body)
                return True
            except WeChatApiError as exc:
                if exc.errcode == WINDOW_CLOSED:
                    log.warning("WeChat reply dropped: the customer's 48-hour service window is closed")
                    return False
                if exc.errcode not in TOKEN_INVALID or attempt:
                    raise
                log.info("WeChat access_token rejected (%s); refreshing once", exc.errcode)
        return False
