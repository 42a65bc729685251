"""The agent desk as a Rasa input channel: it puts the desk's pieces together and serves them.

Registered in credentials.yml like any channel; its routes sit at the server root:
  /agent/                    console (static page)
  /agent/api/...             agent API (Bearer session token from POST /agent/api/login)
  /agent/socket.io           live events for agents (auth.token required; the session is re-checked on
                             every event, before every push and every AGENT_SOCKET_RECHECK_S)
  /agent/internal/handoff    called by the action server (Bearer DESK_SERVICE_TOKEN)
  /assist/suggest            agent assist

The pieces: auth.py (logins, throttle), api.py (routes), routing.py (who gets a customer),
realtime.py (socket.io feed, presence), handoff.py (the hub between channels, tracker and agents),
csat.py, knowledge.py (the knowledge review loop). Their state is in the connector database, so any number of replicas can serve the desk.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint

from bot.analytics.consumer import consumer_from_settings, keep_current
from bot.settings import DeskSettings, load_desk_settings, load_limit_settings, load_settings
from connectors.agent_desk import assist
from connectors.agent_desk.analytics import SupervisorReport
from connectors.agent_desk.api import DeskApi
from connectors.agent_desk.auth import DeskAuth
from connectors.agent_desk.handoff import DeskHub, get_hub
from connectors.agent_desk.knowledge import KnowledgeApi
from connectors.agent_desk.realtime import STALE_AFTER_RECHECKS, AgentFeed, Presence
from connectors.agent_desk.routing import Router
from connectors.agent_desk.throttle import LoginThrottle
from connectors.realtime import socket_server
from knowledge_base.review.store import KnowledgeReview, review_engine

log = logging.getLogger(__name__)


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
        self.hub = hub or get_hub()
        store = self.hub.store
        store.session_ttl_s = settings.agent_session_ttl_s
        self.presence = Presence(store.engine, STALE_AFTER_RECHECKS * settings.socket_recheck_s)
        self.feed = AgentFeed(store, self.presence)
        self.router = Router(self.hub, settings, self.presence)
        throttle = LoginThrottle(settings.login_free_failures, settings.login_account_backoff_s,
                                 settings.login_account_max_backoff_s, settings.login_address_backoff_s,
                                 settings.login_address_max_backoff_s, engine=store.engine)
        self.auth = DeskAuth(store, settings, service_token or settings.service_token,
                             load_limit_settings().trust_forwarded_for, throttle)

    def url_prefix(self) -> str:
        return "/"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = socket_server("agent_desk", cors_allowed_origins=[])
        desk = SocketBlueprint(sio, "/agent/socket.io", "agent_desk", __name__)
        hub, feed = self.hub, self.feed
        feed.attach(sio, on_join=self.router.route_waiting)
        hub.agent_push = feed.push
        hub.assist_hook = self._assist_push
        settings = load_settings()
        report = SupervisorReport(consumer_from_settings(), hub.store, settings.analytics_timezone)
        knowledge = KnowledgeApi(self.auth, KnowledgeReview(review_engine(settings.kb.review_db_url)), settings.kb,
                                 report.consumer)
        DeskApi(hub, self.auth, self.router, feed, report, knowledge).register(desk)

        @desk.listener("after_server_start")
        async def started(app: Any, _loop: Any) -> None:
            hub.rasa_agent = app.ctx.agent
            app.add_task(self.router.watch_waiting())
            app.add_task(feed.heartbeat(self.settings.socket_recheck_s))
            if settings.analytics_in_process:  # else `python -m bot.analytics` runs it (bot/serve.py)
                app.add_task(keep_current(report.consumer, settings.analytics_update_s))
            app.add_task(knowledge.reconcile())

        return desk

    async def _assist_push(self, handoff_id: int, text: str) -> None:
        """Live suggestions for the agent who has the conversation; a help, never a failure."""
        try:
            result = await assist.suggest(self.hub.rasa_agent, text)
            handoff = self.hub.store.get(handoff_id)
            if handoff and handoff["agent"]:
                await self.feed.push("assist", {"handoff_id": handoff_id, **result}, f"agent:{handoff['agent']}")
        except Exception:  # noqa: BLE001
            log.exception("live assist failed")
