"""Two costs of Rasa 3.6's dialogue state that every prediction pays, removed.

1. The policies each turn the whole session history into states, and several do it with the same
   arguments: RulePolicy twice per prediction after a message (once reading the message's text,
   once its intent), MemoizationPolicy and TEDPolicy once each with the same ML-data arguments.
   Each pass replays the session event by event. We keep the states a tracker computed for a set
   of arguments until the tracker gets another event, and hand out copies (Rasa's featurizer
   edits the latest state in place).
2. Each replay starts from a fresh tracker that copies every slot with ``copy.copy``, which goes
   through the pickle protocol (``__reduce_ex__``): 0.22 ms for our 60 slots, several times per
   prediction. ``Slot.__copy__`` does what that protocol does for a slot (a new object with the
   same attribute values) directly: 0.09 ms.

Profiled with py-spy under 20 concurrent REST users (benchmarks/load.py), the two were ~8 % and
~5 % of the samples holding the GIL. Installed when the Rasa server loads our policy
(bot/dialogue/policy.py), not during training.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text, Tuple

_MARK = "_installed_by_tracker_states"
_MEMO = "_past_states_memo"

State = Dict[Text, Dict[Text, Any]]


def copy_slot(self: Any) -> Any:
    """What ``copy.copy`` makes of a slot (it has no ``__slots__`` or ``__getstate__``), directly."""
    twin = type(self).__new__(type(self))
    twin.__dict__.update(self.__dict__)
    return twin


def _history_stamp(tracker: Any, domain: Any) -> Tuple[int, int, Optional[int]]:
    """Changes whenever the tracker gets an event: its length, or (at a capped length) its newest event."""
    events = tracker.events
    return id(domain), len(events), id(events[-1]) if events else None


def _arguments_key(omit_unset_slots: bool, ignore_rule_only_turns: bool,
                   rule_only_data: Optional[Dict[Text, Any]]) -> Tuple[bool, bool, Text]:
    return omit_unset_slots, ignore_rule_only_turns, json.dumps(rule_only_data, sort_keys=True, default=str)


def _copied(states: List[State]) -> List[State]:
    """Fresh state and sub-state dicts: callers pop and set keys in them; the values are immutable."""
    return [{name: dict(sub) if isinstance(sub, dict) else sub for name, sub in state.items()} for state in states]


def remembering_past_states(past_states: Any) -> Any:
    def remembered(self: Any, domain: Any, omit_unset_slots: bool = False, ignore_rule_only_turns: bool = False,
                   rule_only_data: Optional[Dict[Text, Any]] = None) -> List[State]:
        stamp = _history_stamp(self, domain)
        memo = self.__dict__.get(_MEMO)
        if memo is None or memo[0] != stamp:
            memo = self.__dict__[_MEMO] = (stamp, {})
        key = _arguments_key(omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        if key not in memo[1]:
            memo[1][key] = past_states(self, domain, omit_unset_slots=omit_unset_slots,
                                       ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data)
        return _copied(memo[1][key])

    remembered.rasas = past_states  # type: ignore[attr-defined]  # tests compare with Rasa's
    return remembered


def install() -> None:
    """Idempotent; a part is skipped where Rasa no longer has what it replaces (a newer Rasa)."""
    from rasa.shared.core.slots import Slot
    from rasa.shared.core.trackers import DialogueStateTracker

    if "__copy__" not in vars(Slot):
        setattr(copy_slot, _MARK, True)
        Slot.__copy__ = copy_slot  # type: ignore[attr-defined]
    current = getattr(DialogueStateTracker, "past_states", None)
    if current is not None and not getattr(current, _MARK, False):
        patched = remembering_past_states(current)
        setattr(patched, _MARK, True)
        DialogueStateTracker.past_states = patched
