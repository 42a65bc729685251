"""The agent desk's HTTP API: console page, login, queue, handoff actions, internal handoff, assist.

Every handler validates its input (validation.py) and answers {"error": …} with a status that says
what to fix; the work itself is done by the hub (handoff.py), the router (routing.py) and the feed
(realtime.py), so this module is only the mapping from URL to step.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import REPO_ROOT
from connectors.agent_desk import assist
from connectors.agent_desk.analytics import SupervisorReport, report_query
from connectors.agent_desk.auth import DeskAuth
from connectors.agent_desk.canned import CANNED_REPLIES, DISPOSITIONS
from connectors.agent_desk.handoff import DeskHub
from connectors.agent_desk.knowledge import KnowledgeApi
from connectors.agent_desk.realtime import AgentFeed, token_hash
from connectors.agent_desk.routing import PRIORITY_NAMES, Router
from connectors.agent_desk.store import Agent, queue_of
from connectors.agent_desk.validation import ApiError, bearer, json_body, text_field

STATIC_DIR = Path(__file__).parent / "static"
# The dashboard's charts: vendored from npm by scripts/vendor_widget.sh (its version pinned there).
ECHARTS_FILE = REPO_ROOT / "models" / "webchat_vendor" / "echarts-5.6.0" / "echarts.min.js"
Handler = Callable[..., Awaitable[HTTPResponse]]


def summary(handoff: Dict[str, Any]) -> Dict[str, Any]:
    """What a console lists about a handoff (no customer words)."""
    return {"id": handoff["id"], "channel": handoff["channel"], "reason": handoff["reason"],
            "priority": PRIORITY_NAMES.get(handoff["priority"], "normal"), "status": handoff["status"],
            "queue": queue_of(handoff), "agent": handoff["agent"],
            "waiting_s": round(time.time() - handoff["created_at"]), "authenticated": bool(handoff["customer_id"])}


class DeskApi:
    def __init__(self, hub: DeskHub, auth: DeskAuth, router: Router, feed: AgentFeed,
                 report: SupervisorReport, knowledge: KnowledgeApi) -> None:
        self.hub, self.auth, self.router, self.feed, self.report = hub, auth, router, feed, report
        self.knowledge = knowledge

    def register(self, blueprint: Blueprint) -> None:
        routes: List[tuple] = [
            ("/agent/", ["GET"], self.console),
            ("/agent/<name:(console\\.js|console\\.css|dashboard\\.js|knowledge\\.js)>", ["GET"],
             self.console_asset),
            ("/agent/api/login", ["POST"], self.login),
            ("/agent/api/logout", ["POST"], self.logout),
            ("/agent/api/me", ["GET"], self.me),
            ("/agent/api/queue", ["GET"], self.queue),
            ("/agent/api/handoffs/<handoff_id:int>", ["GET"], self.detail),
            ("/agent/api/handoffs/<handoff_id:int>/accept", ["POST"], self.accept),
            ("/agent/api/handoffs/<handoff_id:int>/messages", ["POST"], self.send),
            ("/agent/api/handoffs/<handoff_id:int>/typing", ["POST"], self.typing),
            ("/agent/api/handoffs/<handoff_id:int>/notes", ["POST"], self.note),
            ("/agent/api/handoffs/<handoff_id:int>/transfer", ["POST"], self.transfer),
            ("/agent/api/handoffs/<handoff_id:int>/takeover", ["POST"], self.takeover),
            ("/agent/api/handoffs/<handoff_id:int>/return", ["POST"], self.return_to_bot),
            ("/agent/api/handoffs/<handoff_id:int>/close", ["POST"], self.close),
            ("/agent/api/takeover", ["POST"], self.take_over_bot),
            ("/agent/api/analytics/summary", ["GET"], self.analytics_summary),
            ("/agent/vendor/echarts.min.js", ["GET"], self.echarts),
            ("/agent/internal/handoff", ["POST"], self.internal_handoff),
            ("/assist/suggest", ["POST"], self.suggest),
        ]
        for path, methods, handler in routes + self.knowledge.routes():
            blueprint.add_route(_guarded(handler), path, methods=methods, name=handler.__name__)

    def _handoff(self, handoff_id: int, agent: Agent, must_own: bool = True) -> Dict[str, Any]:
        """The handoff; with must_own, only its agent (or a supervisor) may touch it."""
        handoff = self.hub.store.get(handoff_id)
        if handoff is None:
            raise ApiError(404, f"no handoff {handoff_id}")
        if must_own and handoff["agent"] != agent.username and not agent.is_supervisor:
            raise ApiError(403, "this conversation is not assigned to you")
        return handoff

    # --- console and session ----------------------------------------------------------------
    async def console(self, _: Request) -> HTTPResponse:
        return await response.file(STATIC_DIR / "console.html")

    async def console_asset(self, _: Request, name: str) -> HTTPResponse:
        return await response.file(STATIC_DIR / name)

    async def login(self, request: Request) -> HTTPResponse:
        return response.json(await self.auth.login(request))

    async def logout(self, request: Request) -> HTTPResponse:
        self.auth.agent(request)
        token = bearer(request)
        self.hub.store.logout(token)
        await self.feed.drop_session(token_hash(token))  # its live feeds end now, on every replica
        return response.json({"ok": True})

    async def me(self, request: Request) -> HTTPResponse:
        agent = self.auth.agent(request)
        return response.json({"username": agent.username, "role": agent.role, "display_name": agent.display_name,
                              "queues": list(agent.queues), "canned": CANNED_REPLIES, "dispositions": DISPOSITIONS})

    async def queue(self, request: Request) -> HTTPResponse:
        agent = self.auth.agent(request)
        store = self.hub.store
        waiting = [{**summary(h), "position": i} for i, h in enumerate(store.waiting(), start=1)
                   if agent.serves(queue_of(h))]  # previews only of the agent's own queues
        result: Dict[str, Any] = {"waiting": waiting, "mine": [summary(h) for h in store.active(agent.username)]}
        if agent.is_supervisor:
            result["live"] = [summary(h) for h in store.active()]
            result["bots"] = [{"sender_id": c["sender_id"], "channel": c["channel"], "last_text": c["last_text"],
                               "idle_s": round(time.time() - c["at"])} for c in self.hub.live_bot_conversations()]
            result["load"] = store.load_by_agent()
        return response.json(result)

    # --- one handoff ----------------------------------------------------------------------
    async def detail(self, request: Request, handoff_id: int) -> HTTPResponse:
        agent = self.auth.agent(request)
        handoff = self._handoff(handoff_id, agent)  # only the assigned agent (or a supervisor) reads it
        events = await self.hub.transcript(handoff["sender_id"])
        slots = await self.hub.slots(handoff["sender_id"])
        return response.json({"handoff": summary(handoff), "transcript": assist.masked_transcript(events),
                              "context": assist.customer_context(events, slots, handoff["customer_id"]),
                              "notes": self.hub.store.notes_of(handoff_id)})

    async def accept(self, request: Request, handoff_id: int) -> HTTPResponse:
        agent = self.auth.agent(request)
        handoff = self._handoff(handoff_id, agent, must_own=False)
        if not agent.serves(queue_of(handoff)):
            raise ApiError(403, "this conversation waits in a queue you do not serve")
        if not self.hub.store.accept(handoff_id, agent.username):
            raise ApiError(409, "already taken by another agent or no longer waiting")
        await self.hub.accepted(handoff, agent.username)
        return response.json({"accepted": True})

    async def send(self, request: Request, handoff_id: int) -> HTTPResponse:
        agent = self.auth.agent(request)
        handoff = self._handoff(handoff_id, agent)
        if handoff["status"] != "active":
            raise ApiError(409, "the conversation is not with an agent any more")
        await self.hub.say(handoff, text_field(json_body(request), "text"), agent=agent)
        return response.json({"sent": True})

    async def typing(self, request: Request, handoff_id: int) -> HTTPResponse:
        agent = self.auth.agent(request)
        await self.hub.typing(self._handoff(handoff_id, agent), agent)
        return response.json({"ok": True})

    async def note(self, request: Request, handoff_id: int) -> HTTPResponse:
        agent = self.auth.agent(request)
        self._handoff(handoff_id, agent)
        self.hub.store.add_note(handoff_id, agent.username, text_field(json_body(request), "text"))
        return response.json({"notes": self.hub.store.notes_of(handoff_id)})

    async def transfer(self, request: Request, handoff_id: int) -> HTTPResponse:
        agent = self.auth.agent(request)
        handoff = self._handoff(handoff_id, agent)
        target = text_field(json_body(request), "to", 64)
        owner = None if agent.is_supervisor else agent.username
        if not self.hub.store.transfer(handoff_id, owner, target):
            raise ApiError(409, f"cannot transfer to {target!r}: unknown agent or conversation not active")
        await self.hub.say(handoff, f"已为您转接人工客服 {self.hub.store.display_name(target)}。", notice=True)
        await self.hub.push("queue_changed", {}, "agents")
        return response.json({"transferred": True})

    async def takeover(self, request: Request, handoff_id: int) -> HTTPResponse:
        agent = self.auth.supervisor(request)
        handoff = self._handoff(handoff_id, agent, must_own=False)
        if handoff["status"] == "waiting":
            self.hub.store.accept(handoff_id, agent.username)
        elif not self.hub.store.transfer(handoff_id, None, agent.username):
            raise ApiError(409, "the conversation is not open")
        await self.hub.say(handoff, f"主管 {agent.display_name} 已接入本次对话。", notice=True)
        await self.hub.push("queue_changed", {}, "agents")
        return response.json({"taken_over": True})

    async def take_over_bot(self, request: Request) -> HTTPResponse:
        """A supervisor takes a live bot conversation (one listed under "bots" in the queue)."""
        agent = self.auth.supervisor(request)
        handoff = await self.hub.take_over(text_field(json_body(request), "sender_id", 128), agent)
        if handoff is None:
            raise ApiError(404, "no recent conversation with that sender_id")
        return response.json({"taken_over": True, "handoff_id": handoff["id"]})

    async def return_to_bot(self, request: Request, handoff_id: int) -> HTTPResponse:
        return await self._finish(request, handoff_id, closing=False)

    async def close(self, request: Request, handoff_id: int) -> HTTPResponse:
        return await self._finish(request, handoff_id, closing=True)

    async def _finish(self, request: Request, handoff_id: int, closing: bool) -> HTTPResponse:
        agent = self.auth.agent(request)
        handoff = self._handoff(handoff_id, agent)
        disposition = None
        if closing:
            disposition = json_body(request).get("disposition")
            if disposition not in DISPOSITIONS:
                raise ApiError(400, f"disposition must be one of {', '.join(DISPOSITIONS)}")
        owner = None if agent.is_supervisor else agent.username
        if not self.hub.store.end(handoff_id, "closed" if closing else "returned", disposition, owner):
            raise ApiError(409, "the conversation is not open")
        if not closing:
            await self.hub.say(handoff, "人工服务已结束，接下来由智能客服继续为您服务。", notice=True)
        await self.hub.resume_bot(handoff, csat=closing)
        await self.router.route_waiting()
        return response.json({"ended": True})

    async def analytics_summary(self, request: Request) -> HTTPResponse:
        """Supervisors' measures for ?from=YYYY-MM-DD&to=YYYY-MM-DD[&channel=webchat|wechat|rest]."""
        self.auth.supervisor(request)
        day_from, day_to, channel = report_query(request.args)
        return response.json(await asyncio.to_thread(self.report.report, day_from, day_to, channel))

    @staticmethod
    async def echarts(_: Request) -> HTTPResponse:
        """The dashboard's charting library, vendored from npm at build time (never from a CDN)."""
        if not ECHARTS_FILE.is_file():
            raise ApiError(503, "dashboard charts not built: run `make widget` (part of `make setup`)")
        return await response.file(ECHARTS_FILE)

    # --- callers other than agents ----------------------------------------------------------
    async def internal_handoff(self, request: Request) -> HTTPResponse:
        self.auth.check_service(request)
        body = json_body(request)
        return response.json(await self.router.enqueue(
            text_field(body, "sender_id", 128), str(body.get("channel") or "rest"),
            str(body.get("reason") or "request_human")[:64], str(body.get("priority") or "normal"),
            body.get("customer_id")))

    async def suggest(self, request: Request) -> HTTPResponse:
        self.auth.agent(request)
        text = text_field(json_body(request), "text", 20_000)
        if self.hub.rasa_agent is None:
            raise ApiError(503, "the assistant is still starting")
        return response.json(await assist.suggest(self.hub.rasa_agent, text))


def _guarded(handler: Handler) -> Handler:
    async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except ApiError as exc:
            return response.json({"error": exc.message}, status=exc.status, headers=exc.headers)
    return guarded
