"""A customer turn as the NLU read it, the command it is turned into, and the readings both sides share."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from bot.dialogue import cues
from bot.flows import TASK_ENTRY

SMALL_TALK = ("greet", "thank", "chitchat", "bot_challenge", "out_of_scope")
CONFIDENT = 0.85
LIKELY = 0.6
OFFER_MIN = 0.1  # an offered next step must be a real reading of the turn, not the ranking's tail
QUESTION_LIKELY = 0.5  # a question the knowledge base can answer outright
QUESTION_SURE = 0.8  # a question the knowledge base can only narrow down to a few entries
# Where reading a request as a question costs most (money is at risk now), a question must be clear.
URGENT_TASKS = ("fraud_report", "report_card_loss")


@dataclass
class Turn:
    """The NLU's reading of the newest message."""

    text: str
    intent: str = ""
    confidence: float = 0.0
    ranking: list[tuple[str, float]] = field(default_factory=list)
    entities: dict[str, Any] = field(default_factory=dict)
    kb_decision: Optional[str] = None
    redacted: tuple[str, ...] = ()
    entity_texts: dict[str, str] = field(default_factory=dict)  # entity -> the words it was read from
    mentions: list[tuple[str, Any, int]] = field(default_factory=list)  # (entity, value, position), in order
    question: Optional[float] = None  # P(information-seeking question), bot/nlu/question_form.py
    parts: list["Turn"] = field(default_factory=list)  # each ask of a several-asks message (bot/nlu/message_parts.py)

    def entities_after(self, position: int) -> dict[str, Any]:
        """First mention of each entity at or after `position` ("不对，用4872转，6688那张留着" -> 4872)."""
        found: dict[str, Any] = {}
        for name, value, start in self.mentions:
            if start >= position:
                found.setdefault(name, value)
        return found

    @property
    def is_payload(self) -> bool:
        return self.text.startswith("/")

    def other_task(self, flow: Optional[str], threshold: float) -> Optional[str]:
        """A task intent other than `flow` the NLU is sure about."""
        if self.intent in TASK_ENTRY and self.intent != flow and self.confidence >= threshold:
            return self.intent
        return None


@dataclass
class Command:
    act: str  # one of ACTS
    intent: Optional[str] = None
    slots: dict[str, Any] = field(default_factory=dict)
    aside: Optional[str] = None
    reason: str = ""
    then: Optional[str] = None  # warn_sensitive: the act for the rest of the message
    questions: list[str] = field(default_factory=list)  # parts of the message to answer first
    pending: Optional[str] = None  # a second task asked in the same message, offered once this one is done

    def as_dict(self) -> dict[str, Any]:
        return {"act": self.act, "intent": self.intent, "slots": self.slots, "aside": self.aside,
                "reason": self.reason, "then": self.then, "questions": self.questions, "pending": self.pending}

    def inner(self) -> "Command":
        return Command(self.then or "abstain", self.intent, self.slots, self.aside, self.reason,
                       questions=self.questions, pending=self.pending)


ACTS = ("abstain", "warn_sensitive", "cancel_flow", "ask_correction", "correct_slots", "set_slots",
        "answer_question", "small_talk", "start_flow", "handoff", "continue_flow", "close_flow", "follow_up",
        "urgent_details", "complaint_details", "rate_bot")


def switch_to(intent: str, turn: Turn) -> Command:
    if intent == "request_human":
        return Command("handoff", reason="asked for a person")
    return Command("start_flow", intent=intent, slots=dict(turn.entities), reason="switches to another task")


def is_knowledge_question(turn: Turn) -> bool:
    """How something works (answered from the knowledge base), not a request to do it.

    The question/request model (bot/nlu/question_form.py) reads the form of the sentence; the
    knowledge base must also know the answer, or the turn stays the request its intent says. A
    fraud or lost-card message needs a clear question: "钱提不出来了" is a victim, not a reader.
    """
    if turn.intent == "faq":
        return True
    if turn.intent in ("affirm", "deny"):
        return False
    if turn.question is None:  # a model trained without the question/request component
        return cues.is_question(turn.text) and not cues.is_request(turn.text) and turn.kb_decision == "answer"
    if turn.kb_decision == "answer":
        return turn.question >= (QUESTION_SURE if turn.intent in URGENT_TASKS else QUESTION_LIKELY)
    return turn.kb_decision == "clarify" and turn.question >= QUESTION_SURE
