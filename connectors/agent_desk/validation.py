"""What every desk endpoint checks about a request before acting on it, and how it says no."""
from __future__ import annotations

from typing import Any, Dict, Optional

from sanic.request import Request

MAX_TEXT = 2000


class ApiError(Exception):
    """Answered as {"error": message} with `status`: the message says what was wrong and what to do."""

    def __init__(self, status: int, message: str, headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def json_body(request: Request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - sanic's own parse error
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "send a JSON object")
    return body


def text_field(body: Dict[str, Any], key: str, limit: int = MAX_TEXT) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"'{key}' must be a non-empty string")
    if len(value) > limit:
        raise ApiError(400, f"'{key}' is longer than {limit} characters")
    return value.strip()


def bearer(request: Request) -> Optional[str]:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None
