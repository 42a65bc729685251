"""Document answering measured: right section cited, facts contained, unanswerable left unanswered.

Each question goes through what the bot does (retriever.py): the FAQ assessment first, then the
documents. A question is counted under its document ("unanswerable" for doc null):

  * section right  the documents' answer cites the expected document and section heading;
  * facts          every expected fact is in the text the customer is shown;
  * FAQ took it    a confident FAQ entry answered instead (the bot says that entry first);
  * offered        not answered, but the expected section is among those the bot offers to open (the
                   documents' "clarify": bot/actions/faq.py); not counted as right;
  * unanswered     for unanswerable questions: neither a document answer nor a confident FAQ answer
                   that cites a document (an FAQ answer is not an invented document answer).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from knowledge_base.evaluate import EvalSetError, read_jsonl
from knowledge_base.scoring import ANSWER, CLARIFY

UNANSWERABLE = "unanswerable"


@dataclass
class DocTally:
    questions: int = 0
    section_right: int = 0
    facts: int = 0
    answered: int = 0
    offered: int = 0
    faq_took: int = 0
    misses: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        n = max(self.questions, 1)
        return {"questions": self.questions, "answered": self.answered,
                "section_right": round(self.section_right / n, 4), "facts": round(self.facts / n, 4),
                "offered": round(self.offered / n, 4), "faq_took": self.faq_took, "misses": self.misses}


def read_questions(path: Path) -> list[dict]:
    """Questions with "text" and "doc" (null for unanswerable ones), "section" and "facts" when answerable."""
    rows = read_jsonl(Path(path), ("text",))
    for number, row in enumerate(rows, start=1):
        if "doc" not in row or (row["doc"] is not None and not isinstance(row.get("section"), str)):
            raise EvalSetError(f'{path}: question {number} needs "doc" (null for unanswerable questions) '
                               'and, with a doc, "section"')
    return rows


def evaluate_docs(retriever, rows: list[dict]) -> dict:
    """Per document tallies, the unanswerable tally, totals and the mean answer time."""
    tallies: dict[str, DocTally] = {}
    started = time.perf_counter()
    for row in rows:
        tally = tallies.setdefault(row["doc"] or UNANSWERABLE, DocTally())
        tally.questions += 1
        answer = retriever.answer_from_documents(row["text"])
        faq = retriever.assess(row["text"])
        cited = answer.decision == ANSWER
        tally.answered += cited
        offered = [(o.doc, o.section) for o in (answer, *answer.others)] if answer.decision == CLARIFY else []
        tally.faq_took += faq.decision == ANSWER
        if row["doc"] is None:
            tally.offered += bool(offered)
            if cited:
                tally.misses.append({"text": row["text"], "cited": f"{answer.doc} {answer.section}"})
            continue
        right = cited and answer.doc == row["doc"] and answer.section == row["section"]
        facts = cited and all(fact in answer.text for fact in row.get("facts") or [])
        tally.section_right += right
        tally.offered += (row["doc"], row["section"]) in offered
        tally.facts += facts
        if not (right and facts):
            tally.misses.append({"text": row["text"], "want": row["section"], "decision": answer.decision,
                                 "cited": answer.section, "shown": answer.text[:160]})
    return _summary(tallies, len(rows), time.perf_counter() - started)


def _summary(tallies: dict[str, DocTally], n: int, seconds: float) -> dict:
    answerable = [t for name, t in tallies.items() if name != UNANSWERABLE]
    asked = sum(t.questions for t in answerable) or 1
    none = tallies.get(UNANSWERABLE, DocTally())
    return {
        "documents": {name: t.as_dict() for name, t in sorted(tallies.items()) if name != UNANSWERABLE},
        "unanswerable": {"questions": none.questions, "left_unanswered": none.questions - none.answered,
                         "rate": round((none.questions - none.answered) / max(none.questions, 1), 4),
                         "offered_sections": none.offered, "misses": none.misses},
        "total": {"section_right": round(sum(t.section_right for t in answerable) / asked, 4),
                  "facts": round(sum(t.facts for t in answerable) / asked, 4),
                  "offered": round(sum(t.offered for t in answerable) / asked, 4),
                  "faq_took": sum(t.faq_took for t in answerable)},
        "ms_per_question": round(1000 * seconds / max(n, 1), 1),
    }


def format_table(result: dict) -> str:
    lines = [f"{'document':34} {'n':>4} {'section right':>14} {'facts':>7} {'offered':>8} {'FAQ took':>9}"]
    for name, row in result["documents"].items():
        lines.append(f"{name:34} {row['questions']:>4} {row['section_right']:>14.1%} {row['facts']:>7.1%} "
                     f"{row['offered']:>8.1%} {row['faq_took']:>9}")
    total = result["total"]
    lines.append(f"{'all documents':34} {sum(r['questions'] for r in result['documents'].values()):>4} "
                 f"{total['section_right']:>14.1%} {total['facts']:>7.1%} {total['offered']:>8.1%} "
                 f"{total['faq_took']:>9}")
    none = result["unanswerable"]
    lines.append(f"unanswerable left unanswered: {none['left_unanswered']}/{none['questions']} ({none['rate']:.1%}); "
                 f"sections offered instead: {none['offered_sections']}")
    lines.append("offered: not answered, the expected section among those offered to open (not counted as right)")
    lines.append(f"{result['ms_per_question']} ms per question")
    return "\n".join(lines)


def plot(result: dict, path: Path) -> None:
    """Bars per document (section right, facts) and the unanswerable rate, with the targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["documents"])
    fig, ax = plt.subplots(figsize=(9, 4))
    xs = range(len(names))
    right = [result["documents"][n]["section_right"] for n in names]
    ax.bar([x - 0.2 for x in xs], right, 0.4, label="section right")
    ax.bar([x - 0.2 for x in xs], [result["documents"][n]["offered"] for n in names], 0.4, bottom=right,
           color="none", edgecolor="tab:blue", hatch="//", label="section offered, not answered")
    ax.bar([x + 0.2 for x in xs], [result["documents"][n]["facts"] for n in names], 0.4, label="facts contained")
    ax.bar([len(names)], [result["unanswerable"]["rate"]], 0.4, label="unanswerable left unanswered")
    ax.axhline(0.9, color="grey", linestyle="--", linewidth=1)
    ax.axhline(0.95, color="grey", linestyle=":", linewidth=1)
    ax.set_xticks([*xs, len(names)], [n.rsplit(".", 1)[0] for n in names] + ["unanswerable"], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("Answers from documents (targets: 90 % section / facts, 95 % unanswerable)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
