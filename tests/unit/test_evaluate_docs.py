"""eval-docs: what it counts as a right answer, and what only as offered."""


def test_eval_docs_counts_a_section_offered_to_open_apart_from_a_right_answer():
    """The documents' "clarify" offers sections (bot/actions/faq.py): the expected one among them is
    "offered", never "section right"; an unanswerable question that gets a menu is still unanswered."""
    from types import SimpleNamespace

    from knowledge_base.doc_answer import DocumentAnswer
    from knowledge_base.evaluate_docs import evaluate_docs

    def unsure(section: str, *others: str) -> DocumentAnswer:
        return DocumentAnswer("clarify", 0.5, "guide.pdf", "指南", section, 1, ("……",),
                              tuple(DocumentAnswer("clarify", 0.5, "guide.pdf", "指南", o, 1, ("……",)) for o in others))

    answers = {"a": unsure("1.1", "2.1", "3.1"), "b": unsure("1.1", "2.1"),
               "c": DocumentAnswer("answer", 0.9, "guide.pdf", "指南", "2.1", 1, ("……",)), "d": unsure("1.1")}
    retriever = SimpleNamespace(answer_from_documents=answers.__getitem__,
                                assess=lambda text: SimpleNamespace(decision="no_answer"))
    rows = [{"text": "a", "doc": "guide.pdf", "section": "3.1", "facts": []},
            {"text": "b", "doc": "guide.pdf", "section": "3.1", "facts": []},
            {"text": "c", "doc": "guide.pdf", "section": "2.1", "facts": []},
            {"text": "d", "doc": None}]
    result = evaluate_docs(retriever, rows)
    assert result["documents"]["guide.pdf"]["section_right"] == 0.3333  # only the answered one
    assert result["documents"]["guide.pdf"]["offered"] == 0.3333  # 3.1 among a's three, not among b's two
    assert (result["unanswerable"]["left_unanswered"], result["unanswerable"]["offered_sections"]) == (1, 1)
