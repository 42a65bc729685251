"""What is printed at the end: what the demo sent, and the day's analytics summary it produced
(the numbers the supervisors' dashboard shows), read for the bank days the run covered."""
from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

from bot.demo_traffic.conversations import KINDS
from bot.demo_traffic.desk import Desk
from bot.demo_traffic.drive import Outcome
from bot.demo_traffic.mix import CHANNELS

Report = Dict[str, Any]  # GET /agent/api/analytics/summary's answer
Reports = Tuple[Report, Dict[str, Report]]  # overall, and per channel


def _pct(rate: Optional[float]) -> str:
    """A rate as a percentage; "–" where there was nothing to divide by."""
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _num(value: Optional[float], unit: str = "") -> str:
    """A whole number with its unit; "–" where there was nothing to measure."""
    return "–" if value is None else f"{value:.0f}{unit}"


def traffic_lines(outcomes: Sequence[Outcome], seconds: float) -> List[str]:
    """What the demo sent: per channel and kind, and every failure."""
    failed = [o for o in outcomes if o.failure]
    lines = [f"demo traffic: {len(outcomes)} conversations, {sum(o.messages for o in outcomes)} customer "
             f"messages, {len(failed)} failed, in {seconds:.0f} s", *_channel_lines(outcomes)]
    kinds = Counter(o.conversation.kind for o in outcomes)
    lines.append("  kinds: " + ", ".join(f"{k} {kinds[k]}" for k in KINDS if kinds[k]))
    lines.append(f"  menus picked {sum(o.picked for o in outcomes)}, handoffs taken and closed by the desk "
                 f"{sum(o.handoffs for o in outcomes)}, CSAT answers to agents {sum(o.csat for o in outcomes)}, "
                 f"to the bot {sum(o.bot_csat for o in outcomes)}")
    notes = Counter(note.split(": ", 1)[-1] for o in outcomes for note in o.notes)
    if notes:
        lines.append("  notes: " + "; ".join(f"{note} ×{n}" for note, n in notes.most_common()))
    return lines + [f"  FAILED {o.conversation.label}: {o.failure}" for o in failed]


def _scores(who: str, scores: Any) -> str:
    scores = scores if isinstance(scores, dict) else {}
    avg = scores.get("avg")
    return f"{who} {'–' if avg is None else f'{avg:.2f}'} over {scores.get('answers', 0)}"


def _channel_lines(outcomes: Sequence[Outcome]) -> List[str]:
    """A small table: conversations, messages and failures per channel."""
    lines = [f"  {'channel':<9}{'conversations':>14}{'messages':>10}{'failed':>8}"]
    for channel in CHANNELS:
        mine = [o for o in outcomes if o.conversation.channel == channel]
        lines.append(f"  {channel:<9}{len(mine):>14}{sum(o.messages for o in mine):>10}"
                     f"{sum(1 for o in mine if o.failure):>8}")
    return lines


def report_lines(report: Report, per_channel: Dict[str, Report]) -> List[str]:
    """The supervisors' summary as a few readable lines (the dashboard's numbers)."""
    return _headline_lines(report) + _detail_lines(report, per_channel)


def _headline_lines(report: Report) -> List[str]:
    """The period, then containment, answers, latency and the desk: always printed."""
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(report.get("handoffs_by_reason", {}).items()))
    latency, desk = report.get("latency_ms") or {}, report.get("desk") or {}
    return [
        f"analytics {report['from']}{'' if report['from'] == report['to'] else ' to ' + report['to']} "
        "(GET /agent/api/analytics/summary; every conversation of the day, not only the demo's):",
        f"  conversations {report['conversations']} · contained {report['contained']} "
        f"({_pct(report.get('containment_rate'))}) · handoffs {report['handoffs']}"
        + (f" ({reasons})" if reasons else ""),
        f"  customer messages {report['customer_messages']} · no answer {_pct(report.get('no_answer_rate'))} · "
        f"clarification {_pct(report.get('clarification_rate'))} "
        f"(picked from menu {report.get('picked_from_menu', 0)})",
        f"  latency p50 {_num(latency.get('p50'), ' ms')} · p95 {_num(latency.get('p95'), ' ms')} "
        f"over {latency.get('turns', 0)} turns",
        f"  CSAT {report.get('csat_avg') if report.get('csat_avg') is not None else '–'} "
        f"({report.get('csat_answers', 0)} answers; {_scores('bot', report.get('csat_bot'))}, "
        f"{_scores('agents', report.get('csat_agent'))}) · desk handoffs {desk.get('handoffs', 0)}, accepted "
        f"{desk.get('accepted', 0)}, queue wait p50 {_num((desk.get('wait_s') or {}).get('p50'), ' s')}, "
        f"handle time p50 {_num((desk.get('handle_s') or {}).get('p50'), ' s')}",
    ]


def _detail_lines(report: Report, per_channel: Dict[str, Report]) -> List[str]:
    """Top entries, top unanswered questions, flows and channels: only those with something to show."""
    lines = []
    if report.get("top_entries"):
        lines.append("  top entries: " + ", ".join(f"{e['faq_id']} {e['count']}" for e in report["top_entries"][:5]))
    if report.get("top_unanswered"):
        lines.append("  top unanswered: " + ", ".join(f"「{e['text']}」 {e['count']}"
                                                      for e in report["top_unanswered"][:5]))
    for intent, flow in sorted((report.get("flows") or {}).items()):
        lines.append(f"  flow {intent}: started {flow['started']}, completed {flow['completed']}, cancelled "
                     f"{flow['cancelled']}, abandoned {flow['abandoned']}, open {flow['open']}")
    if per_channel:
        lines.append("  per channel: " + "; ".join(
            f"{channel} {r['conversations']} conversations, contained {_pct(r.get('containment_rate'))}"
            for channel, r in per_channel.items()))
    return lines


def bank_day(zone: str, at: Optional[float] = None) -> str:
    """The bank's local date (ANALYTICS_TIMEZONE): analytics count a conversation on that day."""
    return datetime.fromtimestamp(time.time() if at is None else at, ZoneInfo(zone)).date().isoformat()


def fetch_reports(desk: Desk, zone: str, started: float) -> Reports:
    """The summary for the bank days the run covered, overall and per channel."""
    time.sleep(2)  # the event broker's writer thread inserts queued events in batches
    day_from, day_to = bank_day(zone, started), bank_day(zone)
    return desk.report(day_from, day_to), {c: desk.report(day_from, day_to, c) for c in CHANNELS}
