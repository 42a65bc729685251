"""The separate asks of a message that asks for several things.

"我的卡丢了，另外挂失要收费吗" is a request and a question; "查一下余额，还有，美元汇率多少"
two requests. The message is split at sentence ends and at the phrases that join a
second ask to a first one; bot/nlu/linear_intents.py reads each part's intent, the
question/request model and the knowledge base read each part too, and the dialogue
(bot/dialogue/between_flows.py) answers the questions and starts the first request.
"""
from __future__ import annotations

import re
from typing import Any, List, Text

PARTS_KEY = "parts"
ASK_KEY = "ask"  # the clauses of a one-ask message that ask, without its courtesy and context (linear_intents.py)
# Sentence ends ("." only before a space: "1.5万" is an amount), and the phrases that join a second ask
# to a first one. Words that also mean something else ("还有" = "still have": "卡里还有多少钱") join only
# after a comma.
_PART_BREAK = re.compile(r"[？?。！!；;\n]+|\.\s+"
                         r"|[，,]?\s*(?:另外|还想问一?下?|顺便问一?下|再问一?下|and also)[，,:：\s]*"
                         r"|[，,]\s*(?:还有|顺便|再帮我|以及|also)[，,:：\s]*", re.IGNORECASE)
# Clause ends inside one ask; a comma between digits is a thousands separator ("1,000"), not a clause end.
_CLAUSE_BREAK = re.compile(r"[，；;]+|(?<!\d),|,(?!\d)")
MIN_PART_CHARS = 4
MAX_PARTS = 3


def message_parts(text: Text) -> List[Text]:
    """The separate asks in a message; one element (the text itself) when it asks one thing."""
    parts = [p.strip(" ，,") for p in _PART_BREAK.split(text)]
    parts = [p for p in parts if len(p) >= MIN_PART_CHARS]
    return parts[:MAX_PARTS] if len(parts) > 1 else [text]


def clauses(text: Text) -> List[Text]:
    """The comma-separated clauses of a message ("你好，打扰一下，办房贷要准备什么材料，谢谢啦")."""
    return [c.strip() for c in _CLAUSE_BREAK.split(text) if c.strip()]


def text_to_read(message: Any) -> Text:
    """What the question/request model and the knowledge base read: a wrapped message's ask, else its text."""
    return message.get(ASK_KEY) or message.get("text") or ""
