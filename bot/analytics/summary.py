"""The supervisors' measures for a date range and channel, from the analytics tables (docs/analytics.md).

Definitions (the same in the API, the docs and the tests):
  * conversation: a conversation with at least one customer message whose first event falls on a day
    in the range (the bank's local day, ANALYTICS_TIMEZONE);
  * contained: a conversation in which no person was asked for (no handoff to the agent desk, no
    supervisor take-over) and no human callback ticket was opened; containment_rate = contained /
    conversations;
  * handoff_rate = conversations with a handoff or a callback ticket / conversations, by reason;
  * no_answer_rate / clarification_rate: replies that said the bot did not understand / offered a
    menu of knowledge entries, over customer messages;
  * flows: per task intent, flows started, completed, cancelled, abandoned (the conversation ended
    while the flow was open) and still open;
  * picked_entries: the entries customers chose from clarification menus, most chosen first;
  * top_unanswered: the masked texts of not-understood messages, most frequent first;
  * csat_bot: answers to the bot's own satisfaction question given in the range (avg of 1–5, count);
    the agents' scores come from the desk (connectors/agent_desk/analytics.py), which adds csat_avg;
  * daily: per day with conversations (in order), its conversations, contained and handed over.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, Dict, List, Optional

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine

from bot.analytics import tables

TOP_UNANSWERED = 10


def _range(table: Any, day_from: str, day_to: str, channel: Optional[str]) -> Any:
    condition = and_(table.c.day >= day_from, table.c.day <= day_to)
    return and_(condition, table.c.channel == channel) if channel else condition


def _rate(part: float, whole: float) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def percentile(values: List[float], q: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def summary(engine: Engine, day_from: str, day_to: str, channel: Optional[str] = None) -> Dict[str, Any]:
    c, f, k, lat, r = tables.conversations, tables.flows, tables.kb_outcomes, tables.latencies, tables.ratings
    with engine.connect() as conn:
        convs = conn.execute(select(c.c.day, c.c.handoff_reason, c.c.callback, c.c.user_turns)
                             .where(_range(c, day_from, day_to, channel), c.c.user_turns > 0)).all()
        flow_rows = conn.execute(select(f.c.intent, f.c.outcome, f.c.slots, f.c.confirmed)
                                 .where(_range(f, day_from, day_to, channel))).all()
        kb = dict(conn.execute(select(k.c.outcome, func.count()).where(_range(k, day_from, day_to, channel))
                               .group_by(k.c.outcome)).all())
        unanswered = conn.execute(
            select(k.c.text, func.count().label("n")).where(_range(k, day_from, day_to, channel),
                                                            k.c.outcome == "no_answer", k.c.text != "")
            .group_by(k.c.text).order_by(func.count().desc(), k.c.text).limit(TOP_UNANSWERED)).all()
        top_entries, picked_entries = (conn.execute(
            select(k.c.faq_id, func.count()).where(_range(k, day_from, day_to, channel), k.c.outcome.in_(outcomes))
            .group_by(k.c.faq_id).order_by(func.count().desc(), k.c.faq_id).limit(TOP_UNANSWERED)).all()
            for outcomes in (("answer", "picked"), ("picked",)))
        scores = [row.score for row in conn.execute(select(r.c.score).where(_range(r, day_from, day_to, channel)))]
        latencies = [row.ms for row in conn.execute(select(lat.c.ms).where(_range(lat, day_from, day_to, channel)))]
    conversations = len(convs)
    handed = [row for row in convs if row.handoff_reason or row.callback]
    turns = sum(row.user_turns for row in convs)
    return {
        "from": day_from, "to": day_to, "channel": channel or "all",
        "conversations": conversations,
        "contained": conversations - len(handed),
        "containment_rate": _rate(conversations - len(handed), conversations),
        "handoffs": len(handed),
        "handoff_rate": _rate(len(handed), conversations),
        "handoffs_by_reason": dict(Counter(row.handoff_reason or "callback" for row in handed)),
        "customer_messages": turns,
        "no_answer_rate": _rate(kb.get("no_answer", 0), turns),
        "clarification_rate": _rate(kb.get("clarify", 0), turns),
        "clarifications": kb.get("clarify", 0), "picked_from_menu": kb.get("picked", 0),
        "picked_entries": [{"faq_id": faq_id, "count": n} for faq_id, n in picked_entries],
        "top_entries": [{"faq_id": faq_id, "count": n} for faq_id, n in top_entries],
        "top_unanswered": [{"text": row.text, "count": row.n} for row in unanswered],
        "csat_bot": score_summary(scores),
        "low_rated": kb.get("low_rated", 0),
        "flows": _flows(flow_rows),
        "daily": _daily(convs),
        "latency_ms": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
                       "p99": percentile(latencies, 0.99), "turns": len(latencies)},
    }


def score_summary(scores: List[int]) -> Dict[str, Any]:
    return {"avg": round(sum(scores) / len(scores), 2) if scores else None, "answers": len(scores)}


def combined_scores(*parts: Dict[str, Any]) -> Dict[str, Any]:
    """The mean over several score summaries' answers (each weighted by its count)."""
    answers = sum(p["answers"] for p in parts)
    total = sum(p["avg"] * p["answers"] for p in parts if p["answers"])
    return {"avg": round(total / answers, 2) if answers else None, "answers": answers}


def _daily(convs: List[Any]) -> List[Dict[str, Any]]:
    """One row per day that has conversations, oldest first: conversations, contained, handoffs."""
    days: Dict[str, Dict[str, Any]] = {}
    for row in sorted(convs, key=lambda r: r.day):
        day = days.setdefault(row.day, {"day": row.day, "conversations": 0, "contained": 0, "handoffs": 0})
        handed = bool(row.handoff_reason or row.callback)
        day["conversations"] += 1
        day["handoffs" if handed else "contained"] += 1
    return list(days.values())


def _flows(rows: List[Any]) -> Dict[str, Dict[str, Any]]:
    """Per task intent: the funnel (started → each slot asked → confirmed → completed) and how flows ended."""
    out: Dict[str, Dict[str, Any]] = {}
    for row in rows:
        flow = out.setdefault(row.intent, {"started": 0, "completed": 0, "cancelled": 0, "abandoned": 0, "open": 0,
                                           "confirmed": 0, "slots_reached": defaultdict(int)})
        flow["started"] += 1
        flow[row.outcome] += 1
        flow["confirmed"] += bool(row.confirmed)
        for slot in json.loads(row.slots or "[]"):
            flow["slots_reached"][slot] += 1
    for flow in out.values():
        flow["slots_reached"] = dict(flow["slots_reached"])
    return out
