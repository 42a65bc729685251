"""The four-eyes review of knowledge changes, in the database every replica shares.

Tables (SQLite by default, PostgreSQL by URL; KBConfig.review_db_url):
  * kb_changes   one proposed change: kind, entry, payload, maker; its decision (checker, when) and,
                 once approved, the knowledge revision it went live in;
  * kb_revisions one row per knowledge revision (an approval or a rollback): who, when, and the index
                 version it was published as; a bot answer's ``knowledge_version`` finds its row;
  * kb_audit     every step (draft, approve, reject, rollback, publish) with actor, time and detail.

The maker-checker rule lives here, not in the UI: a change is decided once, by someone other than
its maker, with the decision and the revision allocated in one transaction.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from sqlalchemy import (Column, Float, Integer, MetaData, String, Table, Text, create_engine, func, insert, or_,
                        select, update)
from sqlalchemy.engine import Connection, Engine

from knowledge_base.review.changes import Change

metadata = MetaData()
STATUSES = ("draft", "approved", "rejected", "rolled_back")

changes = Table(
    "kb_changes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("entry_id", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("source", String(200), nullable=False, default=""),  # e.g. "cluster:…", "agent_reply:<handoff>"
    Column("status", String(16), nullable=False, index=True),
    Column("maker", String(64), nullable=False),
    Column("made_at", Float, nullable=False),
    Column("checker", String(64)),
    Column("checked_at", Float),
    Column("comment", String(500)),
    Column("revision", Integer, index=True),  # the knowledge revision it went live in
    Column("rolled_back_in", Integer),  # the rollback revision that took it out again
    Column("day", String(10)),  # the approval's date, the entry's "updated"
)
revisions = Table(
    "kb_revisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # the knowledge revision
    Column("kind", String(16), nullable=False),  # approve, rollback
    Column("actor", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("change_id", Integer),  # approve: the change
    Column("rolled_back_to", Integer),  # rollback: the revision whose content is live again
    Column("index_version", String(80), index=True),  # set once published
    Column("content_hash", String(64)),
)
audit = Table(
    "kb_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_id", Integer, index=True),
    Column("revision", Integer),
    Column("actor", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("detail", Text, nullable=False, default="{}"),
)


class ReviewError(ValueError):
    """A review step that is not allowed; ``status`` is the HTTP status that fits."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def review_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    return create_engine(url, pool_pre_ping=True)


def _row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    if "payload" in out:
        out["payload"] = json.loads(out["payload"])
    if "detail" in out:
        out["detail"] = json.loads(out["detail"])
    return out


