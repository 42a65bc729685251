"""The agent desk's tables: agents, their sessions, handoffs (the queue) and internal notes.

Same database as the other connectors (CONNECTOR_DB_URL): SQLite by default, PostgreSQL by URL,
so a restart loses no waiting customer. Conversation text itself lives in Rasa's tracker store.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence

from sqlalchemy import Column, Float, ForeignKey, Integer, String, Table, Text, and_, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from connectors.agent_desk.passwords import DUMMY_HASH, hash_password, verify_password
from connectors.store import default_engine, metadata

log = logging.getLogger(__name__)
ROLES = ("agent", "editor", "approver", "supervisor")
# What each role may do beyond serving its queues. Knowledge changes follow maker-checker: anyone may
# draft (an agent proposes a good reply of theirs), editors also work the review queue, approvers (and
# supervisors) decide drafts — never their own (knowledge_base/review/store.py) — and roll back.
CAPABILITIES = {
    "agent": frozenset({"draft"}),
    "editor": frozenset({"draft", "edit"}),
    "approver": frozenset({"draft", "edit", "approve"}),
    "supervisor": frozenset({"draft", "edit", "approve", "report"}),
}
PRIORITIES = {"urgent": 0, "high": 1, "normal": 2}
OPEN_STATES = ("waiting", "active")
# Waiting-queue previews go only to agents of the handoff's queue (supervisors see every queue).
QUEUES = ("general", "complaint", "fraud")
DEFAULT_QUEUES = ("general",)
DISPLAY_PREFIX = "客服"

agents = Table(
    "desk_agents", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("display_name", String(64)),  # what customers see; never the login name
    Column("queues", String(200)),  # comma-separated QUEUES this agent serves
    Column("disabled", Integer, nullable=False, default=0, server_default="0"),
)
# Columns added after the first release: created on an existing database by DeskStore.
_ADDED_COLUMNS = {"display_name": "VARCHAR(64)", "queues": "VARCHAR(200)", "disabled": "INTEGER NOT NULL DEFAULT 0"}
agent_sessions = Table(
    "desk_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), ForeignKey("desk_agents.username"), nullable=False),
    Column("expires_at", Float, nullable=False),
)
handoffs = Table(
    "desk_handoffs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(128), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("customer_id", String(32)),
    Column("reason", String(64), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("status", String(16), nullable=False, index=True),  # waiting, active, returned, closed, ticket
    Column("agent", String(64)),
    Column("created_at", Float, nullable=False),
    Column("accepted_at", Float),
    Column("ended_at", Float),
    Column("disposition", String(64)),
    Column("csat", Integer),
    Column("context", Text, nullable=False, default="{}"),
)
notes = Table(
    "desk_notes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("handoff_id", Integer, ForeignKey("desk_handoffs.id"), nullable=False, index=True),
    Column("author", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)


@dataclass(frozen=True)
class Agent:
    username: str
    role: str
    display_name: str = ""
    queues: tuple = DEFAULT_QUEUES

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def can(self, capability: str) -> bool:
        return capability in CAPABILITIES.get(self.role, ())

    def serves(self, queue: str) -> bool:
        return self.is_supervisor or queue in self.queues


def queue_of(handoff: Dict[str, Any]) -> str:
    """Which queue a handoff waits in: fraud (and anything urgent), complaints, everything else."""
    if handoff.get("reason") == "fraud_report" or handoff.get("priority") == PRIORITIES["urgent"]:
        return "fraud"
    return "complaint" if handoff.get("reason") == "complaint" else "general"


def parse_queues(value: Optional[str]) -> tuple:
    """'general,fraud' -> ('general', 'fraud'); unknown names are refused, empty means the default."""
    names = tuple(dict.fromkeys(q.strip() for q in (value or "").split(",") if q.strip()))
    unknown = [q for q in names if q not in QUEUES]
    if unknown:
        raise ValueError(f"unknown queue(s) {', '.join(unknown)}; queues are {', '.join(QUEUES)}")
    return names or DEFAULT_QUEUES


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _agent_of(row: Any) -> Agent:
    return Agent(row.username, row.role, row.display_name or DISPLAY_PREFIX,
                 parse_queues(row.queues) if row.queues else DEFAULT_QUEUES)


def _add_missing_columns(engine: Engine) -> None:
    """Databases made before display names, queues and disabling get the new columns."""
    present = {c["name"] for c in inspect(engine).get_columns("desk_agents")}
    for name, ddl in _ADDED_COLUMNS.items():
        if name not in present:
            try:
                with engine.begin() as conn:
                    conn.execute(text(f"ALTER TABLE desk_agents ADD COLUMN {name} {ddl}"))
            except SQLAlchemyError:  # another process added it first
                log.info("desk_agents.%s already added", name)


class DeskStore:
    def __init__(self, engine: Optional[Engine] = None, session_ttl_s: float = 8 * 3600) -> None:
        self.engine = engine or default_engine()
        self.session_ttl_s = session_ttl_s
        metadata.create_all(self.engine)
        _add_missing_columns(self.engine)
        self._name_unnamed_agents()

    def _name_unnamed_agents(self) -> None:
        """Agents created before display names existed get a work number now."""
        with self.engine.begin() as conn:
            for (username,) in conn.execute(select(agents.c.username).where(agents.c.display_name.is_(None))).all():
                conn.execute(update(agents).where(agents.c.username == username)
                             .values(display_name=self._next_display_name(conn)))

    # --- agents and sessions --------------------------------------------------------------
    def add_agent(self, username: str, password: str, role: str = "agent", display_name: Optional[str] = None,
                  queues: Optional[Sequence[str]] = None) -> None:
        """Create an agent, or update an existing one (a new password revokes its sessions)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        queue_text = ",".join(parse_queues(",".join(queues))) if queues is not None else None
        hashed = hash_password(password)
        with self.engine.begin() as conn:
            if conn.execute(select(agents.c.username).where(agents.c.username == username)).first():
                values: Dict[str, Any] = {"password_hash": hashed, "role": role}
                if display_name:
                    values["display_name"] = display_name
                if queue_text is not None:
                    values["queues"] = queue_text
                conn.execute(update(agents).where(agents.c.username == username).values(**values))
                conn.execute(agent_sessions.delete().where(agent_sessions.c.username == username))
            else:
                conn.execute(agents.insert().values(
                    username=username, password_hash=hashed, role=role, created_at=time.time(), disabled=0,
                    display_name=display_name or self._next_display_name(conn),
                    queues=queue_text or ",".join(DEFAULT_QUEUES)))

    @staticmethod
    def _next_display_name(conn: Any) -> str:
        """客服1001, 客服1002, …: a work number for customers, unrelated to the login name."""
        taken = {r[0] for r in conn.execute(select(agents.c.display_name)) if r[0]}
        number = 1001 + len(taken)
        while f"{DISPLAY_PREFIX}{number}" in taken:
            number += 1
        return f"{DISPLAY_PREFIX}{number}"

    def reset_password(self, username: str, password: str) -> bool:
        """New password; every session of the agent ends (sockets drop at their next check)."""
        hashed = hash_password(password)
        with self.engine.begin() as conn:
            if conn.execute(update(agents).where(agents.c.username == username)
                            .values(password_hash=hashed)).rowcount != 1:
                return False
            conn.execute(agent_sessions.delete().where(agent_sessions.c.username == username))
        return True

    def set_disabled(self, username: str, disabled: bool) -> bool:
        """A disabled agent cannot log in and loses every session at once."""
        with self.engine.begin() as conn:
            if conn.execute(update(agents).where(agents.c.username == username)
                            .values(disabled=int(disabled))).rowcount != 1:
                return False
            if disabled:
                conn.execute(agent_sessions.delete().where(agent_sessions.c.username == username))
        return True

    def revoke_sessions(self, username: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(agent_sessions.delete().where(agent_sessions.c.username == username)).rowcount

    def login(self, username: str, password: str) -> Optional[str]:
        """A session token, or None. Unknown and disabled accounts cost the same one scrypt as a wrong password."""
        with self.engine.begin() as conn:
            row = conn.execute(select(agents.c.password_hash, agents.c.disabled)
                               .where(agents.c.username == username)).first()
            stored = row[0] if row is not None else DUMMY_HASH
            correct = verify_password(password, stored)
            if row is None or row[1] or not correct:
                return None
            token = secrets.token_urlsafe(32)
            conn.execute(agent_sessions.insert().values(token_hash=_token_hash(token), username=username,
                                                        expires_at=time.time() + self.session_ttl_s))
            return token

    def agent_for(self, token: Any) -> Optional[Agent]:
        if not isinstance(token, str) or not 20 <= len(token) <= 200:
            return None
        return self.agent_for_hash(_token_hash(token))

    def agent_for_hash(self, token_hash: str) -> Optional[Agent]:
        """The agent of a live session (not expired, not revoked, agent not disabled)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(agents.c.username, agents.c.role, agents.c.display_name, agents.c.queues)
                               .select_from(agent_sessions.join(agents))
                               .where(and_(agent_sessions.c.token_hash == token_hash,
                                           agent_sessions.c.expires_at > time.time(),
                                           agents.c.disabled == 0))).first()
        return _agent_of(row) if row else None

    def live_sessions(self, token_hashes: Iterable[str]) -> set:
        """Which of these sessions are still valid (one query for every connected socket)."""
        wanted = list(set(token_hashes))
        if not wanted:
            return set()
        with self.engine.connect() as conn:
            rows = conn.execute(select(agent_sessions.c.token_hash).select_from(agent_sessions.join(agents))
                                .where(and_(agent_sessions.c.token_hash.in_(wanted),
                                            agent_sessions.c.expires_at > time.time(),
                                            agents.c.disabled == 0)))
            return {r[0] for r in rows}

    def get_agent(self, username: str) -> Optional[Agent]:
        with self.engine.connect() as conn:
            row = conn.execute(select(agents.c.username, agents.c.role, agents.c.display_name, agents.c.queues)
                               .where(agents.c.username == username)).first()
        return _agent_of(row) if row else None

    def display_name(self, username: str) -> str:
        """The name customers see for an agent (a generic one if the agent is gone)."""
        agent = self.get_agent(username)
        return agent.display_name if agent else DISPLAY_PREFIX

    def logout(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(agent_sessions.delete().where(agent_sessions.c.token_hash == _token_hash(token)))

    # --- handoffs -------------------------------------------------------------------------
    def open_handoff_of(self, sender_id: str) -> Optional[Dict[str, Any]]:
        with self.engine.connect() as conn:
            row = conn.execute(select(handoffs).where(and_(handoffs.c.sender_id == sender_id,
                                                           handoffs.c.status.in_(OPEN_STATES)))
                               .order_by(handoffs.c.id.desc())).mappings().first()
        return _decode(row)

    def open_senders(self) -> set:
        """Conversations a human has or is waiting for (one query, for listing bot-only chats)."""
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(select(handoffs.c.sender_id)
                                               .where(handoffs.c.status.in_(OPEN_STATES)))}

    def get(self, handoff_id: int) -> Optional[Dict[str, Any]]:
        with self.engine.connect() as conn:
            return _decode(conn.execute(select(handoffs).where(handoffs.c.id == handoff_id)).mappings().first())

    def enqueue(self, sender_id: str, channel: str, reason: str, priority: str, customer_id: Optional[str],
                context: Dict[str, Any]) -> Dict[str, Any]:
        existing = self.open_handoff_of(sender_id)
        if existing:
            return existing
        with self.engine.begin() as conn:
            result = conn.execute(handoffs.insert().values(
                sender_id=sender_id, channel=channel, customer_id=customer_id, reason=reason,
                priority=PRIORITIES.get(priority, PRIORITIES["normal"]), status="waiting",
                created_at=time.time(), context=json.dumps(context, ensure_ascii=False)))
            handoff_id = result.inserted_primary_key[0]
        return self.get(handoff_id)

    def waiting(self, agent: Optional[Agent] = None) -> List[Dict[str, Any]]:
        """The queue: urgent first, then by waiting time; only `agent`'s queues when given."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(handoffs).where(handoffs.c.status == "waiting")
                                .order_by(handoffs.c.priority, handoffs.c.created_at, handoffs.c.id)).mappings()
            found = [_decode(r) for r in rows]
        return [h for h in found if agent is None or agent.serves(queue_of(h))]

    def active(self, agent: Optional[str] = None) -> List[Dict[str, Any]]:
        query = select(handoffs).where(handoffs.c.status == "active")
        if agent:
            query = query.where(handoffs.c.agent == agent)
        with self.engine.connect() as conn:
            return [_decode(r) for r in conn.execute(query.order_by(handoffs.c.accepted_at)).mappings()]

    def position(self, handoff_id: int) -> int:
        return next((i for i, h in enumerate(self.waiting(), start=1) if h["id"] == handoff_id), 0)

    def accept(self, handoff_id: int, agent: str) -> bool:
        """Atomic: only one agent can take a waiting conversation."""
        with self.engine.begin() as conn:
            changed = conn.execute(update(handoffs).where(and_(handoffs.c.id == handoff_id,
                                                               handoffs.c.status == "waiting"))
                                   .values(status="active", agent=agent, accepted_at=time.time())).rowcount
        return changed == 1

    def transfer(self, handoff_id: int, from_agent: Optional[str], to_agent: str) -> bool:
        condition = and_(handoffs.c.id == handoff_id, handoffs.c.status == "active")
        if from_agent:
            condition = and_(condition, handoffs.c.agent == from_agent)
        with self.engine.begin() as conn:
            if not conn.execute(select(agents.c.username).where(and_(agents.c.username == to_agent,
                                                                     agents.c.disabled == 0))).first():
                return False
            return conn.execute(update(handoffs).where(condition).values(agent=to_agent)).rowcount == 1

    def end(self, handoff_id: int, status: str, disposition: Optional[str] = None,
            agent: Optional[str] = None) -> bool:
        condition = and_(handoffs.c.id == handoff_id, handoffs.c.status.in_(OPEN_STATES))
        if agent:
            condition = and_(condition, handoffs.c.agent == agent)
        with self.engine.begin() as conn:
            return conn.execute(update(handoffs).where(condition).values(
                status=status, disposition=disposition, ended_at=time.time())).rowcount == 1

    def handoff_rows(self, start: float, end: float, channel: Optional[str] = None) -> List[Dict[str, Any]]:
        """Times and CSAT of the handoffs created in [start, end) (for the supervisors' report)."""
        condition = and_(handoffs.c.created_at >= start, handoffs.c.created_at < end)
        if channel:
            condition = and_(condition, handoffs.c.channel == channel)
        columns = (handoffs.c.created_at, handoffs.c.accepted_at, handoffs.c.ended_at, handoffs.c.csat)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(select(*columns).where(condition))]

    def record_csat(self, sender_id: str, score: int) -> bool:
        with self.engine.begin() as conn:
            row = conn.execute(select(handoffs.c.id).where(and_(
                handoffs.c.sender_id == sender_id, handoffs.c.status.in_(("closed", "returned")),
                handoffs.c.csat.is_(None), handoffs.c.disposition.isnot(None)))
                .order_by(handoffs.c.id.desc())).first()
            if not row:
                return False
            conn.execute(update(handoffs).where(handoffs.c.id == row[0]).values(csat=score))
            return True

    def expired_waiting(self, max_wait_s: float) -> List[Dict[str, Any]]:
        cutoff = time.time() - max_wait_s
        return [h for h in self.waiting() if h["created_at"] < cutoff]

    def add_note(self, handoff_id: int, author: str, text: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(notes.insert().values(handoff_id=handoff_id, author=author, text=text,
                                               created_at=time.time()))

    def notes_of(self, handoff_id: int) -> List[Dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(notes.c.author, notes.c.text, notes.c.created_at)
                                .where(notes.c.handoff_id == handoff_id).order_by(notes.c.id)).mappings()
            return [dict(r) for r in rows]

    def least_busy(self, online: Iterable[str], max_active: int, queue: Optional[str] = None) -> Optional[str]:
        """The online agent serving `queue` with the fewest active conversations, if one has room."""
        load = self.load_by_agent()
        names = set(online)
        if queue is not None:
            names = {name for name in names if (a := self.get_agent(name)) is not None and a.serves(queue)}
        candidates = sorted((load.get(name, 0), name) for name in names if load.get(name, 0) < max_active)
        return candidates[0][1] if candidates else None

    def load_by_agent(self) -> Dict[str, int]:
        """Active conversations per known agent (for least-busy routing)."""
        with self.engine.connect() as conn:
            names = [r[0] for r in conn.execute(select(agents.c.username))]
        counts = {name: 0 for name in names}
        for handoff in self.active():
            counts[handoff["agent"]] = counts.get(handoff["agent"], 0) + 1
        return counts


def _decode(row: Any) -> Optional[Dict[str, Any]]:
    if row is None:
        return None
    data = dict(row)
    data["context"] = json.loads(data.get("context") or "{}")
    return data
