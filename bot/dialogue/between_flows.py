"""Commands for a turn between flows: follow-ups of the task just done, urgent details, offered next steps."""
from __future__ import annotations

import re
from typing import Any, Optional

from bot.dialogue import cues
from bot.dialogue.slot_values import card_from_text, pick_by_position, pick_choice
from bot.dialogue.state import DialogueState
from bot.dialogue.turn import CONFIDENT, LIKELY, OFFER_MIN, URGENT_TASKS, Command, Turn, is_knowledge_question
from bot.flows import TASK_ENTRY

# Values a finished task can be re-run with ("那日元呢", "浦东那个周六开不开", "那另一张呢").
TASK_PARAMETERS: dict[str, tuple[str, ...]] = {
    "exchange_rate": ("currency", "amount"),
    "find_branch": ("city", "district", "date"),
    "check_balance": ("card_last4",),
    "query_transactions": ("date", "card_last4"),
    "credit_card_bill": ("card_last4",),
    "loan_inquiry": ("loan_type", "amount"),
    "wealth_products": ("risk_level",),
}
FAQ_ID = "faq_id"  # the entity a clarification menu's buttons carry (bot/actions/faq.choice_payload)
# "第二个就行", "the second one please": a longer message says more than a position
MENU_PICK_MAX_HAN, MENU_PICK_MAX_WORDS = 8, 4
# A part's intent comes from the linear model alone, whose probabilities are softer than DIET's: over 26
# intents, 0.5 is a clear first reading (chosen on intents/several_asks.py's held-out composites).
PART_LIKELY = 0.5
CARD_TASKS = ("report_card_loss", "credit_card_repay", "check_balance", "query_transactions", "credit_card_bill")
# Pointing at something just shown ("它", "那家", "this one") and asking about its details.
_POINTING = re.compile(r"它|那家|这家|那个|这个|该网点|\b(?:it|its|that one|this one|there)\b", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"地址|在哪|哪条街|电话|号码|ATM|营业|几点|开门|关门|周[一二三四五六日天]|"
                        r"\b(?:address|phone|number|open|close|hours)\b", re.IGNORECASE)


def between_flows(state: DialogueState, turn: Turn) -> Command:
    last = state.last_task
    card = turn.entities.get("card_last4") or _loose_card(turn, state).get("card_last4")
    if last and last.intent == "fraud_report" and card and not (cues.is_request(turn.text)
                                                                 and turn.other_task("fraud_report", LIKELY)):
        return Command("urgent_details", slots={"card_last4": card}, reason="card details for the fraud just reported")
    if state.choices and last and cues.is_cancel(turn.text) and not cues.request_after_cancel(turn.text):
        return Command("cancel_flow", reason="declines what the bot offered (\"不用转人工了\")")
    if last and cues.is_correction(turn.text) and last.intent in TASK_PARAMETERS:
        fixed = {k: v for k, v in (turn.entities | _loose_card(turn, state)).items()
                 if k in TASK_PARAMETERS[last.intent]}
        if fixed:
            return Command("follow_up", intent=last.intent, slots={**last.values, **fixed},
                           reason="corrects the task just done")
    entry = _menu_pick(state, turn)
    if entry:
        return Command("answer_question", aside="faq", slots={FAQ_ID: entry},
                       reason="picks an entry of the clarification menu by its position")
    accepted = _accepted_offer(state, turn)
    if accepted:
        return Command("start_flow", intent=accepted, reason="accepts the task offered after an answer")
    offered = _offered_intent(state, turn)
    if offered:
        return Command("handoff" if offered == "request_human" else "start_flow", intent=offered,
                       reason="picks a next step the bot offered")
    several = several_asks(turn)
    if several:
        return several
    if last and last.intent == "complaint" and last.turns_ago <= 1 and turn.intent in ("complaint", "inform") \
            and len(turn.text) >= 8:
        return Command("complaint_details", reason="more details for the complaint just registered")
    item = _listed_item(state, turn)
    if item:
        return item
    follow = _follow_up(state, turn)
    if follow:
        return follow
    if turn.intent in TASK_ENTRY and is_knowledge_question(turn):
        return Command("answer_question", intent=turn.intent, aside="faq",
                       reason="asks how a task works, not to do it")
    if turn.intent in CARD_TASKS and "card_last4" not in turn.entities and _loose_card(turn, state):
        return Command("start_flow", intent=turn.intent, slots=_loose_card(turn, state),
                       reason="names the card mentioned before")
    return Command("abstain", reason="Rasa's rules handle a fresh request")


def several_asks(turn: Turn) -> Optional[Command]:
    """"我卡丢了，另外挂失收费吗" / "查一下余额，再帮我看看美元汇率": each part of the message read on its own
    (bot/nlu/message_parts.py, bot/nlu/linear_intents.py). The questions are answered, then the first request starts; a second
    request is offered once the first is done. An urgent request always goes first and alone."""
    requests = [p for p in turn.parts if p.intent in TASK_ENTRY and p.confidence >= PART_LIKELY
                and not is_knowledge_question(p)]
    questions = [p for p in turn.parts if p not in requests and p.kb_decision in ("answer", "clarify")
                 and is_knowledge_question(p)]
    wanted = list(dict.fromkeys(p.intent for p in requests))
    if not wanted or (not questions and len(wanted) < 2):
        return None
    urgent = [i for i in wanted if i in URGENT_TASKS]
    first = urgent[0] if urgent else wanted[0]  # the customer's order, unless money is at risk
    second = next((p.intent for p in requests if p.intent != first), None)
    pending = None if first in URGENT_TASKS or second in (None, "request_human") else second
    if first == "request_human":
        return Command("handoff", reason="asks for a person among other things")
    part = next(p for p in requests if p.intent == first)
    return Command("start_flow", intent=first, slots=_entities_in(turn, part.text), aside="faq" if questions else None,
                   questions=[p.text for p in questions], pending=pending,
                   reason=f"asks {len(questions)} question(s) and {len(wanted)} task(s) in one message")


