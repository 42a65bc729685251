"""Who is calling the desk: agents log in for a session token; the action server shows a shared secret.

Failed logins back off per address and per account (throttle.py, in the database, so every replica
counts the same failures). Password checks (scrypt, ~50 ms) run off the event loop, so a login
never stalls customers' conversations.
"""
from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass
from typing import Any, Dict

from sanic.request import Request

from bot.settings import DeskSettings
from connectors.agent_desk.store import CAPABILITIES, Agent, DeskStore
from connectors.agent_desk.throttle import LoginThrottle
from connectors.agent_desk.validation import ApiError, bearer, json_body
from connectors.limits import client_address

MAX_CREDENTIAL_CHARS = 256


@dataclass
class DeskAuth:
    store: DeskStore
    settings: DeskSettings
    service_token: str
    trust_forwarded: bool
    throttle: LoginThrottle

    def agent(self, request: Request) -> Agent:
        agent = self.store.agent_for(bearer(request))
        if agent is None:
            raise ApiError(401, "log in first: POST /agent/api/login, then send Authorization: Bearer <token>")
        return agent

    def supervisor(self, request: Request) -> Agent:
        agent = self.agent(request)
        if not agent.is_supervisor:
            raise ApiError(403, "only supervisors may do this")
        return agent

    def capable(self, request: Request, capability: str, what: str) -> Agent:
        """The agent, if their role allows ``capability`` (store.CAPABILITIES); else 403 naming the roles."""
        agent = self.agent(request)
        if not agent.can(capability):
            roles = [role for role, allowed in CAPABILITIES.items() if capability in allowed]
            raise ApiError(403, f"only {' or '.join(roles)} accounts may {what}")
        return agent

    def check_service(self, request: Request) -> None:
        token = bearer(request) or ""
        if not hmac.compare_digest(token.encode(), self.service_token.encode()):
            raise ApiError(401, "service token required")

    async def login(self, request: Request) -> Dict[str, Any]:
        body = json_body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) \
                or len(username) > MAX_CREDENTIAL_CHARS or len(password) > MAX_CREDENTIAL_CHARS:
            raise ApiError(400, "send {\"username\": ..., \"password\": ...}")
        address = client_address(request, self.trust_forwarded)
        wait = self.throttle.retry_after(username, address)
        if wait:
            raise ApiError(429, f"too many failed logins; try again in {wait} seconds", {"Retry-After": str(wait)})
        token = await asyncio.get_running_loop().run_in_executor(None, self.store.login, username, password)
        if not token:
            self.throttle.failed(username, address)
            raise ApiError(401, "wrong username or password")
        self.throttle.succeeded(username, address)
        agent = self.store.agent_for(token)
        return {"token": token, "username": agent.username, "role": agent.role, "display_name": agent.display_name,
                "expires_in": int(self.settings.agent_session_ttl_s)}
