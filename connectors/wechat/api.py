"""Client for WeChat's customer-service message API (replies sent after the 5-second window).

The access_token is cached and refreshed before it expires and whenever WeChat says it is
invalid (40001, 40014, 42001). Fetching a token invalidates the previous one (after a short
grace), so replicas must not fetch their own: with a shared cache (`SharedAccessToken`, SQL) they
use one token, and a replica whose token was rejected takes a newer one from the cache if another
replica already fetched it, instead of fetching again and invalidating that replica's token.
45015 means the customer's 48-hour window has closed: nothing we send will arrive, so it is
logged and dropped instead of retried.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Optional, Protocol

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
class AccessToken:
    value: str
    expires_at: float  # wall clock, comparable across replicas


class TokenCache(Protocol):
    def current(self) -> Optional[AccessToken]: ...

    def store(self, token: AccessToken) -> None: ...


class ProcessTokenCache:
    """One process's token: enough for a single server."""

    def __init__(self) -> None:
        self.token: Optional[AccessToken] = None

    def current(self) -> Optional[AccessToken]:
        return self.token

    def store(self, token: AccessToken) -> None:
        self.token = token


class CustomerServiceClient:
    def __init__(self, api_base: str, app_id: str, app_secret: str, tokens: Optional[TokenCache] = None) -> None:
        self.api_base = api_base.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.tokens = tokens or ProcessTokenCache()
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

    async def access_token(self, rejected: Optional[str] = None) -> str:
        """The cached token unless it expired or is the one WeChat just `rejected`; else a new one."""
        async with self._lock:
            cached = self.tokens.current()
            if cached and time.time() < cached.expires_at and cached.value != rejected:
                return cached.value
            payload = await self._request("GET", "/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret})
            lifetime = float(payload.get("expires_in", 7200))
            token = AccessToken(str(payload["access_token"]),
                                time.time() + max(lifetime - REFRESH_MARGIN_S, lifetime / 2))
            self.tokens.store(token)
            return token.value

    async def send_text(self, openid: str, text: str) -> bool:
        """True when WeChat accepted the message; False when it can never be delivered."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        token: Optional[str] = None
        for attempt in range(2):
            token = await self.access_token(rejected=token)
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
