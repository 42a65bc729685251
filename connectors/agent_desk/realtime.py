"""Agents' live feed over socket.io, and who is online, across every replica.

A console's socket lives in the replica it connected to; who is online lives in the connector
database (desk_presence: one row per socket, refreshed every AGENT_SOCKET_RECHECK_S by the replica
that holds it), so routing and expected waits count the agents of every replica, and a replica
killed outright stops counting once its rows go stale. With REDIS_URL, python-socketio's Redis
manager carries emits and disconnects to the replica that holds a socket: a push from any replica
reaches the console, and a session that ends anywhere closes its feeds everywhere before the next push.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional

from sqlalchemy import Column, Float, String, Table, delete, select, update
from sqlalchemy.engine import Engine

from connectors.agent_desk.store import DeskStore
from connectors.store import metadata

log = logging.getLogger(__name__)
STALE_AFTER_RECHECKS = 3

presence = Table(
    "desk_presence", metadata,
    Column("sid", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("seen_at", Float, nullable=False, index=True),
)


@dataclass(frozen=True)
class AgentSocket:
    """A connected console: whose it is and which session (hashed token) it rides on."""

    username: str
    token_hash: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Presence:
    """Connected consoles of all replicas; a row not refreshed for `stale_after_s` no longer counts."""

    def __init__(self, engine: Engine, stale_after_s: float, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        presence.create(self.engine, checkfirst=True)
        self.stale_after_s = stale_after_s
        self.clock = clock

    def joined(self, sid: str, socket: AgentSocket) -> None:
        with self.engine.begin() as conn:
            conn.execute(presence.insert().values(sid=sid, username=socket.username, token_hash=socket.token_hash,
                                                  seen_at=self.clock()))

    def left(self, sid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(presence).where(presence.c.sid == sid))

    def refresh(self, sids: Iterable[str]) -> None:
        """This replica's sockets are alive; stale rows (a replica that died) are removed."""
        now, wanted = self.clock(), list(sids)
        with self.engine.begin() as conn:
            if wanted:
                conn.execute(update(presence).where(presence.c.sid.in_(wanted)).values(seen_at=now))
            conn.execute(delete(presence).where(presence.c.seen_at < now - self.stale_after_s))

    def sockets(self) -> Dict[str, AgentSocket]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(presence.c.sid, presence.c.username, presence.c.token_hash)
                                .where(presence.c.seen_at >= self.clock() - self.stale_after_s))
            return {row.sid: AgentSocket(row.username, row.token_hash) for row in rows}

    def online_agents(self) -> set:
        return {socket.username for socket in self.sockets().values()}


class AgentFeed:
    """Pushes to consoles (rooms: agents, agent:<login>, queue:<name>, supervisors) and keeps them honest:
    a console whose session ended (logout, expiry, password reset, disabled) receives nothing more."""

    def __init__(self, store: DeskStore, presence_: Presence) -> None:
        self.store = store
        self.presence = presence_
        self.local: set = set()  # socket ids held by this replica (the rows it refreshes)
        self.sio: Any = None

    async def push(self, event: str, data: Any, room: Optional[str]) -> None:
        await self.drop_dead_sockets()
        if room and room.startswith(("agent:", "queue:")):
            await self.sio.emit(event, data, to=[room, "supervisors"])  # one copy each, even for a supervisor owner
        else:
            await self.sio.emit(event, data, to=room or "agents")

    async def drop_dead_sockets(self) -> None:
        """Disconnect every console, on any replica, whose session is no longer valid."""
        sockets = self.presence.sockets()
        if not sockets or self.sio is None:
            return
        live = self.store.live_sessions(s.token_hash for s in sockets.values())
        for sid, socket in sockets.items():
            if socket.token_hash not in live:
                await self.disconnect(sid)

    async def drop_session(self, hashed_token: str) -> None:
        for sid, socket in self.presence.sockets().items():
            if socket.token_hash == hashed_token:
                await self.disconnect(sid)

    async def disconnect(self, sid: str) -> None:
        """Through the socket.io manager, so it works for a socket held by another replica."""
        self.presence.left(sid)
        self.local.discard(sid)
        if self.sio is not None:
            await self.sio.emit("session_ended", {"reason": "signed_out"}, to=sid)
            await self.sio.disconnect(sid)

    async def heartbeat(self, interval_s: float) -> None:
        """Keep this replica's presence rows fresh, and end expired sessions even on a quiet desk."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                self.presence.refresh(self.local)
                await self.drop_dead_sockets()
            except Exception:  # noqa: BLE001 - the check must survive a database hiccup
                log.exception("agent socket re-check failed")

    def attach(self, sio: Any, on_join: Callable[[], Awaitable[None]]) -> None:
        """socket.io handlers: token required to connect, every event re-checks the session."""
        self.sio = sio

        @sio.on("connect")
        async def connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
            token = auth.get("token") if isinstance(auth, dict) else None
            agent = self.store.agent_for(token)
            if agent is None:
                return False  # no anonymous access to agent events
            self.presence.joined(sid, AgentSocket(agent.username, token_hash(token)))
            self.local.add(sid)
            for room in rooms_of(agent):
                await sio.enter_room(sid, room)
            asyncio.ensure_future(on_join())
            return True

        @sio.on("*")
        async def any_event(event: str, sid: str, *_: Any) -> Dict[str, bool]:
            socket = self.presence.sockets().get(sid)
            if socket is None or self.store.agent_for_hash(socket.token_hash) is None:
                await self.disconnect(sid)
                return {"ok": False}
            return {"ok": True}

        @sio.on("disconnect")
        async def disconnect(sid: str, *_: Any) -> None:
            self.local.discard(sid)
            self.presence.left(sid)


def rooms_of(agent: Any) -> list:
    """"agents" carries only data-free notices (queue_changed); the rest carry customers' words."""
    rooms = ["agents", f"agent:{agent.username}"]
    return rooms + (["supervisors"] if agent.is_supervisor else [f"queue:{name}" for name in agent.queues])
