"""Masking of personal data in logs, tickets and transcripts shown to agents.

Chinese resident ID numbers (18 characters, last may be X), mainland mobile
numbers and bank card numbers (13–19 digits) are masked wherever they appear
in free text; short numbers such as amounts or a card's last four stay.
"""
from __future__ import annotations

import re

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_CARD = re.compile(r"(?<!\d)\d(?:[ -]?\d){8,14}([ -]?\d{4})(?!\d)")


def mask_card(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return f"**** {digits[-4:]}" if len(digits) >= 4 else "****"


def mask_phone(number: str) -> str:
    return _MOBILE.sub(r"\1****\2", number)


def mask_id_number(number: str) -> str:
    return _ID_NUMBER.sub(lambda m: f"{m.group(1)[:3]}***********{m.group(2)[-4:]}", number)


def mask_text(text: str) -> str:
    """Mask every ID number, mobile number and card number inside ``text``."""
    if not text:
        return text
    text = mask_id_number(text)
    text = mask_phone(text)
    return _CARD.sub(lambda m: "**** " + re.sub(r"\D", "", m.group(1)), text)
