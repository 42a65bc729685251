"""Routing between customers' channels and human agents, inside the Rasa server process.

Channels register how to reach a customer (`register_channel`); the desk's HTTP and
socket.io handlers call the hub. While a human has a conversation, Rasa keeps logging
the customer's messages but predicts nothing (ConversationPaused); every agent message is
written to the tracker as a bot utterance with `metadata.agent` (the display name customers
see) and `metadata.agent_id` (the login, shown only to agents), so the transcript is whole.
The conversation id is opaque here ("rest:…", "webchat:…", "wechat:…"): deliveries go through
the channel recorded on the handoff.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed

from bot.banking.masking import mask_text
from connectors.agent_desk.store import Agent, DeskStore, queue_of

log = logging.getLogger(__name__)

Deliver = Callable[[str, Dict[str, Any]], Awaitable[None]]
OutputFactory = Callable[[], Optional[OutputChannel]]
CSAT_QUESTION = "本次人工服务已结束。请为本次服务打分：回复 1-5（5 分为非常满意）。"
CSAT_THANKS = "感谢您的评价！如还有其他问题，请随时告诉我。"
RECENT_MAX = 500
RECENT_WINDOW_S = 30 * 60


@dataclass
class _Channel:
    deliver: Deliver
    output: OutputFactory


@dataclass
class DeskHub:
    store: DeskStore
    channels: Dict[str, _Channel] = field(default_factory=dict)
    agent_push: Optional[Callable[[str, Any, Optional[str]], Awaitable[None]]] = None
    rasa_agent: Any = None
    assist_hook: Optional[Callable[[int, str], Awaitable[None]]] = None  # live suggestions for the agent
    csat_pending: Dict[str, float] = field(default_factory=dict)
    recent: "collections.OrderedDict[str, Dict[str, Any]]" = field(default_factory=collections.OrderedDict)

    def register_channel(self, name: str, deliver: Deliver, output: OutputFactory) -> None:
        self.channels[name] = _Channel(deliver, output)

    async def push(self, event: str, data: Any, room: Optional[str] = "agents") -> None:
        if self.agent_push:
            await self.agent_push(event, data, room)

    # --- customer side --------------------------------------------------------------------
    async def intercept(self, sender_id: str, text: str) -> Optional[str]:
        """A reply the desk gives instead of the bot (the CSAT answer), or None."""
        if sender_id not in self.csat_pending or text.strip() not in {"1", "2", "3", "4", "5"}:
            return None
        self.csat_pending.pop(sender_id, None)
        if self.store.record_csat(sender_id, int(text.strip())):
            await self.push("queue_changed", {})
            return CSAT_THANKS
        return None

    async def customer_message(self, sender_id: str, text: str, channel: str) -> None:
        """Called by channels after every customer message: forward it if a human has the chat."""
        self._remember(sender_id, channel, text)
        handoff = self.store.open_handoff_of(sender_id)
        if not handoff:
            return
        # masked like transcripts; to the owner (or, while waiting, the handoff's queue) and supervisors only
        payload = {"handoff_id": handoff["id"], "text": mask_text(text), "at": time.time()}
        await self.push("customer_message", payload, room=_room_of(handoff))
        if handoff["status"] == "active" and self.assist_hook is not None:
            asyncio.create_task(self.assist_hook(handoff["id"], text))

    def _remember(self, sender_id: str, channel: str, text: str) -> None:
        """Recent conversations, so a supervisor can see live bot chats and take one over."""
        self.recent.pop(sender_id, None)
        self.recent[sender_id] = {"sender_id": sender_id, "channel": channel, "at": time.time(),
                                  "last_text": mask_text(text)[:80]}
        while len(self.recent) > RECENT_MAX:
            self.recent.popitem(last=False)

    def live_bot_conversations(self) -> List[Dict[str, Any]]:
        cutoff = time.time() - RECENT_WINDOW_S
        with_humans = self.store.open_senders()
        return [dict(c) for c in reversed(self.recent.values())
                if c["at"] >= cutoff and c["sender_id"] not in with_humans]

    async def take_over(self, sender_id: str, supervisor: Agent) -> Optional[Dict[str, Any]]:
        """A supervisor takes a conversation from the bot: it is paused and handed to them."""
        known = self.recent.get(sender_id)
        if known is None:
            return None
        handoff = self.store.enqueue(sender_id, known["channel"], "supervisor", "high", None, {})
        if handoff["status"] == "waiting":
            self.store.accept(handoff["id"], supervisor.username)
        else:
            self.store.transfer(handoff["id"], None, supervisor.username)
        await self._append(sender_id, ConversationPaused())
        handoff = self.store.get(handoff["id"])
        await self.say(handoff, f"主管 {supervisor.display_name} 已接入本次对话。", notice=True)
        await self.push("queue_changed", {})
        return handoff

    async def customer_typing(self, sender_id: str) -> None:
        handoff = self.store.open_handoff_of(sender_id)
        if handoff and handoff["status"] == "active":
            await self.push("customer_typing", {"handoff_id": handoff["id"]}, room=_room_of(handoff))

    # --- agent side -----------------------------------------------------------------------
    async def say(self, handoff: Dict[str, Any], text: str, agent: Optional[Agent] = None,
                  notice: bool = False) -> None:
        """Send text to the customer on their channel and record it in the tracker.

        Customers' channels get the agent's display name only; the login stays in the tracker's
        `metadata.agent_id`, which only the agent console renders.
        """
        metadata = ({"agent": agent.display_name, "agent_id": agent.username} if agent
                    else {"desk_notice": True})
        await self._append(handoff["sender_id"], BotUttered(text=text, metadata=metadata))
        channel = self.channels.get(handoff["channel"])
        if channel is None:
            log.warning("no live channel %r to deliver to; message kept in the transcript", handoff["channel"])
            return
        await channel.deliver(handoff["sender_id"], {"text": text, "agent": agent.display_name if agent else None,
                                                     "notice": notice})

    async def typing(self, handoff: Dict[str, Any], agent: Agent) -> None:
        channel = self.channels.get(handoff["channel"])
        if channel:
            await channel.deliver(handoff["sender_id"], {"typing": True, "agent": agent.display_name})

    async def accepted(self, handoff: Dict[str, Any], username: str) -> None:
        name = self.store.display_name(username)
        await self.say(handoff, f"人工客服 {name} 已接入，请问有什么可以帮您？", notice=True)
        await self.push("queue_changed", {})

    async def resume_bot(self, handoff: Dict[str, Any], csat: bool) -> None:
        """ConversationResumed, then the bot greets the customer back (or asks for CSAT first)."""
        sender_id = handoff["sender_id"]
        await self._append(sender_id, ConversationResumed())
        if csat:
            self.csat_pending[sender_id] = time.time()
            await self.say(handoff, CSAT_QUESTION, notice=True)
        channel = self.channels.get(handoff["channel"])
        output = (channel.output() if channel else None) or CollectingOutputChannel()
        if self.rasa_agent is not None:
            await self.rasa_agent.execute_action(sender_id, "utter_welcome_back", output, None, None)
        # the bot now waits for the customer, exactly as after any bot turn (rules start from action_listen)
        await self._append(sender_id, ActionExecuted(ACTION_LISTEN_NAME))
        await self.push("queue_changed", {})

    async def _append(self, sender_id: str, event: Any) -> None:
        if self.rasa_agent is None:
            return
        async with self.rasa_agent.lock_store.lock(sender_id):
            tracker = await self.rasa_agent.tracker_store.get_or_create_tracker(sender_id)
            tracker.update(event)
            await self.rasa_agent.tracker_store.save(tracker)

    async def transcript(self, sender_id: str) -> List[Dict[str, Any]]:
        if self.rasa_agent is None:
            return []
        tracker = await self.rasa_agent.tracker_store.retrieve(sender_id)
        return [event.as_dict() for event in tracker.events] if tracker else []

    async def slots(self, sender_id: str) -> Dict[str, Any]:
        if self.rasa_agent is None:
            return {}
        tracker = await self.rasa_agent.tracker_store.retrieve(sender_id)
        return tracker.current_slot_values() if tracker else {}


def _room_of(handoff: Dict[str, Any]) -> str:
    """Who may read a handoff's live events: its agent, or (while waiting) its queue's agents."""
    return f"agent:{handoff['agent']}" if handoff.get("agent") else f"queue:{queue_of(handoff)}"


_HUB: Optional[DeskHub] = None


def get_hub() -> DeskHub:
    """The process's hub; channels use it even when the desk channel is not enabled."""
    global _HUB
    if _HUB is None:
        _HUB = DeskHub(DeskStore())
    return _HUB


async def watch_waiting(hub: DeskHub, max_wait_s: float, leave_message: Callable[[Dict[str, Any]], Awaitable[None]],
                        interval_s: float = 5.0) -> None:
    """No agent within max_wait_s → the waiting customer's request becomes a ticket."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            for handoff in hub.store.expired_waiting(max_wait_s):
                await leave_message(handoff)
        except Exception:  # noqa: BLE001 - the watcher must survive a database hiccup
            log.exception("waiting-queue watcher failed")
