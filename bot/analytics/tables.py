"""The analytics tables, beside Rasa's event-broker table `events` in the analytics database.

Rows are facts folded from the event stream (fold.py); nothing here is written at request time.
Texts are masked before they are stored (bot.banking.masking); conversations are keyed by a hash of
the sender id, never the id itself.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

conversations = Table(
    "analytics_conversations", metadata,
    Column("key", String(80), primary_key=True),  # <sender hash>:<n-th conversation of that sender>
    Column("channel", String(16), nullable=False, index=True),
    Column("day", String(10), nullable=False, index=True),  # local day of the first event (ANALYTICS_TIMEZONE)
    Column("started_at", Float, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("user_turns", Integer, nullable=False),
    Column("handoff_reason", String(32)),  # None: no person was asked for
    Column("callback", Boolean, nullable=False),  # a human callback ticket was opened
    Column("closed", Boolean, nullable=False),
)

flows = Table(
    "analytics_flows", metadata,
    Column("key", String(96), primary_key=True),
    Column("conversation", String(80), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("day", String(10), nullable=False, index=True),
    Column("intent", String(32), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("slots", Text, nullable=False),  # JSON list: the slots the flow asked for, in order
    Column("confirmed", Boolean, nullable=False),
    Column("outcome", String(16), nullable=False),  # open, completed, cancelled, abandoned
)

kb_outcomes = Table(
    "analytics_kb", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation", String(80), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("day", String(10), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),  # answer, clarify, picked, no_answer, low_rated
    Column("faq_id", String(128)),
    Column("text", String(200), nullable=False),  # the customer's message, masked
)

latencies = Table(
    "analytics_latency", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("day", String(10), nullable=False, index=True),
    Column("ms", Float, nullable=False),
)

# Answers to the bot's satisfaction question (1–5); agents' scores are on the desk's handoff rows.
ratings = Table(
    "analytics_ratings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation", String(80), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("day", String(10), nullable=False, index=True),  # the day the score was given
    Column("score", Integer, nullable=False),
)

# Where the consumer is in the broker's `events` table, and which replica holds the lease to move it.
progress = Table(
    "analytics_progress", metadata,
    Column("name", String(32), primary_key=True),
    Column("last_event_id", Integer, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", Float, nullable=False),
)

# The fold's state of each open conversation (JSON), so the next batch carries on.
open_folds = Table(
    "analytics_open", metadata,
    Column("sender_key", String(64), primary_key=True),
    Column("state", Text, nullable=False),
    Column("last_at", Float, nullable=False, index=True),
)
