"""Retention of conversations: ``python -m bot.retention purge [--older-than-days N] [--dry-run]``.

A bank keeps chat content only as long as it needs it. Two periods (bot/settings.py):

- TRACKER_RETENTION_DAYS (default 90): Rasa tracker events (table ``events`` of the SQL tracker
  store) older than that are deleted — every conversation keeps only its recent part.
- TRANSCRIPT_RETENTION_DAYS (default 180): agent-desk handoffs that ended before then (with the
  customer context saved at handoff) and their internal notes are deleted. Waiting or active
  handoffs are never touched.

The channels' own tables (connector database) are tidied in the same run: expired WeChat bindings,
one-time keys, offered WeChat choices and token-to-conversation claims past their expiry; web chat
sessions, the desk's live-conversation previews and unanswered CSAT questions from before the
tracker cutoff (their conversation is gone by then).

``--older-than-days N`` uses N for both. ``--dry-run`` only counts. On SQLite, deleted rows are
overwritten (``PRAGMA secure_delete``), so the content does not linger in free pages. Run it
daily (cron / a Kubernetes CronJob); it is safe while the servers run.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Optional, Sequence

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, and_, func, inspect, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.private_db import private_engine, sqlite_path
from bot.settings import RetentionSettings, load_retention_settings

DAY_S = 86400.0
OPEN_STATES = ("waiting", "active")  # as connectors/agent_desk/store.py

# The columns purging needs, declared here so this CLI does not import Rasa (slow) or the channels.
_tracker = MetaData()
events = Table("events", _tracker, Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
               Column("timestamp", Float))
_desk = MetaData()
handoffs = Table("desk_handoffs", _desk, Column("id", Integer, primary_key=True),
                 Column("status", String(16)), Column("created_at", Float), Column("ended_at", Float))
notes = Table("desk_notes", _desk, Column("id", Integer, primary_key=True), Column("handoff_id", Integer))
_channels = MetaData()
# (table, time column, cutoff kind): "now" = past its own expiry, "tracker" = before the tracker cutoff
CHANNEL_TABLES = (
    (Table("wechat_account_bindings", _channels, Column("expires_at", Float)), "expires_at", "now"),
    (Table("wechat_once", _channels, Column("expires_at", Float)), "expires_at", "now"),
    (Table("token_uses", _channels, Column("expires_at", Float)), "expires_at", "now"),
    (Table("wechat_choices", _channels, Column("expires_at", Float)), "expires_at", "now"),
    (Table("wechat_access_tokens", _channels, Column("expires_at", Float)), "expires_at", "now"),
    (Table("webchat_sessions", _channels, Column("created_at", Float)), "created_at", "tracker"),
    (Table("desk_live_conversations", _channels, Column("last_at", Float)), "last_at", "tracker"),
    (Table("desk_csat_requests", _channels, Column("asked_at", Float)), "asked_at", "tracker"),
)


class RetentionError(RuntimeError):
    """A database cannot be reached or is not what we expect; the message says which and why."""


@dataclass(frozen=True)
class Purged:
    table: str
    rows: int
    before: float  # the cutoff (epoch seconds)


def open_database(url: str, what: str) -> Engine:
    """An engine for an EXISTING database (a purge never creates an empty one by mistake)."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise RetentionError(f"the {what} database {path} does not exist (check the path / URL setting)")
    try:
        engine = private_engine(url, future=True, connect_args={"timeout": 30} if path else {})
        with engine.connect() as conn:
            conn.execute(select(1))
    except (SQLAlchemyError, ImportError) as exc:  # ImportError: the URL's database driver is not installed
        raise RetentionError(f"cannot open the {what} database {_safe(url)}: {exc.__class__.__name__}: "
                             f"{getattr(exc, 'orig', None) or exc}") from None
    return engine


def _safe(url: str) -> str:
    from sqlalchemy.engine.url import make_url

    return make_url(url).render_as_string(hide_password=True)


