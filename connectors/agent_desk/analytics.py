"""The supervisors' report: the analytics summary (bot/analytics) plus what only the desk knows.

Queue wait, handle time and agents' CSAT come from the desk's own handoff rows; csat_avg is the mean of
every score in the range, the bot's (csat_bot) and the agents' (csat_agent); everything else from
the analytics tables, which the consumer keeps current in the background (bot.analytics.consumer.keep_current,
in this process or its own) and catches up on before each report, so a report includes conversations that ended a moment ago.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time as day_time, timedelta
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.analytics.consumer import AnalyticsConsumer
from bot.analytics.fold import CHANNELS
from bot.analytics.summary import combined_scores, percentile, score_summary, summary
from connectors.agent_desk.store import DeskStore
from connectors.agent_desk.validation import ApiError

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_DAYS = 366


def report_query(args: Any) -> Tuple[str, str, Optional[str]]:
    """(from, to, channel) from the query string, or an ApiError saying what to send."""
    values = {name: (args.get(name) or "").strip() for name in ("from", "to", "channel")}
    days = []
    for name in ("from", "to"):
        text = values[name]
        try:
            days.append(date.fromisoformat(text) if DAY.fullmatch(text) else None)
        except ValueError:
            days.append(None)
        if days[-1] is None:
            raise ApiError(400, f'"{name}" must be a date as YYYY-MM-DD, got {text[:20]!r}')
    if days[0] > days[1]:
        raise ApiError(400, '"from" must not be after "to"')
    if (days[1] - days[0]).days >= MAX_DAYS:
        raise ApiError(400, f"a report covers at most {MAX_DAYS} days")
    channel = values["channel"] or None
    if channel is not None and channel not in CHANNELS:
        raise ApiError(400, f'"channel" must be one of {", ".join(CHANNELS)}')
    return values["from"], values["to"], channel


class SupervisorReport:
    def __init__(self, consumer: AnalyticsConsumer, store: DeskStore, timezone: str) -> None:
        self.consumer, self.store, self.zone = consumer, store, ZoneInfo(timezone)

    def report(self, day_from: str, day_to: str, channel: Optional[str]) -> Dict[str, Any]:
        self.consumer.update()
        out = summary(self.consumer.engine, day_from, day_to, channel)
        start = datetime.combine(date.fromisoformat(day_from), day_time(), self.zone).timestamp()
        end = datetime.combine(date.fromisoformat(day_to) + timedelta(days=1), day_time(), self.zone).timestamp()
        out.update(desk_measures(self.store.handoff_rows(start, end, channel)))
        overall = combined_scores(out["csat_bot"], out["csat_agent"])
        out["csat_avg"], out["csat_answers"] = overall["avg"], overall["answers"]
        return out


def desk_measures(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    waits = [r["accepted_at"] - r["created_at"] for r in rows if r["accepted_at"]]
    handles = [r["ended_at"] - r["accepted_at"] for r in rows if r["accepted_at"] and r["ended_at"]]
    scores = [r["csat"] for r in rows if r["csat"] is not None]
    return {"csat_agent": score_summary(scores),
            "desk": {"handoffs": len(rows), "accepted": len(waits),
                     "wait_s": {"p50": percentile(waits, 0.5), "p95": percentile(waits, 0.95)},
                     "handle_s": {"p50": percentile(handles, 0.5), "p95": percentile(handles, 0.95)}}}
