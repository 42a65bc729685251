"""What the bot does with a knowledge question, judged through the whole NLU pipeline.

Each message is parsed by the trained model and read by the dialogue's own turn
interpretation at the start of a conversation, so the outcome is the one a
customer would see: the knowledge base answers (right or wrong entry), offers a
clarification menu (with or without the right entry), finds nothing, or a task
intent takes the message and starts a flow.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any, Optional

KB_ACTS = ("answer_question",)
KB_INTENTS = ("faq", "nlu_fallback")  # Rasa's rules send both to action_answer_faq


@dataclass
class Outcome:
    kind: str  # answered | clarified | no_answer | task | other
    correct: bool  # answered: the right entry; clarified: the right entry among the choices
    intent: str
    confidence: Optional[float]  # the knowledge base's answer confidence
    top_correct: bool  # the knowledge base's first hit is the right entry, whatever the bot did


def bot_outcome(parse: dict[str, Any], gold_faq_id: Optional[str] = None) -> Outcome:
    """The bot's first move on a message that opens a conversation."""
    from bot.dialogue.commands import interpret
    from bot.dialogue.policy import turn_from_parse
    from bot.dialogue.state import dialogue_state
    from bot.flows import TASK_ENTRY

    turn = turn_from_parse(parse)
    command = interpret(dialogue_state([], {}, None), turn)
    kb = parse.get("kb") or {}
    hits = [h.get("faq_id") for h in kb.get("hits") or []]
    top_correct = bool(hits) and hits[0] == gold_faq_id
    confidence = kb.get("confidence")
    if command.act in KB_ACTS or (command.act == "abstain" and turn.intent in KB_INTENTS):
        decision = kb.get("decision")
        if decision == "answer":
            return Outcome("answered", top_correct, turn.intent, confidence, top_correct)
        if decision == "clarify":
            return Outcome("clarified", gold_faq_id in hits, turn.intent, confidence, top_correct)
        return Outcome("no_answer", False, turn.intent, confidence, top_correct)
    started = command.intent if command.act == "start_flow" else turn.intent
    kind = "task" if started in TASK_ENTRY or command.act == "handoff" else "other"
    return Outcome(kind, False, started or turn.intent, confidence, top_correct)


def summarise_faq(outcomes: list[Outcome]) -> dict[str, Any]:
    n = len(outcomes)
    count = collections.Counter(o.kind for o in outcomes)
    answered = [o for o in outcomes if o.kind == "answered"]
    clarified = [o for o in outcomes if o.kind == "clarified"]
    return {
        "questions": n,
        "answered_rate": round(count["answered"] / n, 4),
        "answered_precision": round(sum(o.correct for o in answered) / max(len(answered), 1), 4),
        "clarified_rate": round(count["clarified"] / n, 4),
        "clarified_right_among_choices": round(sum(o.correct for o in clarified) / max(len(clarified), 1), 4),
        "no_answer_rate": round(count["no_answer"] / n, 4),
        "taken_by_task_rate": round(count["task"] / n, 4),
        "other_rate": round(count["other"] / n, 4),
        "kb_top1_correct": round(sum(o.top_correct for o in outcomes) / n, 4),
        "taken_by": dict(collections.Counter(o.intent for o in outcomes if o.kind in ("task", "other"))),
    }


def summarise_negatives(outcomes: list[Outcome]) -> dict[str, Any]:
    n = len(outcomes)
    answered = sum(o.kind == "answered" for o in outcomes)
    return {"messages": n, "knowledge_answer_rate": round(answered / max(n, 1), 4),
            "no_knowledge_answer_rate": round(1 - answered / max(n, 1), 4)}


def reliability(outcomes: list[Outcome], bins: int = 10) -> list[dict[str, Any]]:
    """Mean answer confidence against how often the first hit is right, per confidence bin."""
    rows = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [o for o in outcomes if o.confidence is not None
                  and (low <= o.confidence < high or (b == bins - 1 and o.confidence == 1.0))]
        if inside:
            rows.append({"low": low, "high": high, "n": len(inside),
                         "mean_confidence": round(sum(o.confidence for o in inside) / len(inside), 4),
                         "top1_correct": round(sum(o.top_correct for o in inside) / len(inside), 4)})
    return rows


def format_faq(summary: dict[str, Any], negatives: Optional[dict[str, Any]]) -> str:
    lines = [f"knowledge questions: {summary['questions']}",
             f"  answered outright:  {summary['answered_rate']:.1%}  (right entry {summary['answered_precision']:.1%})",
             f"  clarified:          {summary['clarified_rate']:.1%}  "
             f"(right entry among the choices {summary['clarified_right_among_choices']:.1%})",
             f"  no answer:          {summary['no_answer_rate']:.1%}",
             f"  taken by a task:    {summary['taken_by_task_rate']:.1%}",
             f"  other (chitchat…):  {summary['other_rate']:.1%}",
             f"  KB first hit right: {summary['kb_top1_correct']:.1%}"]
    if summary["taken_by"]:
        lines.append("  taken by: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["taken_by"].items(),
                                                                             key=lambda kv: -kv[1])))
    if negatives:
        lines.append(f"non-knowledge messages: {negatives['messages']}, no knowledge answer on "
                     f"{negatives['no_knowledge_answer_rate']:.1%}")
    return "\n".join(lines)


def plot_reliability(rows: list[dict[str, Any]], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.plot([r["mean_confidence"] for r in rows], [r["top1_correct"] for r in rows], marker="o",
            label="knowledge base")
    for r in rows:
        ax.annotate(str(r["n"]), (r["mean_confidence"], r["top1_correct"]), fontsize=7,
                    textcoords="offset points", xytext=(3, -10))
    ax.set_xlabel("answer confidence")
    ax.set_ylabel("first hit is the right entry")
    ax.set_title("Reliability of the answer confidence")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
