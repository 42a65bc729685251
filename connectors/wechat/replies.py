"""Building passive replies: text XML, the safe-mode envelope, and text splitting."""
from __future__ import annotations

import time
from typing import Iterable, List, Optional
from xml.etree.ElementTree import Element, SubElement, tostring

# WeChat truncates text messages beyond 2048 bytes; stay clear of it.
MAX_TEXT_BYTES = 2000
SUCCESS = "success"


def _xml(fields: dict[str, str]) -> str:
    root = Element("xml")
    for tag, value in fields.items():
        SubElement(root, tag).text = value
    return tostring(root, encoding="unicode")


def text_reply(to_user: str, from_user: str, content: str, now: Optional[int] = None) -> str:
    return _xml({"ToUserName": to_user, "FromUserName": from_user,
                 "CreateTime": str(now or int(time.time())), "MsgType": "text", "Content": content})


def encrypted_envelope(encrypted: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    return _xml({"Encrypt": encrypted, "MsgSignature": msg_signature, "TimeStamp": timestamp, "Nonce": nonce})


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> List[str]:
    """Chunks under `limit` UTF-8 bytes, cut at line breaks where possible."""
    chunks: List[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode("utf-8")) > limit:
            head = _longest_prefix(line, limit)
            chunks, current = _flush(chunks, current), ""
            chunks.append(head)
            line = line[len(head):]
        if len((current + line).encode("utf-8")) > limit:
            chunks, current = _flush(chunks, current), ""
        current += line
    return [chunk for chunk in _flush(chunks, current) if chunk]


def _flush(chunks: List[str], current: str) -> List[str]:
    return chunks + [current.strip("\n")] if current.strip() else chunks


def _longest_prefix(text: str, limit: int) -> str:
    size, end = 0, 0
    for end, char in enumerate(text):
        size += len(char.encode("utf-8"))
        if size > limit:
            return text[:end]
    return text


def numbered_options(text: str, titles: Iterable[str]) -> str:
    """Buttons as numbered lines; the customer answers with the number."""
    lines = [text.strip()] if text and text.strip() else []
    lines += [f"{index}. {title}" for index, title in enumerate(titles, start=1)]
    lines.append("请回复数字选择。")
    return "\n".join(lines)
