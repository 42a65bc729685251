"""The bot's own satisfaction question (CSAT): when to ask it and how to read the answer.

When a customer says goodbye to a conversation the bot served on its own (it answered a knowledge
question or ran a task to its end, and no person was asked for), the bot asks once for a 1–5 score. The next
message answers it if it reads as a score ("5", "4分", "五星", a button); anything else is an ordinary
turn and the question lapses. Conversations an agent took part in are rated by the agent desk's own
survey (connectors/agent_desk/csat.py), so the two never ask the same customer twice.

Both the question and the answer are bot events with metadata (QUESTION, SCORE), so the analytics
fold reads them from the event stream and "what did this customer rate" is in the tracker.
Pure Python on event dicts (Rasa's ``as_dict()`` form).
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

from bot.dialogue.history import last_bot_event, recent_events, since_session_start
from bot.flows import TASK_DONE

QUESTION = "bot_csat_question"  # bot event metadata: this message asked for a score
SCORE = "bot_csat_score"  # bot event metadata: the score the customer gave (1–5)
LOW_SCORE = 2  # a score at or below this marks the conversation's answers for review
_CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
# "5", "5分", "４ 分", "五星", "打3分", "给五分吧", "3 stars", "score: 4" — one digit 1–5 and nothing else of substance
_SCORE = re.compile(r"^(?:打|给|评)?\s*([1-5一二两三四五])\s*(?:分|星|颗星|stars?|points?)?\s*(?:吧|啦|了)?[。.!！]*$",
                    re.IGNORECASE)
_SERVED_ACTIONS = frozenset(TASK_DONE)  # a task run to its end (a cancelled one is not service)
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def score_of(text: str) -> Optional[int]:
    """The 1–5 score a reply gives, or None when it is not (only) a score."""
    text = text.strip().translate(_FULL_WIDTH_DIGITS)
    text = re.sub(r"^(?:score|rating)\s*[:：]?\s*", "", text, flags=re.IGNORECASE)
    match = _SCORE.match(text)
    if not match:
        return None
    digit = match.group(1)
    return int(digit) if digit.isdigit() else _CHINESE_DIGITS[digit]


def should_ask(events: Sequence[Mapping[str, Any]]) -> bool:
    """Ask at this goodbye? Only once per conversation, only when the bot served it alone."""
    conversation = recent_events(since_session_start(events))
    served = False
    for event in conversation:
        kind = event.get("event")
        metadata = event.get("metadata") or {}
        if kind == "pause" or (kind == "bot" and (metadata.get("handoff") or metadata.get("agent")
                                                  or metadata.get("callback_reference"))):
            return False  # a person took part: the desk's survey rates it
        if kind == "bot" and (QUESTION in metadata or SCORE in metadata):
            return False  # asked already in this conversation
        if (kind == "bot" and metadata.get("faq_id")) or (kind == "action" and event.get("name") in _SERVED_ACTIONS):
            served = True
    return served


def question_pending(history: Sequence[Mapping[str, Any]]) -> bool:
    """Was the bot's last message before the current turn the satisfaction question?

    `history` ends before the current customer message (bot.dialogue.state)."""
    return QUESTION in ((last_bot_event(history) or {}).get("metadata") or {})