def _secure_delete(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = ON")


def purge_tracker(engine: Engine, before: float, dry_run: bool = False) -> list[Purged]:
    """Delete tracker events with a timestamp before ``before``."""
    if not inspect(engine).has_table("events"):
        return [Purged("events", 0, before)]
    condition = events.c.timestamp < before
    with engine.begin() as conn:
        _secure_delete(conn)
        count = conn.execute(select(func.count()).select_from(events).where(condition)).scalar_one()
        if not dry_run and count:
            conn.execute(events.delete().where(condition))
    return [Purged("events", count, before)]


def purge_desk(engine: Engine, before: float, dry_run: bool = False) -> list[Purged]:
    """Delete handoffs that ended (or, never ended, were created) before ``before``, with their notes."""
    tables = set(inspect(engine).get_table_names())
    if "desk_handoffs" not in tables:
        return [Purged("desk_notes", 0, before), Purged("desk_handoffs", 0, before)]
    never_ended = and_(handoffs.c.ended_at.is_(None), handoffs.c.created_at < before)
    old = and_(handoffs.c.status.notin_(OPEN_STATES), or_(handoffs.c.ended_at < before, never_ended))
    old_ids = select(handoffs.c.id).where(old)
    with engine.begin() as conn:
        _secure_delete(conn)
        note_count = 0
        if "desk_notes" in tables:
            note_count = conn.execute(select(func.count()).select_from(notes)
                                      .where(notes.c.handoff_id.in_(old_ids))).scalar_one()
        handoff_count = conn.execute(select(func.count()).select_from(handoffs).where(old)).scalar_one()
        if not dry_run:
            if note_count:
                conn.execute(notes.delete().where(notes.c.handoff_id.in_(old_ids)))
            if handoff_count:
                conn.execute(handoffs.delete().where(old))
    return [Purged("desk_notes", note_count, before), Purged("desk_handoffs", handoff_count, before)]


def purge_channels(engine: Engine, now: float, tracker_before: float, dry_run: bool = False) -> list[Purged]:
    """Delete channel rows past their expiry, and web chat sessions older than the tracker cutoff."""
    present = set(inspect(engine).get_table_names())
    results = []
    with engine.begin() as conn:
        _secure_delete(conn)
        for table, column, kind in CHANNEL_TABLES:
            before = now if kind == "now" else tracker_before
            count = 0
            if table.name in present:
                condition = table.c[column] < before
                count = conn.execute(select(func.count()).select_from(table).where(condition)).scalar_one()
                if count and not dry_run:
                    conn.execute(table.delete().where(condition))
            results.append(Purged(table.name, count, before))
    return results


def purge(settings: RetentionSettings, older_than_days: Optional[int] = None, dry_run: bool = False,
          now: Optional[float] = None) -> list[Purged]:
    now = time.time() if now is None else now
    tracker_days = older_than_days or settings.tracker_retention_days
    transcript_days = older_than_days or settings.transcript_retention_days
    tracker = open_database(settings.tracker_db_url, "tracker")
    desk = open_database(settings.connector_db_url, "agent-desk (connectors)")
    try:
        tracker_before = now - tracker_days * DAY_S
        return (purge_tracker(tracker, tracker_before, dry_run)
                + purge_desk(desk, now - transcript_days * DAY_S, dry_run)
                + purge_channels(desk, now, tracker_before, dry_run))
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise RetentionError(f"purge failed: {exc.__class__.__name__}: {reason}") from None
    finally:
        tracker.dispose()
        desk.dispose()


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days") from None
    if days < 1:
        raise argparse.ArgumentTypeError(f"{days} must be at least 1 (day)")
    return days


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.retention", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("purge", help="delete tracker events, agent-desk transcripts and expired channel rows")
    run.add_argument("--older-than-days", type=_days, metavar="N",
                     help="use N days for both (default: TRACKER_RETENTION_DAYS / TRANSCRIPT_RETENTION_DAYS)")
    run.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    args = parser.parse_args(argv)
    try:
        settings = load_retention_settings()
        results = purge(settings, args.older_than_days, args.dry_run)
    except (RetentionError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    verb = "would delete" if args.dry_run else "deleted"
    for result in results:
        cutoff = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(result.before))
        print(f"{result.table}: {verb} {result.rows} rows older than {cutoff}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
