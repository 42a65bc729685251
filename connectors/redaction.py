"""Secrets a customer types into the chat are hidden before the message reaches Rasa.

A verification code, a password, a full ID or card number never belongs in a chat: the
channel replaces it before the tracker, the logs or an agent can see it, and tells the
dialogue what it hid (``metadata.redacted``) so the bot can warn the customer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.banking.masking import mask_text

HIDDEN = "******"
_CODE_WORD = r"(?:验证码|动态码|校验码|短信码|确认码|动态密码|verification code|security code|one[- ]time code|sms code|otp|passcode)"
_OTP = re.compile(rf"({_CODE_WORD}[^\d\n]{{0,8}})(\d{{4,8}})(?!\d)|(?<!\d)(\d{{4,8}})(?!\d)([^\d\n]{{0,4}}{_CODE_WORD})",
                  re.IGNORECASE)
_PASSWORD = re.compile(r"((?:密码|口令|安全码|校验值|cvv2?|cvn2?|password|passcode|pin)\s*(?:是|为|:|：|is|=)\s*)"
                       r"([^\s，,。；;]{3,32})"
                       r"|((?:密码|口令)\s*)(\d{4,8})(?!\d)", re.IGNORECASE)
_ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)|(?<!\d)\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx](?!\d)")
_CARD_NUMBER = re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)")


@dataclass(frozen=True)
class Redacted:
    text: str
    kinds: tuple[str, ...]  # of: otp, password, id_number, card_number


def _hide_otp(match: re.Match) -> str:
    if match.group(2):
        return match.group(1) + HIDDEN
    return HIDDEN + match.group(4)


def _hide_password(match: re.Match) -> str:
    return (match.group(1) or match.group(3)) + HIDDEN


def redact(text: str) -> Redacted:
    kinds: list[str] = []
    if _PASSWORD.search(text):
        kinds.append("password")
        text = _PASSWORD.sub(_hide_password, text)
    if _OTP.search(text):
        kinds.append("otp")
        text = _OTP.sub(_hide_otp, text)
    if _ID_NUMBER.search(text):
        kinds.append("id_number")
    elif _CARD_NUMBER.search(text):
        kinds.append("card_number")
    return Redacted(mask_text(text) if kinds else text, tuple(kinds))
