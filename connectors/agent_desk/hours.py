"""Whether people are at the desk now (DESK_SERVICE_HOURS, e.g. "08:00-22:00", in DESK_TIMEZONE)."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_hours(spec: str) -> tuple[dt.time, dt.time]:
    match = _RANGE.match(spec or "")
    if not match:
        raise ValueError(f"DESK_SERVICE_HOURS={spec!r} must look like 08:00-22:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        return dt.time(h1, m1), dt.time(h2, m2) if (h2, m2) != (24, 0) else dt.time(23, 59, 59)
    except ValueError:
        raise ValueError(f"DESK_SERVICE_HOURS={spec!r} has an impossible time") from None


def within_hours(spec: str, timezone: str, now: dt.datetime | None = None) -> bool:
    start, end = parse_hours(spec)
    local = (now or dt.datetime.now(dt.timezone.utc)).astimezone(ZoneInfo(timezone)).time()
    return start <= local < end if start <= end else (local >= start or local < end)
