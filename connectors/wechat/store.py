"""What the WeChat channel remembers in the connector database (tables in connectors/store.py).

SQL rather than process memory so that a restart and every replica see the same state: which
openid a conversation id belongs to, which bindings the customers confirmed, and which nonces,
MsgIds and binding tickets were already used.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, List, Optional

from sqlalchemy import Table, and_, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from connectors.store import (
    PurgeSchedule,
    default_engine,
    upsert,
    wechat_access_tokens,
    wechat_account_bindings,
    wechat_choices,
    wechat_conversations,
    wechat_message_turns,
    wechat_once,
)
from connectors.wechat.api import AccessToken

Clock = Callable[[], float]
CACHE_MAX = 20_000
CHOICES_TTL_S = 30 * 60
SAME, OTHER = "same", "other"
# A running turn's claim lapses this long after its replica last renewed it: shorter than WeChat's ~5 s
# between retries, so a retry after a replica died finds it lapsed; renewed every TURN_LEASE_S / 4.
TURN_LEASE_S = 4.0


def _create(engine: Engine, *tables) -> None:
    for table in tables:
        table.create(engine, checkfirst=True)


def hashed_key(text: str) -> str:
    """How one-time keys and message keys are stored: hashed, so no openid or MsgId is kept in clear."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:64]


def _purge_expired(engine: Engine, table: Table, purges: PurgeSchedule, now: float) -> None:
    """Deletes `table`'s rows past their `expires_at`, when the schedule says it is time."""
    if purges.due(now):
        with engine.begin() as conn:
            conn.execute(delete(table).where(table.c.expires_at < now))


class ConversationMap:
    """conversation id → openid. The pair never changes, so a bounded in-process cache is safe."""

    def __init__(self, engine: Optional[Engine] = None, clock: Clock = time.time) -> None:
        self.engine = engine or default_engine()
        self.clock = clock
        _create(self.engine, wechat_conversations)
        self._cache: "OrderedDict[str, str]" = OrderedDict()

    def _cached(self, conversation_id: str, openid: str) -> None:
        self._cache[conversation_id] = openid
        self._cache.move_to_end(conversation_id)
        while len(self._cache) > CACHE_MAX:
            self._cache.popitem(last=False)

    def remember(self, conversation_id: str, openid: str) -> None:
        if self._cache.get(conversation_id) == openid:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(wechat_conversations.insert().values(
                    conversation_id=conversation_id, openid=openid, created_at=self.clock()))
        except IntegrityError:  # already known (another request or replica wrote it)
            pass
        self._cached(conversation_id, openid)

    def openid_of(self, conversation_id: str) -> Optional[str]:
        if conversation_id in self._cache:
            return self._cache[conversation_id]
        with self.engine.connect() as conn:
            openid = conn.execute(select(wechat_conversations.c.openid).where(
                wechat_conversations.c.conversation_id == conversation_id)).scalar_one_or_none()
        if openid:
            self._cached(conversation_id, openid)
        return openid


class OnceKeys:
    """Keys that may be used once until they expire; atomic across replicas (primary key)."""

    def __init__(self, engine: Optional[Engine] = None, clock: Clock = time.time) -> None:
        self.engine = engine or default_engine()
        self.clock = clock
        _create(self.engine, wechat_once)
        self.purges = PurgeSchedule()

    def taken(self, key: str) -> bool:
        with self.engine.connect() as conn:
            expires_at = conn.execute(select(wechat_once.c.expires_at)
                                      .where(wechat_once.c.key == hashed_key(key))).scalar_one_or_none()
        return expires_at is not None and expires_at >= self.clock()

    def claim(self, key: str, value: str, expires_at: float) -> Optional[str]:
        """None when `key` was unused (now taken until `expires_at`); SAME when it was taken with this
        `value`, OTHER when with another. Keys and values are stored hashed (no openid in clear)."""
        now = self.clock()
        _purge_expired(self.engine, wechat_once, self.purges, now)
        hashed, hashed_value = hashed_key(key), hashed_key(value)[:40]
        for _ in range(2):
            try:
                with self.engine.begin() as conn:
                    conn.execute(wechat_once.insert().values(key=hashed, value=hashed_value,
                                                             expires_at=expires_at))
                return None
            except IntegrityError:
                with self.engine.begin() as conn:
                    row = conn.execute(select(wechat_once.c.value, wechat_once.c.expires_at)
                                       .where(wechat_once.c.key == hashed)).first()
                    if row is not None and row.expires_at >= now:
                        return SAME if row.value == hashed_value else OTHER
                    conn.execute(delete(wechat_once).where(wechat_once.c.key == hashed,
                                                           wechat_once.c.expires_at < now))
        return OTHER


