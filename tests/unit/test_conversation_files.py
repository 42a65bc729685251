"""The project's conversation suite is its own material: no customer sentence of the dev sets is in it."""
from __future__ import annotations

import json
import re
import unicodedata

import yaml

from bot.conversations.model import conversation_files, load_dialogues
from bot.settings import REPO_ROOT
from tests.conftest import shared_file

SUITE = REPO_ROOT / "tests" / "conversations"


def _loose(text: str) -> str:
    return re.sub(r"[\s，。！？、,.!?~～…]+", "", unicodedata.normalize("NFKC", text).lower())


def _ours() -> set[str]:
    return {_loose(t.user) for p in conversation_files([SUITE]) for d in load_dialogues(p) for t in d.turns}


def test_no_dev_sentence_is_in_the_suite():
    dev = {_loose(t["user"]) for d in yaml.safe_load(shared_file("eval", "dev_dialogues.yml").read_text("utf-8"))
           ["dialogues"] for t in d["turns"]}
    for name in ("dev_faq.jsonl", "dev_intents.jsonl"):
        dev |= {_loose(json.loads(line)["text"]) for line in
                shared_file("eval", name).read_text(encoding="utf-8").splitlines() if line.strip()}
    assert not _ours() & dev, sorted(_ours() & dev)


def test_every_file_loads():
    assert sum(len(load_dialogues(p)) for p in conversation_files([SUITE])) >= 150
