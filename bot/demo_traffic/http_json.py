"""JSON over HTTP for the REST channel, the WeChat binding and the agent desk, failing as DemoError."""
from __future__ import annotations

from typing import Any, Dict, Optional

from bot.demo_traffic.errors import DemoError

TURN_TIMEOUT_S = 90.0  # a loaded 2-core machine can take many seconds for one turn


def post_json(url: str, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None,
              timeout: float = TURN_TIMEOUT_S) -> Any:
    """POST JSON and return the JSON answer; any other status is a DemoError naming it."""
    import requests  # imported on use: the unit tests and --help need no HTTP client

    try:
        response = requests.post(url, json=body, headers=headers or {}, timeout=timeout)
    except requests.RequestException as exc:
        raise DemoError(f"POST {url}: {type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise DemoError(f"POST {url} answered {response.status_code}: {response.text[:200]}")
    return response.json()