class MessageTurns:
    """Which replica runs each message's turn, under a lease it renews while the turn runs.

    WeChat retries a message it got no answer for after ~5, 10 and 15 s. A plain "seen" mark would
    answer every retry "success" even when the replica running the turn was killed before saving it,
    and the message would be lost. Here the first copy claims the message with a short lease; while the
    turn runs its replica renews the lease (``held``); a retry that finds the lease lapsed and the turn
    not done takes the claim over (compare-and-set: one retry, on one replica) and runs the turn again.
    The channel gives each message a stable client id, so if the dead replica had already saved the
    turn the rerun only repeats its answer (bot/idempotent_turns.py).
    """

    NEW, RUNNING, DONE, RESUMED = "new", "running", "done", "resumed"

    def __init__(self, engine: Optional[Engine] = None, lease_s: float = TURN_LEASE_S, clock: Clock = time.time,
                 owner: Optional[str] = None) -> None:
        self.engine = engine or default_engine()
        _create(self.engine, wechat_message_turns)
        self.lease_s, self.clock = lease_s, clock
        self.owner = owner or secrets.token_hex(8)
        self.purges = PurgeSchedule()

    def claim(self, key: str, expires_at: float) -> str:
        """NEW or RESUMED: run the turn (the claim is ours); RUNNING or DONE: a copy, answer "success"."""
        now, hashed = self.clock(), hashed_key(key)
        _purge_expired(self.engine, wechat_message_turns, self.purges, now)
        try:
            with self.engine.begin() as conn:
                conn.execute(wechat_message_turns.insert().values(
                    key=hashed, owner=self.owner, lease_until=now + self.lease_s, done=False, expires_at=expires_at))
            return self.NEW
        except IntegrityError:
            pass
        t = wechat_message_turns.c
        with self.engine.begin() as conn:
            taken = conn.execute(update(wechat_message_turns).where(
                t.key == hashed, t.done.is_(False), t.lease_until < now).values(
                owner=self.owner, lease_until=now + self.lease_s)).rowcount
            if taken == 1:
                return self.RESUMED
            done = conn.execute(select(t.done).where(t.key == hashed)).scalar_one_or_none()
        return self.DONE if done else self.RUNNING

    def renew(self, key: str) -> bool:
        """Extends our lease; False when the claim is no longer ours (it lapsed and was taken over)."""
        t = wechat_message_turns.c
        with self.engine.begin() as conn:
            return conn.execute(update(wechat_message_turns).where(
                and_(t.key == hashed_key(key), t.owner == self.owner, t.done.is_(False))).values(
                lease_until=self.clock() + self.lease_s)).rowcount == 1

    def finish(self, key: str, done: bool) -> None:
        """The turn ran (done: copies are answered "success" from now on) or failed (the lease is dropped
        at once, so WeChat's next retry runs it again)."""
        t = wechat_message_turns.c
        values = {"done": True} if done else {"lease_until": 0.0}
        with self.engine.begin() as conn:
            conn.execute(update(wechat_message_turns).where(
                and_(t.key == hashed_key(key), t.owner == self.owner)).values(**values))


class SharedAccessToken:
    """The app's access_token in SQL, so every replica sends with the same one (api.TokenCache)."""

    def __init__(self, app_id: str, engine: Optional[Engine] = None) -> None:
        self.app_id = app_id
        self.engine = engine or default_engine()
        _create(self.engine, wechat_access_tokens)

    def current(self) -> Optional[AccessToken]:
        with self.engine.connect() as conn:
            row = conn.execute(select(wechat_access_tokens.c.token, wechat_access_tokens.c.expires_at)
                               .where(wechat_access_tokens.c.app_id == self.app_id)).first()
        return AccessToken(row.token, row.expires_at) if row else None

    def store(self, token: AccessToken) -> None:
        with self.engine.begin() as conn:
            upsert(conn, wechat_access_tokens, {"app_id": self.app_id, "token": token.value,
                                                "expires_at": token.expires_at}, ["app_id"])