def _entities_in(turn: Turn, part: str) -> dict[str, Any]:
    """The values said in one part of the message ("这个月" of the second ask is not the first task's date)."""
    start = turn.text.find(part)
    if start < 0:
        return dict(turn.entities)
    found: dict[str, Any] = {}
    for name, value, position in turn.mentions:
        if start <= position < start + len(part):
            found.setdefault(name, value)
    return found


def _loose_card(turn: Turn, state: DialogueState) -> dict[str, Any]:
    card = card_from_text(turn.text, state.last_card, turn.entities.get("amount")) \
        if "card_last4" not in turn.entities else None
    return {"card_last4": card} if card else {}


def _menu_pick(state: DialogueState, turn: Turn) -> Optional[str]:
    """The knowledge entry "第二个" / "the last one" names in the clarification menu just offered.

    By position only: a word shared with a title ("信用卡额度怎么提高" after a menu of 信用卡 entries) is
    more likely a new question than a pick, and the knowledge base reads new questions. A menu of one
    (a section of the bank's documents offered) is a yes/no question: "是的" picks it."""
    menu = [c for c in state.choices if c.slot == FAQ_ID]
    if not menu or cues.han_count(turn.text) > MENU_PICK_MAX_HAN or \
            cues.latin_word_count(turn.text) > MENU_PICK_MAX_WORDS:
        return None
    if len(menu) == 1 and (turn.intent == "affirm" or cues.is_affirmation(turn.text)):
        return str(menu[0].value)
    picked = pick_by_position(turn.text, menu)
    return str(picked.value) if picked else None


def _accepted_offer(state: DialogueState, turn: Turn) -> Optional[str]:
    """"好的"/"要" right after "需要现在帮您挂失吗？" starts that task."""
    task = state.offered_task
    if task not in TASK_ENTRY or not (turn.intent == "affirm" or cues.is_affirmation(turn.text)):
        return None
    return None if turn.other_task(task, LIKELY) else task


def _offered_intent(state: DialogueState, turn: Turn) -> Optional[str]:
    """Customers who repeat the task just finished while the bot offers next steps mean one of the steps."""
    offered = {c.payload.lstrip("/").split("{")[0] for c in state.choices if c.payload.startswith("/")}
    offered -= {"deny", "affirm", "faq", "inform"}
    if not offered or not state.last_task or turn.intent in offered:
        return None
    if turn.intent != state.last_task.intent and turn.confidence >= CONFIDENT:
        return None
    ranked = [name for name, score in turn.ranking[:3] if name in offered and score >= OFFER_MIN]
    return ranked[0] if ranked else None


def _listed_item(state: DialogueState, turn: Turn) -> Optional[Command]:
    """"第二个的电话多少", "东城那家在哪条街", "它几点关门": a question about an item the last answer listed."""
    last = state.last_task
    if not last or not state.listed or (cues.is_request(turn.text) and turn.other_task(last.intent, LIKELY)):
        return None
    picked = pick_choice(turn.text, state.listed)
    if picked is None and len(state.listed) == 1 and (_POINTING.search(turn.text) or _ATTRIBUTE.search(turn.text)):
        picked = state.listed[0]
    if picked is None and _ATTRIBUTE.search(turn.text) and not turn.entities:
        # "有ATM吗" about a list of several: the same answer again, it carries every item's details
        return Command("follow_up", intent=last.intent, slots=dict(last.values), reason="asks about the list again")
    if picked is None:
        return None
    return Command("follow_up", intent=last.intent, slots={**last.values, picked.slot: picked.value,
                                                           **{k: v for k, v in turn.entities.items() if k == "date"}},
                   reason=f"asks about {picked.title}, listed in the last answer")


def _follow_up(state: DialogueState, turn: Turn) -> Optional[Command]:
    last = state.last_task
    if not last or last.intent not in TASK_PARAMETERS or turn.other_task(last.intent, CONFIDENT):
        return None
    if turn.intent == "faq" and not cues.is_ellipsis(turn.text):
        return None
    new = {k: v for k, v in turn.entities.items() if k in TASK_PARAMETERS[last.intent]}
    if "district" in new and "city" not in new:
        new["city"] = last.values.get("city")
    elliptical = cues.is_ellipsis(turn.text)
    if not new:
        # "那大概多少利息" right after the loan answer: the same task again, if nothing else knows the answer
        if not (elliptical and turn.kb_decision in ("no_answer", None) and turn.intent in ("faq", "nlu_fallback",
                                                                                           last.intent)):
            return None
    elif not (elliptical or turn.intent in (last.intent, "inform", "nlu_fallback") or len(turn.text) <= 12):
        return None
    return Command("follow_up", intent=last.intent, slots={**last.values, **new},
                   reason=f"continues {last.intent} with new values")
