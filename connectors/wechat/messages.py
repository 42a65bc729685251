"""Parsing WeChat's XML pushes into typed messages (defusedxml: no entities, no bombs)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_BODY_BYTES = 64 * 1024
SUPPORTED_TYPES = {"text", "voice", "image", "location", "link", "video", "shortvideo", "event", "file"}


class MalformedMessage(ValueError):
    """The body is not a WeChat message; answered with 400 and never shown to the bot."""


@dataclass(frozen=True)
class InboundMessage:
    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    msg_id: Optional[str] = None
    content: Optional[str] = None
    recognition: Optional[str] = None
    event: Optional[str] = None
    event_key: Optional[str] = None

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; events have none, so sender + CreateTime (+ event) stands in."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"evt:{self.from_user}:{self.create_time}:{self.event or ''}"


def parse_xml(body: bytes | str) -> Element:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        raise MalformedMessage(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        root = fromstring(raw, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedMessage(f"not well-formed XML: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise MalformedMessage("root element must be <xml>")
    return root


def _text(root: Element, tag: str) -> Optional[str]:
    node = root.find(tag)
    return node.text if node is not None and node.text is not None else None


def parse_message(body: bytes | str) -> InboundMessage:
    root = parse_xml(body)
    required = {tag: _text(root, tag) for tag in ("ToUserName", "FromUserName", "CreateTime", "MsgType")}
    missing = [tag for tag, value in required.items() if not value]
    if missing:
        raise MalformedMessage(f"missing {', '.join(missing)}")
    msg_type = required["MsgType"].strip().lower()
    if msg_type not in SUPPORTED_TYPES:
        raise MalformedMessage(f"unknown MsgType {msg_type!r}")
    try:
        create_time = int(required["CreateTime"])
    except ValueError:
        raise MalformedMessage("CreateTime is not an integer") from None
    return InboundMessage(
        to_user=required["ToUserName"], from_user=required["FromUserName"], create_time=create_time,
        msg_type=msg_type, msg_id=_text(root, "MsgId"), content=_text(root, "Content"),
        recognition=_text(root, "Recognition"), event=(_text(root, "Event") or "").lower() or None,
        event_key=_text(root, "EventKey"))


def encrypted_payload(body: bytes | str) -> str:
    """The `Encrypt` element of a safe-mode envelope."""
    encrypted = _text(parse_xml(body), "Encrypt")
    if not encrypted:
        raise MalformedMessage("safe-mode body without <Encrypt>")
    return encrypted.strip()
