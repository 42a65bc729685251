"""Compare one turn's Observation with its `expect` mapping: pure functions, no I/O.

Semantics (header of shared/eval/dev_dialogues.yml):
- flow: the task flow in progress (`none`/null: no active flow);
- asks: the requested slot; a list = any of them; `none`/null = nothing requested;
- slots: each named slot; numbers in the file compare numerically (1200 == "1200" == "1200.00"),
  booleans as booleans, null as "not set", anything else as strings;
- faq_id / faq_id_2: some reply of the turn carries that knowledge-base entry;
- no_faq: true = no reply carries a faq_id (false = at least one does);
- handoff, buttons: booleans;
- says_any / says_any_2: at least one reply text contains at least one of the strings;
- says_none: no reply text contains any of them. Substring tests are exact (case-sensitive).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.conversations.observe import Observation

MISSING = "(slot not in tracker)"
_ABSENT = object()


@dataclass(frozen=True)
class Mismatch:
    key: str
    expected: Any
    actual: Any

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "expected": self.expected, "actual": self.actual}


def _none_like(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null", ""))


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None


def slot_matches(expected: Any, actual: Any) -> bool:
    """Whether a slot value holds what a dialogue file expects of it."""
    if expected is None:
        return actual is None
    if isinstance(expected, bool):
        if isinstance(actual, str):
            return actual.strip().lower() == str(expected).lower()
        return actual is expected
    if isinstance(expected, (int, float)):
        number = _number(actual)
        return number is not None and number == Decimal(str(expected))
    return actual is not None and str(actual) == str(expected)


def _flow(expected: Any, obs: Observation) -> list[Mismatch]:
    want = None if _none_like(expected) else expected
    return [] if obs.flow == want else [Mismatch("flow", want, obs.flow)]


def _asks(expected: Any, obs: Observation) -> list[Mismatch]:
    if _none_like(expected):
        return [] if obs.asks is None else [Mismatch("asks", None, obs.asks)]
    allowed = expected if isinstance(expected, list) else [expected]
    return [] if obs.asks in allowed else [Mismatch("asks", expected, obs.asks)]


def _slots(expected: dict[str, Any], obs: Observation) -> list[Mismatch]:
    mismatches = []
    for name, value in expected.items():
        actual = obs.slots.get(name, _ABSENT)
        if actual is _ABSENT:
            mismatches.append(Mismatch(f"slots.{name}", value, MISSING))
        elif not slot_matches(value, actual):
            mismatches.append(Mismatch(f"slots.{name}", value, actual))
    return mismatches


def _faq(key: str) -> Callable[[Any, Observation], list[Mismatch]]:
    def check(expected: Any, obs: Observation) -> list[Mismatch]:
        return [] if expected in obs.faq_ids else [Mismatch(key, expected, obs.faq_ids)]
    return check


def _no_faq(expected: bool, obs: Observation) -> list[Mismatch]:
    return [] if (not obs.faq_ids) == expected else [Mismatch("no_faq", expected, obs.faq_ids)]


def _flag(key: str) -> Callable[[Any, Observation], list[Mismatch]]:
    def check(expected: bool, obs: Observation) -> list[Mismatch]:
        actual = getattr(obs, key)
        return [] if actual == expected else [Mismatch(key, expected, actual)]
    return check


def _strings(expected: Any) -> list[str]:
    return [expected] if isinstance(expected, str) else list(expected)


def _says_any(key: str) -> Callable[[Any, Observation], list[Mismatch]]:
    def check(expected: list[str], obs: Observation) -> list[Mismatch]:
        expected = _strings(expected)
        found = any(s in text for text in obs.texts for s in expected)
        return [] if found else [Mismatch(key, f"any of {expected}", "none of them in the replies")]
    return check


def _says_none(expected: list[str], obs: Observation) -> list[Mismatch]:
    expected = _strings(expected)
    found = [s for s in expected if any(s in text for text in obs.texts)]
    return [Mismatch("says_none", f"none of {expected}", f"replies contain {found}")] if found else []


CHECKS: dict[str, Callable[[Any, Observation], list[Mismatch]]] = {
    "flow": _flow,
    "asks": _asks,
    "slots": _slots,
    "faq_id": _faq("faq_id"),
    "faq_id_2": _faq("faq_id_2"),
    "no_faq": _no_faq,
    "handoff": _flag("handoff"),
    "buttons": _flag("buttons"),
    "says_any": _says_any("says_any"),
    "says_any_2": _says_any("says_any_2"),
    "says_none": _says_none,
}


def check(obs: Observation, expect: dict[str, Any]) -> list[Mismatch]:
    """Every way `obs` differs from `expect` (empty: the turn passes)."""
    mismatches: list[Mismatch] = []
    for key, expected in expect.items():
        if key not in CHECKS:
            raise KeyError(f"unknown expect key {key!r}")
        mismatches.extend(CHECKS[key](expected, obs))
    return mismatches