class KnowledgeReview:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    # --- makers ---------------------------------------------------------------------------
    def propose(self, maker: str, kind: str, entry_id: str, payload: dict, source: str = "") -> int:
        with self.engine.begin() as conn:
            change_id = conn.execute(insert(changes).values(
                kind=kind, entry_id=entry_id, payload=json.dumps(payload, ensure_ascii=False), source=source[:200],
                status="draft", maker=maker, made_at=time.time())).inserted_primary_key[0]
            self._audit(conn, maker, "draft", change_id=change_id, detail={"kind": kind, "entry_id": entry_id})
        return int(change_id)

    def set_entry(self, change_id: int, entry_id: str, payload: dict) -> None:
        """A new entry's id depends on its change id (``added_<id>``): fixed right after the draft."""
        with self.engine.begin() as conn:
            conn.execute(update(changes).where(changes.c.id == change_id, changes.c.status == "draft")
                         .values(entry_id=entry_id, payload=json.dumps(payload, ensure_ascii=False)))

    # --- checkers -------------------------------------------------------------------------
    def approve(self, change_id: int, checker: str, detail: dict, comment: str = "") -> int:
        """Approve a draft (never its maker's own); returns the new knowledge revision."""
        with self.engine.begin() as conn:
            change = self._decidable(conn, change_id, checker)
            revision = conn.execute(insert(revisions).values(
                kind="approve", actor=checker, at=time.time(), change_id=change_id)).inserted_primary_key[0]
            self._decide(conn, change, checker, "approved", comment,
                         revision=revision, day=dt.date.today().isoformat())
            self._audit(conn, checker, "approve", change_id=change_id, revision=revision,
                        detail={**detail, "comment": comment})
        return int(revision)

    def reject(self, change_id: int, checker: str, comment: str) -> None:
        with self.engine.begin() as conn:
            change = self._decidable(conn, change_id, checker)
            self._decide(conn, change, checker, "rejected", comment)
            self._audit(conn, checker, "reject", change_id=change_id, detail={"comment": comment})

    def rollback(self, to_revision: int, actor: str) -> int:
        """Make ``to_revision``'s content live again (0: the content as shipped); every change approved
        after it is marked rolled back. Returns the new revision (history is never rewritten)."""
        with self.engine.begin() as conn:
            latest = conn.execute(select(func.max(revisions.c.id))).scalar() or 0
            if not 0 <= to_revision < latest:
                raise ReviewError(400, f"roll back to a revision between 0 and {latest - 1}; the live one is {latest}")
            revision = conn.execute(insert(revisions).values(
                kind="rollback", actor=actor, at=time.time(), rolled_back_to=to_revision)).inserted_primary_key[0]
            undone = [r.id for r in conn.execute(select(changes.c.id).where(
                changes.c.status == "approved", changes.c.revision > to_revision))]
            if undone:
                conn.execute(update(changes).where(changes.c.id.in_(undone))
                             .values(status="rolled_back", rolled_back_in=revision))
            self._audit(conn, actor, "rollback", revision=revision,
                        detail={"to_revision": to_revision, "changes_undone": undone})
        return int(revision)

    def _decidable(self, conn: Connection, change_id: int, checker: str) -> Any:
        change = conn.execute(select(changes).where(changes.c.id == change_id)).first()
        if change is None:
            raise ReviewError(404, f"no knowledge change {change_id}")
        if change.status != "draft":
            raise ReviewError(409, f"change {change_id} is {change.status}, not a draft")
        if change.maker == checker:
            raise ReviewError(403, "maker-checker: a change must be approved or rejected by someone other than its maker")
        return change

    @staticmethod
    def _decide(conn: Connection, change: Any, checker: str, status: str, comment: str, **values: Any) -> None:
        done = conn.execute(update(changes).where(changes.c.id == change.id, changes.c.status == "draft").values(
            status=status, checker=checker, checked_at=time.time(), comment=comment[:500], **values)).rowcount
        if done != 1:
            raise ReviewError(409, f"change {change.id} was decided by someone else a moment ago")

    # --- publishing -----------------------------------------------------------------------
    def live_changes(self) -> list[Change]:
        """The approved changes, in the order they went live: the overlay on the shipped content."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(changes).where(changes.c.status == "approved")
                                .order_by(changes.c.revision)).all()
        return [Change(r.id, r.kind, r.entry_id, json.loads(r.payload), r.day) for r in rows]

    def latest_revision(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(revisions.c.id))).scalar() or 0)

    def published(self, revision: int, index_version: str, content_hash: str, actor: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(revisions).where(revisions.c.id == revision)
                         .values(index_version=index_version, content_hash=content_hash))
            self._audit(conn, actor, "publish", revision=revision, detail={"index_version": index_version})

    # --- reading --------------------------------------------------------------------------
    def get(self, change_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(changes).where(changes.c.id == change_id)).first()
            if row is None:
                return None
            trail = conn.execute(select(audit).where(audit.c.change_id == change_id).order_by(audit.c.id)).all()
        return {**_row(row), "audit": [_row(a) for a in trail]}

    def list(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = select(changes).order_by(changes.c.id.desc()).limit(limit)
        if status:
            query = query.where(changes.c.status == status)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def revisions(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(select(revisions).order_by(revisions.c.id.desc()).limit(limit))]

    def revision_of(self, index_version: str) -> dict[str, Any] | None:
        """The revision an answer's ``knowledge_version`` was published as, with the changes live in it."""
        with self.engine.connect() as conn:
            row = conn.execute(select(revisions).where(revisions.c.index_version == index_version)
                               .order_by(revisions.c.id.desc())).first()
            if row is None:
                return None
            live = conn.execute(select(changes.c.id, changes.c.kind, changes.c.entry_id).where(
                changes.c.revision <= row.id,
                or_(changes.c.rolled_back_in.is_(None), changes.c.rolled_back_in > row.id))
                .order_by(changes.c.revision)).all()
        return {**_row(row), "changes": [dict(c._mapping) for c in live]}

    def trail(self, limit: int = 200) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(select(audit).order_by(audit.c.id.desc()).limit(limit))]

    @staticmethod
    def _audit(conn: Connection, actor: str, action: str, change_id: int | None = None, revision: int | None = None,
               detail: dict | None = None) -> None:
        conn.execute(insert(audit).values(change_id=change_id, revision=revision, actor=actor, action=action,
                                          at=time.time(), detail=json.dumps(detail or {}, ensure_ascii=False)))

