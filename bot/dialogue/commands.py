"""Read a customer turn against the dialogue state and decide what it means, as one command.

Precedence (docs/dialogue.md): button payloads speak for themselves; secrets typed into the
chat are warned about first; inside a flow a cancel, a correction, an answer to the pending
question, a question aside, a switch to another task, small talk; outside a flow a follow-up
of the task just done, details for the urgent case just reported, a pick among offered
next steps; a score right after the bot's satisfaction question. Anything else is left to Rasa's rules (the command ``abstain``).
"""
from __future__ import annotations

from bot.dialogue.between_flows import TASK_PARAMETERS, between_flows
from bot.dialogue.satisfaction import score_of
from bot.dialogue.in_flow import FORM_SLOTS, in_flow
from bot.dialogue.state import DialogueState
from bot.dialogue.turn import ACTS, LIKELY, Command, Turn, switch_to
from bot.flows import TASK_ENTRY

__all__ = ["ACTS", "FORM_SLOTS", "TASK_PARAMETERS", "Command", "Turn", "interpret"]


def interpret(state: DialogueState, turn: Turn) -> Command:
    if turn.is_payload:
        return Command("abstain", reason="a button carries its own intent and values")
    score = score_of(turn.text) if state.rating_asked and not state.active_form else None
    if score is not None:
        return Command("rate_bot", slots={"bot_csat": score}, reason="answers the satisfaction question")
    inner = in_flow(state, turn) if state.active_form else between_flows(state, turn)
    if turn.redacted:  # warn first, then do what the rest of the message asks
        if inner.act == "abstain":
            inner = _explicit(turn)
        return Command("warn_sensitive", intent=inner.intent, slots=inner.slots, aside=inner.aside,
                       reason=f"secret typed into the chat: {', '.join(turn.redacted)}", then=inner.act,
                       questions=inner.questions, pending=inner.pending)
    return inner


def _explicit(turn: Turn) -> Command:
    """What a fresh message asks for on its own (used where Rasa's rules cannot run after a warning)."""
    if turn.intent in TASK_ENTRY and turn.confidence >= LIKELY:
        return switch_to(turn.intent, turn)
    if turn.intent == "faq":
        return Command("answer_question", aside="faq", reason="a knowledge question")
    return Command("abstain", reason="nothing else asked")
