"""The project's own conversations (tests/conversations/) replayed over REST against the real assistant.

The same runner the bank's maintainers use (`python -m bot.conversations test tests/conversations/`);
a dialogue marked `xfail` in its file names the reason it does not pass yet, and an xfail that starts
passing is reported so the mark can go.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.conversations.model import conversation_files, load_dialogues
from bot.conversations.runner import format_dialogue, in_process_assistant, run_all, summarise
from bot.settings import REPO_ROOT

pytestmark = pytest.mark.slow
SUITE = REPO_ROOT / "tests" / "conversations"


def _dialogues() -> list:
    return [d for path in conversation_files([SUITE]) for d in load_dialogues(Path(path))]


@pytest.fixture(scope="module")
def results():
    dialogues = _dialogues()
    with in_process_assistant() as client:
        yield run_all(client, dialogues, io.StringIO())


def test_the_suite_is_substantial():
    dialogues = _dialogues()
    assert len(dialogues) >= 150
    assert len({d.id for d in dialogues}) == len(dialogues), "dialogue ids must be unique"


def test_every_conversation_passes_or_says_why_not(results):
    summary = summarise(results)
    report = "\n".join(line for r in results if r.status == "fail" for line in format_dialogue(r))
    print(summary.line())
    assert summary.ok, f"{summary.line()}\n{report}"


def test_every_expected_failure_says_why(results):
    assert all(r.dialogue.xfail and len(r.dialogue.xfail) > 20 for r in results if r.status in ("xfail", "xpass"))
