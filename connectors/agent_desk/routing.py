"""Who gets a waiting customer, how long the wait will be, and what happens when nobody comes.

Safe with several replicas: every replica may route and watch the queue, because taking a waiting
handoff (`DeskStore.accept`) and ending it (`DeskStore.end`) are single conditional UPDATEs: one
replica wins, the others see zero rows changed and do nothing.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional

from bot.settings import DeskSettings
from connectors.agent_desk.handoff import DeskHub
from connectors.agent_desk.hours import within_hours
from connectors.agent_desk.realtime import Presence
from connectors.agent_desk.store import PRIORITIES, queue_of

log = logging.getLogger(__name__)
PRIORITY_NAMES = {value: key for key, value in PRIORITIES.items()}


class Router:
    def __init__(self, hub: DeskHub, settings: DeskSettings, presence: Presence) -> None:
        self.hub = hub
        self.settings = settings
        self.presence = presence

    def expected_wait_s(self, position: int) -> float:
        agents_online = max(len(self.presence.online_agents()), 1)
        return round(position * self.settings.avg_handle_s / agents_online)

    async def enqueue(self, sender_id: str, channel: str, reason: str, priority: str,
                      customer_id: Optional[str]) -> Dict[str, Any]:
        """The action server asks for a human: queued (with position and expected wait), or leave a message."""
        if not within_hours(self.settings.service_hours, self.settings.timezone):
            return {"status": "leave_message", "reason": "outside_hours", "hours": self.settings.service_hours}
        handoff = self.hub.store.enqueue(sender_id, channel, reason, priority, customer_id, {})
        position = self.hub.store.position(handoff["id"])
        await self.hub.push("queue_changed", {}, "agents")
        # routed after the bot's "queued" reply has been sent, so the customer reads them in order
        asyncio.get_running_loop().call_later(0.5, lambda: asyncio.ensure_future(self.route_waiting()))
        return {"status": "queued", "handoff_id": handoff["id"], "position": position,
                "expected_wait_s": self.expected_wait_s(position)}

    async def route_waiting(self) -> None:
        """Least-busy routing (DESK_ROUTING=least_busy): hand waiting customers to online agents with room."""
        if self.settings.routing != "least_busy":
            return
        online = self.presence.online_agents()
        for handoff in self.hub.store.waiting():
            agent = self.hub.store.least_busy(online, self.settings.max_active_per_agent, queue_of(handoff))
            if agent is None:
                continue  # nobody of this queue has room; the next handoff may be another queue's
            if self.hub.store.accept(handoff["id"], agent):
                await self.hub.push("assigned", {"handoff_id": handoff["id"]}, f"agent:{agent}")
                await self.hub.accepted(handoff, agent)

    async def leave_message(self, handoff: Dict[str, Any]) -> None:
        """Nobody took the conversation in time: it becomes a ticket and the bot resumes."""
        if not self.hub.store.end(handoff["id"], "ticket", disposition="no_agent_in_time"):
            return  # another replica (or an agent) got there first
        reference = self._ticket(handoff)
        text = (f"抱歉，目前暂无空闲的人工客服。已为您登记留言（编号 {reference}），我们会尽快联系您。"
                if reference else "抱歉，目前暂无空闲的人工客服，请稍后再试或拨打客服热线 95xxx。")
        await self.hub.say(handoff, text, notice=True)
        await self.hub.resume_bot(handoff, csat=False)

    @staticmethod
    def _ticket(handoff: Dict[str, Any]) -> Optional[str]:
        from bot.banking import load_backend  # the bank's systems, only when a ticket is needed

        try:
            ticket = load_backend().create_ticket("callback", f"等待人工超时：{handoff['reason']}",
                                                  handoff["customer_id"],
                                                  PRIORITY_NAMES.get(handoff["priority"], "normal"))
            return ticket.reference
        except Exception:  # noqa: BLE001 - the customer still gets an honest answer
            log.exception("could not create the leave-a-message ticket")
            return None

    async def watch_waiting(self, interval_s: float = 5.0) -> None:
        """No agent within DESK_MAX_WAIT_S → the waiting customer's request becomes a ticket."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                for handoff in self.hub.store.expired_waiting(self.settings.max_wait_s):
                    await self.leave_message(handoff)
                self.hub.csat.purge_lapsed()
            except Exception:  # noqa: BLE001 - the watcher must survive a database hiccup
                log.exception("waiting-queue watcher failed")
