"""What the bot answers, as each channel shows it (texts and the options a customer may pick), and
which option a Pick step takes: never one that confirms an operation or calls a person."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.demo_traffic.errors import DemoError

WECHAT_CHOOSE_HINT = "请回复数字选择。"  # connectors/wechat/replies.py numbered_options (unit-tested)


@dataclass(frozen=True)
class Option:
    """A button: its title, and what the customer sends to choose it (payload; on WeChat its number)."""

    title: str
    send: str


@dataclass(frozen=True)
class Reply:
    """One turn's answer, whatever the channel: its texts and the options it offers."""

    texts: Tuple[str, ...] = ()
    options: Tuple[Option, ...] = ()

def rest_reply(messages: Any) -> Reply:
    """Rasa's REST answer: a list of {text, buttons: [{title, payload}]}."""
    if not isinstance(messages, list):
        raise DemoError(f"REST answered {str(messages)[:200]!r}, not a list of messages")
    texts = tuple(m["text"] for m in messages if isinstance(m, dict) and m.get("text"))
    options = tuple(Option(b.get("title", ""), b.get("payload") or b.get("title", ""))
                    for m in messages if isinstance(m, dict) for b in m.get("buttons") or [])
    return Reply(texts, options)


def webchat_reply(payloads: Sequence[Dict[str, Any]]) -> Reply:
    """bot_uttered payloads; buttons are rasa-webchat quick replies on the last text of a message."""
    texts = tuple(p["text"] for p in payloads if p.get("text"))
    options = tuple(Option(q.get("title", ""), q.get("payload") or q.get("title", ""))
                    for p in payloads for q in p.get("quick_replies") or [])
    return Reply(texts, options)


NUMBERED = re.compile(r"^(\d{1,2})\. (.+)$")


def wechat_options(text: str) -> Tuple[Option, ...]:
    """WeChat has no buttons: options are numbered lines before the hint, chosen by their number."""
    if WECHAT_CHOOSE_HINT not in text:
        return ()
    lines = text.rsplit(WECHAT_CHOOSE_HINT, 1)[0].rstrip().splitlines()
    options: List[Option] = []
    for line in reversed(lines):
        match = NUMBERED.match(line.strip())
        if not match:
            break
        options.append(Option(match.group(2).strip(), match.group(1)))
    return tuple(reversed(options))


def wechat_reply(texts: Sequence[str]) -> Reply:
    """The options of the last text offering some: an offer replaces the previous one."""
    options: Tuple[Option, ...] = ()
    for text in texts:
        options = wechat_options(text) or options
    return Reply(tuple(texts), options)


UNSAFE_TITLES = ("确认", "确定", "提交", "人工", "confirm", "submit", "human", "agent")
UNSAFE_PAYLOADS = ("/affirm", "/request_human")


def safe(option: Option) -> bool:
    """Random picks never confirm an operation (the sandbox stays unchanged) nor call a person
    (handoffs are their own kind, handled by the desk)."""
    title = option.title.lower()
    return not (any(word in title for word in UNSAFE_TITLES) or option.send.startswith(UNSAFE_PAYLOADS))


def score_option(options: Sequence[Option], score: int) -> Optional[Option]:
    """The option that gives `score` to the bot's satisfaction question ("4分 满意", "4 Satisfied")."""
    return next((o for o in options if re.match(rf"{score}(?:分|\s)", o.title)), None)


def choose(options: Sequence[Option], prefer: str, rng: random.Random) -> Optional[Option]:
    """The option a Pick step takes, or None when the reply offered nothing suitable."""
    if prefer:
        return next((o for o in options if prefer.lower() in o.title.lower()), None)
    candidates = [o for o in options if safe(o)]
    return rng.choice(candidates) if candidates else None
