"""Handoffs: what passes between a customer's channel, the bot's tracker and the human agent.

Channels register how to reach a customer (`register_channel`, a `CustomerChannel`); the desk's
API and socket.io handlers call the hub. The hub holds no state of its own: handoffs, open CSAT
questions and live conversations are in the connector database, so any replica can serve any step.

While a human has a conversation, Rasa keeps logging the customer's messages but predicts nothing (ConversationPaused); every agent message is
written to the tracker as a bot utterance with `metadata.agent` (the display name customers
see) and `metadata.agent_id` (the login, shown only to agents), so the transcript is whole.
The conversation id is opaque here ("rest:…", "webchat:…", "wechat:…"): deliveries go through
the channel recorded on the handoff.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed

from bot.banking.masking import mask_text
from bot.session_rollover import conversation_events
from connectors.agent_desk.csat import CSAT_QUESTION, CSAT_THANKS, CsatSurvey
from connectors.agent_desk.live import LiveConversations
from connectors.agent_desk.store import Agent, DeskStore, queue_of

log = logging.getLogger(__name__)

Deliver = Callable[[str, Dict[str, Any]], Awaitable[None]]
OutputFactory = Callable[[], Optional[OutputChannel]]


@dataclass
class CustomerChannel:
    """How the desk reaches a customer: `deliver` an agent's message or typing notice, or an `output`
    channel for the bot's own reply when the conversation goes back to it."""

    deliver: Deliver
    output: OutputFactory


@dataclass
class DeskHub:
    store: DeskStore
    channels: Dict[str, CustomerChannel] = field(default_factory=dict)
    agent_push: Optional[Callable[[str, Any, Optional[str]], Awaitable[None]]] = None
    rasa_agent: Any = None
    assist_hook: Optional[Callable[[int, str], Awaitable[None]]] = None  # live suggestions for the agent
    csat: Optional[CsatSurvey] = None
    live: Optional[LiveConversations] = None

    def __post_init__(self) -> None:
        self.csat = self.csat or CsatSurvey(self.store)
        self.live = self.live or LiveConversations(self.store.engine)

    def register_channel(self, name: str, deliver: Deliver, output: OutputFactory) -> None:
        self.channels[name] = CustomerChannel(deliver, output)

    async def push(self, event: str, data: Any, room: Optional[str] = "agents") -> None:
        if self.agent_push:
            await self.agent_push(event, data, room)

    # --- customer side --------------------------------------------------------------------
    async def intercept(self, sender_id: str, text: str) -> Optional[str]:
        """A reply the desk gives instead of the bot (the CSAT answer), or None."""
        if not self.csat.answer(sender_id, text):
            return None
        await self.push("queue_changed", {})
        return CSAT_THANKS

    async def customer_message(self, sender_id: str, text: str, channel: str) -> None:
        """Called by channels after every customer message: forward it if a human has the chat."""
        self.live.seen(sender_id, channel, text)  # so a supervisor can see live bot chats and take one over
        handoff = self.store.open_handoff_of(sender_id)
        if not handoff:
            return
        # masked like transcripts; to the owner (or, while waiting, the handoff's queue) and supervisors only
        payload = {"handoff_id": handoff["id"], "text": mask_text(text), "at": time.time()}
        await self.push("customer_message", payload, room=_room_of(handoff))
        if handoff["status"] == "active" and self.assist_hook is not None:
            asyncio.create_task(self.assist_hook(handoff["id"], text))

    def live_bot_conversations(self) -> List[Dict[str, Any]]:
        return self.live.recent(excluding=self.store.open_senders())

    async def take_over(self, sender_id: str, supervisor: Agent) -> Optional[Dict[str, Any]]:
        """A supervisor takes a conversation from the bot: it is paused and handed to them."""
        known = self.live.get(sender_id)
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
                  notice: bool = False, locked: bool = False) -> None:
        """Send text to the customer on their channel and record it in the tracker.

        Customers' channels get the agent's display name only; the login stays in the tracker's
        `metadata.agent_id`, which only the agent console renders. ``locked``: the caller holds the
        conversation's lock.
        """
        metadata = ({"agent": agent.display_name, "agent_id": agent.username} if agent
                    else {"desk_notice": True})
        await self._append(handoff["sender_id"], BotUttered(text=text, metadata=metadata), locked)
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
        """ConversationResumed, then the bot greets the customer back (or asks for CSAT first).

        All of it under the conversation's lock: a customer who answers the welcome-back at once
        must find the bot listening (rules start from action_listen), not half-way through."""
        sender_id = handoff["sender_id"]
        async with self._lock(sender_id):
            await self._append(sender_id, ConversationResumed(), locked=True)
            if csat:
                self.csat.ask(sender_id)
                await self.say(handoff, CSAT_QUESTION, notice=True, locked=True)
            if self.rasa_agent is not None:
                channel = self.channels.get(handoff["channel"])
                output = (channel.output() if channel else None) or CollectingOutputChannel()
                await self.rasa_agent.execute_action(sender_id, "utter_welcome_back", output, None, None)
            # the bot now waits for the customer, exactly as after any bot turn
            await self._append(sender_id, ActionExecuted(ACTION_LISTEN_NAME), locked=True)
        await self.push("queue_changed", {})

    def _lock(self, sender_id: str) -> Any:
        """The conversation's lock in Rasa's lock store; nothing to hold without a Rasa agent."""
        if self.rasa_agent is None:
            return contextlib.nullcontext()
        return self.rasa_agent.lock_store.lock(sender_id)

    async def _append(self, sender_id: str, event: Any, locked: bool = False) -> None:
        """Add an event to the stored conversation; under its lock unless the caller holds it."""
        if self.rasa_agent is None:
            return
        if not locked:
            async with self._lock(sender_id):
                return await self._append(sender_id, event, locked=True)
        tracker = await self.rasa_agent.tracker_store.get_or_create_tracker(sender_id)
        tracker.update(event)
        await self.rasa_agent.tracker_store.save(tracker)

    async def transcript(self, sender_id: str) -> List[Dict[str, Any]]:
        if self.rasa_agent is None:
            return []
        return await conversation_events(self.rasa_agent.tracker_store, sender_id)

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
