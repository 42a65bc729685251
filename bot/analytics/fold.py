"""One conversation's events, folded into the facts the supervisors' measures count (docs/analytics.md).

Pure Python over the event dicts Rasa's event broker publishes (``as_dict()`` plus ``sender_id``), in
the order they were published. The fold's state is a JSON-able dict, kept in the database between
batches (consumer.py), so any replica can carry on where another stopped.

A conversation runs from a real session start (not a rollover, bot/session_rollover.py) to the next
one, or until it has been idle for the session expiry. Facts:
  * the conversation: channel, first message, customer messages, handoff (and why), callback ticket;
  * one row per task flow: started, the slots it asked for, confirmed, and how it ended
    (completed / cancelled / abandoned / open);
  * one row per knowledge outcome: an answer, a clarification menu, the entry a customer picked from
    one, or a message not understood (with its masked text);
  * one latency per customer message the bot answered (message to first reply);
  * one rating per answer to the bot's satisfaction question (bot/dialogue/satisfaction.py); a low one
    also marks the conversation's knowledge answers "low_rated", for the knowledge review queue.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional

from bot.dialogue.history import rollover_of
from bot.dialogue.satisfaction import LOW_SCORE, SCORE
from bot.flows import FORM_SUBMIT, TASK_ENTRY
from knowledge_base.doc_answer import citation_key

FLOW_OF_ENTRY = {entry: intent for intent, entry in TASK_ENTRY.items()}
FLOW_OF_SUBMIT = {submit: FLOW_OF_ENTRY[form] for form, submit in FORM_SUBMIT.items()}
CANCEL_ACTIONS = ("action_cancel_task",)
CHANNELS = ("webchat", "wechat", "rest")

Fact = Dict[str, Any]  # {"table": "conversations" | "flows" | "kb" | "latency" | "rating", "row": {...}}
RATED_ANSWERS = 5  # the latest knowledge answers of a conversation that a low score sends for review
Mask = Callable[[str], str]


def channel_of(sender_id: str) -> str:
    prefix = sender_id.split(":", 1)[0] if ":" in sender_id else ""
    return prefix if prefix in CHANNELS else "other"


def new_state(sender_key: str, sender_id: str, started_at: float, number: int) -> Dict[str, Any]:
    return {"key": f"{sender_key}:{number}", "number": number, "channel": channel_of(sender_id),
            "started_at": started_at, "last_at": started_at, "user_turns": 0, "handoff_reason": None,
            "callback": False, "closed": False, "flow": None, "flows": 0, "asked": None}


def knowledge_id(metadata: Dict[str, Any]) -> Optional[str]:
    """What a bot answer came from: its FAQ entry, or "doc:<file> <section>" for a cited document passage."""
    if metadata.get("faq_id"):
        return str(metadata["faq_id"])
    if metadata.get("doc") and metadata.get("section"):
        return citation_key(str(metadata["doc"]), str(metadata["section"]))
    return None


class ConversationFold:
    """Applies events to one sender's state and returns the facts to write (rows are upserts by key)."""

    def __init__(self, sender_key: str, mask: Mask) -> None:
        self.sender_key = sender_key
        self.mask = mask

    def apply(self, state: Optional[Dict[str, Any]], event: Mapping[str, Any]) -> tuple[Dict[str, Any], List[Fact]]:
        at = float(event.get("timestamp") or 0.0)
        facts: List[Fact] = []
        kind = event.get("event")
        if state is None or (kind == "session_started" and rollover_of(event) is None and state["user_turns"]):
            if state is not None:
                facts += self.close(state)
            state = new_state(self.sender_key, str(event.get("sender_id") or ""), at,
                              (state or {}).get("number", 0) + 1)
        state["last_at"] = max(state["last_at"], at)
        if kind == "user":
            facts += self._user(state, event, at)
        elif kind == "bot":
            facts += self._bot(state, event, at)
        elif kind == "action":
            facts += self._action(state, str(event.get("name") or ""), at)
        elif kind == "slot":
            facts += self._slot(state, str(event.get("name") or ""), event.get("value"))
        elif kind == "pause" and not state["handoff_reason"]:
            state["handoff_reason"] = "agent_takeover"  # the desk paused the bot without the bot asking
        facts.append(self.conversation_fact(state))
        return state, facts

    def close(self, state: Dict[str, Any]) -> List[Fact]:
        """The conversation is over: an unfinished flow was abandoned."""
        facts = self._end_flow(state, "abandoned")
        state["closed"] = True
        return facts + [self.conversation_fact(state)]

    @staticmethod
    def conversation_fact(state: Dict[str, Any]) -> Fact:
        row = {k: state[k] for k in ("key", "channel", "started_at", "last_at", "user_turns", "handoff_reason",
                                     "callback", "closed")}
        return {"table": "conversations", "row": row}

    # --- events -------------------------------------------------------------------------------
    def _user(self, state: Dict[str, Any], event: Mapping[str, Any], at: float) -> List[Fact]:
        text = str(event.get("text") or "")
        state["user_turns"] += 1
        state["asked"] = {"at": at, "text": "" if text.startswith("/") else self.mask(text)[:200], "answered": False}
        return []

    def _bot(self, state: Dict[str, Any], event: Mapping[str, Any], at: float) -> List[Fact]:
        metadata = event.get("metadata") or {}
        if metadata.get("agent") or metadata.get("desk_notice"):
            return []  # a person's words or a desk notice, not the bot's answer
        facts: List[Fact] = []
        asked = state.get("asked")
        if asked and not asked["answered"]:
            asked["answered"] = True
            facts.append(self._fact(state, "latency", ms=round((at - asked["at"]) * 1000, 1)))
        handoff = metadata.get("handoff") or {}
        if handoff:
            state["handoff_reason"] = state["handoff_reason"] or handoff.get("reason") or "request_human"
        if metadata.get("callback_reference"):
            state["callback"] = True
        text = (asked or {}).get("text", "")
        if metadata.get(SCORE) is not None:
            facts += self._rating(state, int(metadata[SCORE]))
        answered = knowledge_id(metadata)
        if answered:
            outcome = "picked" if metadata.get("selected_by_customer") else "answer"
            facts.append(self._fact(state, "kb", outcome=outcome, faq_id=answered, text=text))
            answers = state.setdefault("answers", [])  # states stored before ratings existed lack it
            answers[:] = [*answers, {"faq_id": answered, "text": text}][-RATED_ANSWERS:]
        elif metadata.get("kb_candidates") or metadata.get("kb_documents"):
            facts.append(self._fact(state, "kb", outcome="clarify", faq_id=None, text=text))
        elif metadata.get("not_understood"):
            facts.append(self._fact(state, "kb", outcome="no_answer", faq_id=None, text=text))
        return facts

    def _action(self, state: Dict[str, Any], name: str, at: float) -> List[Fact]:
        flow = state.get("flow")
        if name in FLOW_OF_ENTRY and not (flow and flow["intent"] == FLOW_OF_ENTRY[name]):
            facts = self._end_flow(state, "cancelled")  # a new task ends the running one (action_start_task)
            state["flows"] += 1
            state["flow"] = {"key": f"{state['key']}:{state['flows']}", "intent": FLOW_OF_ENTRY[name],
                             "started_at": at, "slots": [], "confirmed": False}
            if name not in FORM_SUBMIT:  # a one-step task has run to its end
                facts += self._end_flow(state, "completed")
            return facts + self._flow_fact(state)
        if name in FLOW_OF_SUBMIT and flow and flow["intent"] == FLOW_OF_SUBMIT[name]:
            return self._end_flow(state, "completed")
        if name in CANCEL_ACTIONS:
            return self._end_flow(state, "cancelled")
        return []

    def _slot(self, state: Dict[str, Any], name: str, value: Any) -> List[Fact]:
        flow = state.get("flow")
        if flow is None:
            return []
        if name == "requested_slot" and value and value not in flow["slots"]:
            flow["slots"].append(value)
        elif name == "confirmed" and value is True:
            flow["confirmed"] = True
        else:
            return []
        return self._flow_fact(state)

    def _rating(self, state: Dict[str, Any], score: int) -> List[Fact]:
        facts = [self._fact(state, "rating", score=score)]
        if score <= LOW_SCORE:
            facts += [self._fact(state, "kb", outcome="low_rated", faq_id=a["faq_id"], text=a["text"])
                      for a in state.get("answers", []) if a["text"]]
        return facts

    # --- facts --------------------------------------------------------------------------------
    def _end_flow(self, state: Dict[str, Any], outcome: str) -> List[Fact]:
        flow = state.get("flow")
        if flow is None:
            return []
        state["flow"] = None
        return [self._flow_row(state, flow, outcome)]

    def _flow_fact(self, state: Dict[str, Any]) -> List[Fact]:
        return [self._flow_row(state, state["flow"], "open")] if state.get("flow") else []

    @staticmethod
    def _flow_row(state: Dict[str, Any], flow: Dict[str, Any], outcome: str) -> Fact:
        return {"table": "flows", "row": {"key": flow["key"], "conversation": state["key"], "channel": state["channel"],
                                          "intent": flow["intent"], "started_at": flow["started_at"],
                                          "slots": list(flow["slots"]), "confirmed": flow["confirmed"],
                                          "outcome": outcome}}

    @staticmethod
    def _fact(state: Dict[str, Any], table: str, **row: Any) -> Fact:
        asked_at = (state.get("asked") or {}).get("at", state["last_at"])
        return {"table": table, "row": {"conversation": state["key"], "channel": state["channel"], "at": asked_at,
                                        **row}}
