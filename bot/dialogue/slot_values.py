"""Free-text values for the slot the bot is asking for, read in the light of that question.

"他叫陈志强" answers "要转给哪位收款人？"; "6688那张", "ends in 6688", "这张卡" answer
"哪张卡？"; "第一个", "浦东那个" pick one of the options the bot just offered. Only the
asked slot is read this loosely; other slots need a recognised entity.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from bot.nlu.entity_values import cn_number, parse_bare_amount

_ORDINALS = {"第一": 0, "第1": 0, "头一": 0, "first": 0, "第二": 1, "第2": 1, "second": 1, "第三": 2, "第3": 2,
             "third": 2, "第四": 3, "第4": 3, "fourth": 3, "第五": 4, "第5": 4, "fifth": 4, "第六": 5, "第6": 5}
_LAST = re.compile(r"最后一|last one|the last", re.IGNORECASE)
_LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_THIS_CARD = re.compile(r"(?:这|那|该|同一)张|这个卡|那个卡|刚才(?:那|说的)|上面(?:那|说的)|this card|that card|same card",
                        re.IGNORECASE)
# Lead-ins around a name: "他叫陈志强", "收款人是王五", "转给赵六吧", "his name is Tom".
_NAME_LEAD = re.compile(r"^(?:那|就)?(?:先)?(?:他|她|对方|收款人|名字|户名)?(?:叫|是|为|名叫|叫做)?(?:转给|给|打给|汇给)?"
                        r"|^(?:his|her|the) name is\s+|^(?:to|it'?s|pay)\s+", re.IGNORECASE)
_NAME_TAIL = re.compile(r"(?:吧|啊|呀|的|哈|呢|好了|就行|就好|。|！|!|\.)+$")
_HAN_NAME = re.compile(r"[\u4e00-\u9fa5]{2,4}")
_LATIN_NAME = re.compile(r"[A-Z][a-z]+(?: [A-Z][a-z]+)?")
_NOT_A_NAME = re.compile(r"[我你您们这那哪谁什么吗呢钱卡转账多少几人工客服银行]")
_AMOUNT_LEAD = re.compile(r"^(?:那|那就|就|先|我要|我想|帮我)?(?:金额|钱数)?(?:是|为|改成|改为)?(?:取|存|转|还|付|汇|打)?(?:个|上)?"
                          r"|^(?:(?:ok|okay|yes|no|wait|so)[,\s]+)*(?:make it|change it to|it'?s|i meant|about|around|"
                          r"pay|repay|transfer|send)?\s*", re.IGNORECASE)
_AMOUNT_TAIL = re.compile(r"\s*(?:please|thanks|instead|then)[.!]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Choice:
    """An option the bot offered as a button: its title and the slot value it stands for."""

    title: str
    slot: Optional[str]
    value: Any
    payload: str


def choices_from_buttons(buttons: Sequence[dict]) -> list[Choice]:
    found = []
    for button in buttons or []:
        payload = str(button.get("payload") or "")
        slot, value = None, None
        match = re.match(r"^/\w+(\{.*\})$", payload)
        if match:
            try:
                data = json.loads(match.group(1))
            except ValueError:
                data = {}
            if isinstance(data, dict) and len(data) == 1:
                slot, value = next(iter(data.items()))
        found.append(Choice(str(button.get("title") or ""), slot, value, payload))
    return found


def pick_by_position(text: str, choices: Sequence[Choice]) -> Optional[Choice]:
    """The offered option a turn names by its position ("第二个", "the second one", "最后一个")."""
    lowered = text.lower()
    for word, index in _ORDINALS.items():
        if word in lowered and index < len(choices):
            return choices[index]
    if _LAST.search(text) and choices:
        return choices[-1]
    return None


def pick_choice(text: str, choices: Sequence[Choice]) -> Optional[Choice]:
    """The offered option a turn refers to by position ("第一个", "the second") or by a distinctive word."""
    by_position = pick_by_position(text, choices)
    if by_position is not None:
        return by_position
    hits = [c for c in choices if _shares_word(text, c.title)]
    return hits[0] if len(hits) == 1 else None


def _shares_word(text: str, title: str) -> bool:
    """Two Han characters in a row, or a 4-digit number, or a Latin word of 4+ letters, common to both."""
    for number in _LAST4.findall(text):
        if number in title:
            return True
    for word in re.findall(r"[A-Za-z]{4,}", text):
        if word.lower() in title.lower():
            return True
    han = re.sub(r"[^\u4e00-\u9fa5]", " ", text)
    generic = {"那个", "这个", "一个", "网点", "支行", "银行", "示例", "卡片", "尾号", "业务", "办理", "可以", "那张"}
    return any(han[i:i + 2] in title and han[i:i + 2] not in generic
               for i in range(len(han) - 1) if " " not in han[i:i + 2])


def card_from_text(text: str, last_card: Optional[str], amount: Any = None) -> Optional[str]:
    """Last four digits named in any wording, or the card the conversation already named ("这张卡");
    never the number the NLU read as the amount ("帮我还1000信用卡")."""
    numbers = [n for n in _LAST4.findall(text) if n != str(amount or "").split(".")[0]]
    if len(set(numbers)) == 1:
        return numbers[0]
    if not numbers and last_card and _THIS_CARD.search(text):
        return last_card
    return None


def payee_from_text(text: str) -> Optional[str]:
    """A person's name given as the whole answer: "他叫陈志强", "李四吧", "Tom Lee"."""
    if amount_from_text(text) is not None:
        return None
    rest = _NAME_TAIL.sub("", _NAME_LEAD.sub("", text.strip(), count=1)).strip(" ，,")
    latin = _LATIN_NAME.fullmatch(rest)
    if latin:
        return latin.group(0)
    if _HAN_NAME.fullmatch(rest) and not _NOT_A_NAME.search(rest):
        return rest
    return None


def amount_from_text(text: str) -> Optional[str]:
    """"一千二", "那取十万", "3000块", "1.2k" as a number string; None unless the turn is just an amount."""
    core = _AMOUNT_TAIL.sub("", _AMOUNT_LEAD.sub("", text.strip(), count=1)).strip(" ，,。.!！吧")
    value = parse_bare_amount(core)
    if value is None and re.fullmatch(r"[零〇一二两三四五六七八九十百千万亿]+", core or "-"):
        number = cn_number(core)
        value = str(number) if number is not None else None
    return value


def value_for_slot(slot: str, text: str, entities: dict[str, Any], choices: Sequence[Choice],
                   last_card: Optional[str]) -> Any:
    """The value this turn gives for `slot`, or None."""
    if slot in entities:
        return entities[slot]
    if slot == "appointment_date" and isinstance(entities.get("date"), dict):
        return entities["date"].get("start")
    chosen = pick_choice(text, [c for c in choices if c.slot == slot])
    if chosen is not None:
        return chosen.value
    if slot == "card_last4":
        return card_from_text(text, last_card, entities.get("amount"))
    if slot == "payee":
        return payee_from_text(text)
    if slot == "amount":
        return amount_from_text(text)
    if slot == "complaint_text":  # free text: the form's validation says when it is too short
        return text.strip() or None
    return None
