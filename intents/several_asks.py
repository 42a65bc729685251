"""Messages that ask for several things, built from the held-out messages (intents/robustness.py).

Two kinds, joined the way customers join them ("，另外", "，顺便问一下", "。", "，再帮我"):

* request + question: the move is right when the request's task starts and the
  question's part gets its entry (answered, or among the clarification choices);
* request + request (two different tasks, neither urgent nor a handoff): right
  when the first starts and the second is kept to be offered once it is done.

Pairs are drawn with a fixed seed, so the measure repeats exactly.
"""
from __future__ import annotations

import random
import re
from typing import Any

QUESTION_JOINERS = {"zh": ("，另外", "，顺便问一下，", "。", "，还想问一下"), "en": (", and also ", ". ", "? ")}
REQUEST_JOINERS = {"zh": ("，还有，", "。", "，另外"), "en": (", and also ", ". ")}
_NOT_PAIRED = ("fraud_report", "report_card_loss", "request_human")


def composites(rows: list[tuple[str, str, str]], count: int = 60, seed: int = 7) -> list[dict[str, Any]]:
    """[{text, kind: "request+question"|"request+request", task, second}] from (text, kind, target) rows."""
    rng = random.Random(seed)
    requests = [(t, i) for t, k, i in rows if k == "task" and i != "request_human"]
    questions = [(t, f) for t, k, f in rows if k == "faq"]
    made = []
    while len(made) < count:
        (request, task), (question, faq_id) = rng.choice(requests), rng.choice(questions)
        if _language(request) == _language(question):
            made.append({"text": _join(request, question, QUESTION_JOINERS, rng),
                         "kind": "request+question", "task": task, "second": faq_id})
    pairable = [(t, i) for t, i in requests if i not in _NOT_PAIRED]
    while len(made) < 2 * count:
        (first, task), (second, other) = rng.choice(pairable), rng.choice(pairable)
        if task != other and _language(first) == _language(second):
            made.append({"text": _join(first, second, REQUEST_JOINERS, rng),
                         "kind": "request+request", "task": task, "second": other})
    return made


def _language(text: str) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


def _join(first: str, second: str, joiners: dict[str, tuple[str, ...]], rng: random.Random) -> str:
    return first.rstrip("。？?！!. ") + rng.choice(joiners[_language(first)]) + second


def handled(parse: dict[str, Any], case: dict[str, Any]) -> bool:
    """Whether the bot's first move serves every ask of the composite message."""
    from bot.dialogue.commands import interpret
    from bot.dialogue.policy import turn_from_parse
    from bot.dialogue.state import dialogue_state

    command = interpret(dialogue_state([], {}, None), turn_from_parse(parse))
    if command.act != "start_flow" or command.intent != case["task"]:
        return False
    if case["kind"] == "request+request":
        return command.pending == case["second"]
    answered = [p for p in (parse.get("kb") or {}).get("parts") or [] if p.get("text") in command.questions]
    return any(_has_entry(part, case["second"]) for part in answered)


def _has_entry(part: dict[str, Any], faq_id: str) -> bool:
    hits = [h.get("faq_id") for h in part.get("hits") or []]
    return bool(hits) and (hits[0] == faq_id if part.get("decision") == "answer" else faq_id in hits)
