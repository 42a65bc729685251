"""Commands for a turn inside a running flow: cancel, correct, answer the pending question, aside, switch."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Optional

from bot.dialogue import cues
from bot.dialogue.slot_values import amount_from_text, card_from_text, payee_from_text, pick_choice, value_for_slot
from bot.dialogue.state import DialogueState
from bot.dialogue.turn import (CONFIDENT, LIKELY, SMALL_TALK, Command, Turn, is_knowledge_question,
                               switch_to)

# What each form asks for, in order (bot/domain).
FORM_SLOTS: dict[str, tuple[str, ...]] = {
    "card_loss_form": ("card_last4", "confirmed"),
    "transfer_form": ("payee", "amount", "card_last4", "confirmed"),
    "repay_form": ("card_last4", "amount", "confirmed"),
    "apply_card_form": ("card_product", "confirmed"),
    "branch_form": ("city", "district"),
    "appointment_form": ("city", "branch_id", "service", "appointment_date", "time_slot", "amount", "confirmed"),
    "complaint_form": ("complaint_text",),
}
# Slots filled from an entity of another name.
ENTITY_FOR_SLOT = {"appointment_date": "date"}
_FILLER = re.compile(r"[\s，,。.!！?？~～]|吧|呢|吗|啊|呀|嘛|行|可以|好|那|就|的|please|ok", re.IGNORECASE)


def in_flow(state: DialogueState, turn: Turn) -> Command:
    text, flow = turn.text.strip(), state.flow
    if cues.is_bare_correction(text):
        return Command("ask_correction", reason="a correction without the new value")
    if cues.is_cancel(text):
        tail = cues.request_after_cancel(text)
        switch = turn.other_task(flow, LIKELY) if tail else None
        if switch:
            return switch_to(switch, turn)
        if not (tail and turn.intent == flow and form_entities(state, turn)):  # "算了，转给李四吧" keeps going
            return Command("cancel_flow", aside="goodbye" if cues.says_goodbye(text) else None, reason="cancel cue")
    if cues.is_correction(text) or state.last_bot_action == "utter_ask_correction":  # or the answer to "改成什么？"
        values = _corrected_values(state, turn)
        if values or not turn.other_task(flow, CONFIDENT):
            # with no value read here, the form's own extraction gets a try (branch names…), else we ask
            return Command("correct_slots", slots=values, reason="correction cue")
    strong_other = turn.other_task(flow, CONFIDENT)
    asked = state.requested_slot
    if asked == "confirmed" and cues.is_affirmation(text) and not (cues.is_question(text) and turn.intent == "faq"):
        return Command("set_slots", slots={"confirmed": True}, reason="a yes to the confirmation")
    if asked and asked != "confirmed" and not is_knowledge_question(turn) and not _aside_only(asked, turn):
        value = value_for_slot(asked, text, turn.entities, state.choices, state.last_card)
        recognised = _recognised(asked, turn) or pick_choice(text, state.choices) is not None
        accepted = not (cues.is_request(text) and strong_other) if recognised else \
            (not strong_other or _whole_answer(asked, text, turn))
        if value is not None and accepted:
            return Command("set_slots", slots={asked: value, **form_entities(state, turn, skip=asked)},
                           reason=f"answers the pending question ({asked})")
    extra = form_entities(state, turn)
    if extra and not strong_other and (turn.intent in ("inform", flow) or not is_knowledge_question(turn)):
        return Command("set_slots", slots=extra, reason="values for this flow's other slots")
    if is_knowledge_question(turn):
        return Command("answer_question", aside="faq", reason="a question in the middle of the flow")
    if turn.intent == "request_human" and turn.confidence >= LIKELY:
        return Command("handoff", reason="asked for a person")
    other = turn.other_task(flow, LIKELY)
    if other and not (cues.is_question(text) and not cues.is_request(text)):  # switching needs a request
        return switch_to(other, turn)
    if other or turn.kb_decision in ("answer", "clarify"):
        return Command("answer_question", aside="faq", reason="a question in the middle of the flow")
    if turn.intent == "goodbye":
        return Command("close_flow", reason="the customer is leaving")
    if turn.intent in SMALL_TALK or turn.intent == "nlu_fallback":
        return Command("small_talk", aside=turn.intent, reason="an aside; the flow waits")
    if turn.intent == "deny" and asked != "confirmed":
        return Command("cancel_flow", reason="a no to the flow itself")
    if turn.intent in ("affirm", "deny") and asked == "confirmed":
        return Command("abstain", reason="yes/no to the confirmation: the form's own mapping")
    if turn.intent in ("affirm", flow):
        return Command("continue_flow", reason="carry on")
    return Command("abstain", reason="nothing the flow can use")


def _recognised(slot: str, turn: Turn) -> bool:
    """The NLU found an entity for the slot (not just a loose reading of the words)."""
    return ENTITY_FOR_SLOT.get(slot, slot) in turn.entities


def _aside_only(slot: str, turn: Turn) -> bool:
    """Free text asked for, but the turn is clearly small talk ("你是机器人吗")."""
    return slot == "complaint_text" and turn.intent in SMALL_TALK + ("goodbye",) and turn.confidence >= CONFIDENT


def _whole_answer(slot: str, text: str, turn: Turn) -> bool:
    """The turn is nothing but the asked value ("他叫陈志强", "一千二", "这周日行吗"), or free text the
    slot asks for: the NLU's guess at an intent does not override the question being answered."""
    if slot == "complaint_text":
        return not cues.is_request(text)
    if slot == "payee":
        return payee_from_text(text) is not None
    if slot == "amount" and amount_from_text(text) is not None:
        return True
    words = turn.entity_texts.get(ENTITY_FOR_SLOT.get(slot, slot))
    rest = _FILLER.sub("", text.replace(words, "")) if words else text
    return bool(words) and len(rest) <= 3