class OfferedChoices:
    """The numbered options last shown in a conversation; the customer's next message may pick one.

    SQL, because the reply "2" may reach another replica than the one that showed the list.
    Taking them (`take`) deletes them: a list answers one message only, as the customer expects.
    """

    def __init__(self, engine: Optional[Engine] = None, ttl_s: float = CHOICES_TTL_S, clock: Clock = time.time) -> None:
        self.engine = engine or default_engine()
        self.ttl_s = ttl_s
        self.clock = clock
        _create(self.engine, wechat_choices)
        self.purges = PurgeSchedule()

    def offer(self, conversation_id: str, payloads: List[str]) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            upsert(conn, wechat_choices, {"conversation_id": conversation_id, "expires_at": now + self.ttl_s,
                                          "choices": json.dumps(payloads, ensure_ascii=False)}, ["conversation_id"])
            if self.purges.due(now):
                conn.execute(delete(wechat_choices).where(wechat_choices.c.expires_at < now))

    def take(self, conversation_id: str) -> List[str]:
        """The offered payloads (now withdrawn), or [] when none are open."""
        with self.engine.begin() as conn:
            row = conn.execute(select(wechat_choices.c.choices, wechat_choices.c.expires_at)
                               .where(wechat_choices.c.conversation_id == conversation_id)).first()
            if row is None:
                return []
            conn.execute(delete(wechat_choices).where(wechat_choices.c.conversation_id == conversation_id))
        return json.loads(row.choices) if row.expires_at >= self.clock() else []


@dataclass(frozen=True)
class Binding:
    binding_id: str
    openid: str
    customer_id: str
    bound_at: float
    expires_at: float


class Bindings:
    """openid ↔ customer, confirmed by the customer in the bank app; each binding expires."""

    def __init__(self, engine: Optional[Engine] = None, clock: Clock = time.time) -> None:
        self.engine = engine or default_engine()
        self.clock = clock
        _create(self.engine, wechat_account_bindings)

    @staticmethod
    def _row(row) -> Binding:
        return Binding(row.binding_id, row.openid, row.customer_id, row.bound_at, row.expires_at)

    def customer_of(self, openid: str) -> Optional[str]:
        """The bound customer; None when unbound or the binding has expired."""
        with self.engine.connect() as conn:
            row = conn.execute(select(wechat_account_bindings.c.customer_id,
                                      wechat_account_bindings.c.expires_at)
                               .where(wechat_account_bindings.c.openid == openid)).first()
        if row is None or row.expires_at <= self.clock():
            return None
        return row.customer_id

    def bind(self, openid: str, customer_id: str, ttl_s: float) -> Binding:
        """(Re)binds `openid`; a previous binding of the same WeChat account is replaced."""
        now = self.clock()
        binding = Binding(secrets.token_hex(16), openid, customer_id, now, now + ttl_s)
        with self.engine.begin() as conn:
            conn.execute(delete(wechat_account_bindings).where(wechat_account_bindings.c.openid == openid))
            conn.execute(wechat_account_bindings.insert().values(
                binding_id=binding.binding_id, openid=openid, customer_id=customer_id,
                bound_at=binding.bound_at, expires_at=binding.expires_at))
        return binding

    def unbind(self, openid: str) -> bool:
        """解绑 from WeChat: True when an unexpired binding was removed."""
        with self.engine.begin() as conn:
            removed = conn.execute(delete(wechat_account_bindings).where(
                wechat_account_bindings.c.openid == openid,
                wechat_account_bindings.c.expires_at > self.clock())).rowcount
            conn.execute(delete(wechat_account_bindings).where(wechat_account_bindings.c.openid == openid))
        return removed > 0

    def of_customer(self, customer_id: str) -> List[Binding]:
        """The customer's unexpired bindings, newest first (the app's list)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(wechat_account_bindings).where(
                wechat_account_bindings.c.customer_id == customer_id,
                wechat_account_bindings.c.expires_at > self.clock())
                .order_by(wechat_account_bindings.c.bound_at.desc())).all()
        return [self._row(row) for row in rows]

    def revoke(self, customer_id: str, binding_id: str) -> Optional[Binding]:
        """解绑 from the app: only the customer's own binding; the removed binding or None."""
        with self.engine.begin() as conn:
            row = conn.execute(select(wechat_account_bindings).where(
                wechat_account_bindings.c.binding_id == binding_id,
                wechat_account_bindings.c.customer_id == customer_id)).first()
            if row is None:
                return None
            conn.execute(delete(wechat_account_bindings)
                         .where(wechat_account_bindings.c.binding_id == binding_id))
        return self._row(row)

    def purge_expired(self) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(wechat_account_bindings).where(
                wechat_account_bindings.c.expires_at <= self.clock())).rowcount
