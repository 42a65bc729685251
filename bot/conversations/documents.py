"""Answers from the bank's documents as a customer gets them: each question over REST to the assistant.

``python -m knowledge_base eval-docs`` measures the knowledge base alone. Through the bot a question
can also be read as a task request, answered by an FAQ entry first, or split into several asks, so
this sends each question of a set (eval-docs' JSONL: text, doc, section, facts; doc null for the
unanswerable ones) in a new REST conversation and reads only the replies:

  cited right    a reply cites the expected section ("根据《title》section：", or its English lead-in)
  facts          cited right, and the replies hold every expected fact
  cited wrong    a citation, but of another section
  offered        no citation, and a button opens the expected section (the documents' clarify band)
  unanswerable   cited (an invented answer), offered sections, or neither
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from bot.conversations.client import AssistantClient, new_sender
from knowledge_base.doc_answer import CITATION_PREFIX, citation_key

UNANSWERABLE = "unanswerable"
CITED_RIGHT, CITED_WRONG, OFFERED, NEITHER = "cited_right", "cited_wrong", "offered", "neither"
_LEADS = ("根据《", "According to the bank's document")


@dataclass(frozen=True)
class Outcome:
    kind: str  # CITED_RIGHT, CITED_WRONG, OFFERED or NEITHER
    facts: bool = False


def judge(row: dict[str, Any], replies: list[dict[str, Any]]) -> Outcome:
    """What the customer got for ``row``'s question, from the replies alone."""
    text = "\n".join(str(r.get("text") or "") for r in replies)
    payloads = [str(b.get("payload") or "") for r in replies for b in r.get("buttons") or []]
    if any(lead in text for lead in _LEADS):
        section = row.get("section")
        right = bool(section) and (f"》{section}：" in text or f'section "{section}"' in text)
        return Outcome(CITED_RIGHT if right else CITED_WRONG,
                       facts=right and all(fact in text for fact in row.get("facts") or []))
    if row.get("doc"):
        key = json.dumps(citation_key(row["doc"], row["section"]), ensure_ascii=False)
        return Outcome(OFFERED if any(key in payload for payload in payloads) else NEITHER)
    return Outcome(OFFERED if any(f'"{CITATION_PREFIX}' in payload for payload in payloads) else NEITHER)


@dataclass
class Tally:
    questions: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    facts: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: dict[str, Any], outcome: Outcome, replies: list[dict[str, Any]]) -> None:
        self.questions += 1
        self.counts[outcome.kind] = self.counts.get(outcome.kind, 0) + 1
        self.facts += outcome.facts
        wanted = CITED_RIGHT if row.get("doc") else NEITHER
        if outcome.kind != wanted or (row.get("doc") and not outcome.facts):
            self.misses.append({"text": row["text"], "want": row.get("section"), "got": outcome.kind,
                                "replies": [str(r.get("text") or "")[:160] for r in replies]})

    def as_dict(self) -> dict[str, Any]:
        n = max(self.questions, 1)
        shares = {kind: round(self.counts.get(kind, 0) / n, 4) for kind in (CITED_RIGHT, CITED_WRONG, OFFERED, NEITHER)}
        return {"questions": self.questions, **shares, "facts": round(self.facts / n, 4), "misses": self.misses}


def measure(client: AssistantClient, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Per document and unanswerable tallies, and the totals over the answerable questions."""
    tallies: dict[str, Tally] = {}
    total = Tally()  # the answerable questions of every document
    for row in rows:
        replies = client.send(new_sender(), row["text"])
        outcome = judge(row, replies)
        tallies.setdefault(row.get("doc") or UNANSWERABLE, Tally()).add(row, outcome, replies)
        if row.get("doc"):
            total.add(row, outcome, replies)
    return {"documents": {name: t.as_dict() for name, t in sorted(tallies.items()) if name != UNANSWERABLE},
            UNANSWERABLE: tallies.get(UNANSWERABLE, Tally()).as_dict(),
            "total": {k: v for k, v in total.as_dict().items() if k != "misses"}}


def format_table(result: dict[str, Any]) -> str:
    head = f"{'document':34} {'n':>4} {'cited right':>12} {'facts':>7} {'offered':>8} {'cited wrong':>12}"
    lines = [head]
    for name, row in [*result["documents"].items(), ("all documents", result["total"])]:
        lines.append(f"{name:34} {row['questions']:>4} {row[CITED_RIGHT]:>12.1%} {row['facts']:>7.1%} "
                     f"{row[OFFERED]:>8.1%} {row[CITED_WRONG]:>12.1%}")
    none = result[UNANSWERABLE]
    lines.append(f"unanswerable ({none['questions']}): left unanswered {1 - none[CITED_RIGHT] - none[CITED_WRONG]:.1%}, "
                 f"sections offered {none[OFFERED]:.1%}")
    return "\n".join(lines)


def plot(result: dict[str, Any], path: Path) -> None:
    """Per document: cited right, facts and offered, with the issue's 90 % target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*result["documents"], "all documents"]
    rows = [*result["documents"].values(), result["total"]]
    fig, ax = plt.subplots(figsize=(9, 4))
    for offset, key, label in ((-0.25, CITED_RIGHT, "cited right"), (0.0, "facts", "facts contained"),
                               (0.25, OFFERED, "section offered, not cited")):
        ax.bar([i + offset for i in range(len(names))], [row[key] for row in rows], 0.25, label=label)
    ax.axhline(0.9, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(names)), [n.rsplit(".", 1)[0] for n in names], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title("Document questions over REST, through the whole assistant")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
