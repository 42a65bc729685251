"""What the web chat sends: bot texts as markdown the stock rasa-webchat widget shows verbatim.

rasa-webchat renders bot text with react-markdown (remark), where a single newline is a soft
break that collapses into a space and characters such as `*`, `_`, `1.` or `-` at a line start
change the text. Our texts are plain text, so every bot text on this channel is converted:
markdown characters are escaped and single newlines become hard breaks ("  \\n"). Messages carry
`metadata.markdown = true` so our own widget (plain text, `white-space: pre-wrap`) undoes it.
"""
from __future__ import annotations

import re
from typing import Any, Dict

from rasa.core.channels.socketio import SocketIOOutput

INLINE_SPECIAL = re.compile(r"([\\`*_\[\]~])")
# Line starts that would make a heading, quote, list or rule. Only characters remark (GFM mode, as
# in rasa-webchat's react-markdown 4) can escape are escaped; raw HTML is shown as text there.
BLOCK_START = re.compile(r"^(\s{0,3})(#|>|\+|-|\d{1,9}(?=[.)]))")
HARD_BREAK = "  \n"


def _escape_line(line: str) -> str:
    line = INLINE_SPECIAL.sub(r"\\\1", line)
    match = BLOCK_START.match(line)
    if not match:
        return line
    indent, marker = match.groups()
    rest = line[match.end():]
    if marker[0].isdigit():  # "1." / "1)": escape the punctuation, not the number
        return f"{indent}{marker}\\{rest}"
    return f"{indent}\\{marker}{rest}"


def markdown_text(text: str) -> str:
    """Plain text → markdown that renders as the same text with the same line breaks."""
    lines = [_escape_line(line.rstrip()) for line in text.split("\n")]
    out = []
    for index, line in enumerate(lines):
        out.append(line)
        if index < len(lines) - 1:
            paragraph_edge = not line or not lines[index + 1]
            out.append("\n" if paragraph_edge else HARD_BREAK)
    return "".join(out)


def for_widget(message: Dict[str, Any]) -> Dict[str, Any]:
    """A bot_uttered payload with its text converted (buttons and attachments untouched)."""
    if not isinstance(message.get("text"), str) or not message["text"]:
        return message
    metadata = {**(message.get("metadata") or {}), "markdown": True}
    return {**message, "text": markdown_text(message["text"]), "metadata": metadata}


class WebchatOutput(SocketIOOutput):
    """Rasa's socket.io output, emitting to the room named after the conversation id
    (`webchat:<session>`), with texts converted for the widget."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    async def _send_message(self, socket_id: str, response: Any) -> None:
        message = for_widget(response) if isinstance(response, dict) else response
        await self.sio.emit(self.bot_message_evt, message, room=socket_id)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """Only ever to this conversation (Rasa's version lets a payload's `room` key pick another)."""
        await self.sio.emit(self.bot_message_evt, {"custom": json_message}, room=recipient_id)