def form_entities(state: DialogueState, turn: Turn, skip: Optional[str] = None) -> dict[str, Any]:
    wanted = FORM_SLOTS.get(state.active_form or "", ())
    found = {name: value for name, value in turn.entities.items() if name in wanted and name != skip}
    if "date" in turn.entities and "appointment_date" in wanted and skip != "appointment_date":
        found["appointment_date"] = turn.entities["date"]
    return found


def _contrast(state: DialogueState, text: str) -> dict[str, Any]:
    """"是1700不是700": the slot whose value is the rejected one gets the new one."""
    match = re.search(r"是(.{1,12}?)[，,]?\s*(?:而)?不是(.{1,12})$", text.strip(" 。！!"))
    if not match:
        return {}
    new, old = match.group(1), match.group(2)
    for slot, value in state.slots.items():
        if value is None or slot not in ("amount", "card_last4", "payee"):
            continue
        if slot == "amount" and amount_from_text(old) is not None and float(amount_from_text(old)) == float(value):
            return {"amount": amount_from_text(new)} if amount_from_text(new) else {}
        if str(value) == old.strip():
            return {slot: new.strip()}
    return {}


def _corrected_values(state: DialogueState, turn: Turn) -> dict[str, Any]:
    """New values in a correction: recognised entities first, then the flow's own slots read loosely."""
    contrast = _contrast(state, turn.text)
    if contrast:
        return contrast
    cue = cues.correction_position(turn.text)
    values = form_entities(state, replace(turn, entities=turn.entities_after(cue))) if turn.mentions else \
        form_entities(state, turn)
    text = _after_cue(turn.text)
    wanted = FORM_SLOTS.get(state.active_form or "", ())
    filled = [s for s in wanted if state.slots.get(s) is not None and s != "confirmed"]
    readers = {"amount": amount_from_text, "payee": payee_from_text,
               "card_last4": lambda t: card_from_text(t, None)}
    if re.fullmatch(r"\D{0,3}\d{4}\D{0,3}", text) and "card_last4" in wanted and not values:
        return {}  # "不对，是4872": a card or an amount? The form knows the customer's cards; it decides
    for slot in filled + ([state.requested_slot] if state.requested_slot in readers else []):
        if slot in readers and slot not in values:
            value = readers[slot](text)
            if value is not None:
                values[slot] = value
                break
    return values


def _after_cue(text: str) -> str:
    """"不对，是三百" -> "三百"; "是4872不是6688" -> "4872"."""
    text = text.strip()
    contrast = re.search(r"是(.{1,12}?)(?:，|,)?不是", text)
    if contrast:
        return contrast.group(1)
    english = re.search(r"\b(?:make (?:it|that)|change (?:it|that) to|i meant|actually(?: it'?s)?)\s+(.+)$", text,
                        re.IGNORECASE)
    if english:
        return english.group(1)
    return re.sub(r"^.*?(?:不对|不是|错了|说错了|搞错了|弄错了|打错了|改成|改为|换成|应该是|更正为?)[了的，,。\s]*(?:是|改成|改为|换成)?",
                  "", text, count=1).strip() or text
