"""A long conversation continues in a new session, so turn 500 costs what turn 5 does.

Rasa loads a conversation's current session for every message, every policy featurizes all of
it, and every action call ships it to the action server: a turn's cost grows with the session
(benchmarks/long_conversation.py measured turn 500 at 6.45x turn 5). Rasa's own bound is the
session, which normally ends only after an hour of silence.

``install()`` wraps ``MessageProcessor._update_tracker_session``: when the current session holds
``turns`` customer messages, the next message first starts a new session, and the rollover changes
nothing the bot reads:
  * every slot keeps its value (``SlotSet`` after ``session_started``, as Rasa's carry-over does);
  * the last turns that the dialogue state reads (``carried_context``: the bot's last question,
    its buttons, a task that just ended and its values) travel in the `session_started` event's
    metadata, and readers of recent history put them back (bot/dialogue/history.py);
  * it never happens inside a form, while a slot is asked for, or while an agent holds the
    conversation (a new session would un-pause it).
Transcripts for people (the agent desk, the web chat's history) read across rollovers to the
real session start (``conversation_events``). docs/serving.md, "Long conversations".
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, Optional, Sequence, Text

from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.history import CARRIED, ROLLOVER, rollover_of, since_session_start
from bot.dialogue.state import carried_context

_MARK = "_installed_by_session_rollover"


def session_turns(tracker: DialogueStateTracker) -> int:
    """Customer messages since the current session started."""
    count = 0
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            break
        count += isinstance(event, UserUttered)
    return count


def rollover_due(tracker: DialogueStateTracker, turns: int) -> bool:
    return (turns > 0 and not tracker.is_paused() and tracker.active_loop_name is None
            and tracker.get_slot(REQUESTED_SLOT) is None and session_turns(tracker) >= turns)


def rollover_events(tracker: DialogueStateTracker) -> List[Event]:
    carried = carried_context([event.as_dict() for event in tracker.events])
    kept = [SlotSet(name, slot.value) for name, slot in tracker.slots.items() if slot.value != slot.initial_value]
    return [SessionStarted(metadata={ROLLOVER: {CARRIED: carried}}), *kept, ActionExecuted(ACTION_LISTEN_NAME)]


def recent_tracker_events(events: Sequence[Event]) -> List[Event]:
    """Rasa events with the newest rollover replaced by the turns it carried (as ``recent_events``)."""
    events = list(events)  # a tracker's events are a deque
    for index in range(len(events) - 1, -1, -1):
        rollover = rollover_of(events[index].as_dict()) if isinstance(events[index], SessionStarted) else None
        if rollover is not None:
            carried = [Event.from_parameters(e) for e in rollover.get(CARRIED) or [] if isinstance(e, dict)]
            return [*(e for e in carried if e is not None), *events[index + 1:]]
    return list(events)


async def conversation_events(tracker_store: Any, sender_id: Text) -> List[Dict[str, Any]]:
    """The conversation as a person reads it: its current session and the sessions it rolled over from.
    The whole stored history is read only when the current session is a rollover."""
    tracker = await tracker_store.retrieve(sender_id)
    events = [event.as_dict() for event in tracker.events] if tracker else []
    if not events or rollover_of(events[0]) is None:
        return events
    full = await tracker_store.retrieve_full_tracker(sender_id)
    return since_session_start([event.as_dict() for event in full.events]) if full else events


def _rolling_over(update: Callable[..., Any], turns: int) -> Callable[..., Any]:
    @functools.wraps(update)
    async def update_tracker_session(self: Any, tracker: DialogueStateTracker, output_channel: Any,
                                     metadata: Optional[Dict] = None) -> None:
        await update(self, tracker, output_channel, metadata)
        if rollover_due(tracker, turns):
            tracker.update_with_events(rollover_events(tracker), self.domain)

    setattr(update_tracker_session, _MARK, True)
    return update_tracker_session


def install(turns: int) -> None:
    """Once per process (the Rasa server loads our policy); `turns` 0 leaves Rasa's sessions alone."""
    from rasa.core.processor import MessageProcessor

    current = MessageProcessor._update_tracker_session
    if turns > 0 and not getattr(current, _MARK, False):
        MessageProcessor._update_tracker_session = _rolling_over(current, turns)
