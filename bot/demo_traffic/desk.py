"""The demo supervisor at the agent desk: takes the handoffs and reads the analytics summary."""
from __future__ import annotations

import secrets
import threading
import time
from typing import Any, Dict, List, Optional, Set, Tuple

from bot.demo_traffic.errors import DemoError
from bot.demo_traffic.http_json import post_json

DEMO_SUPERVISOR = "demo_supervisor"


class Desk:
    """The demo supervisor at the console, through the agent API."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.username = username
        login = post_json(f"{base_url}/agent/api/login", {"username": username, "password": password}, timeout=30)
        self.headers = {"Authorization": f"Bearer {login['token']}"}
        # Asking for a person and finding that request in the queue happen one conversation at a time.
        self.lock = threading.Lock()

    def _get(self, path: str, params: Optional[Dict[str, str]] = None) -> Any:
        import requests

        try:
            response = requests.get(f"{self.base_url}{path}", params=params, headers=self.headers, timeout=60)
        except requests.RequestException as exc:
            raise DemoError(f"GET {path}: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise DemoError(f"GET {path} answered {response.status_code}: {response.text[:200]}")
        return response.json()

    def _post(self, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        return post_json(f"{self.base_url}{path}", body or {}, headers=self.headers, timeout=60)

    def waiting(self) -> List[Dict[str, Any]]:
        """The handoffs waiting in the queue (id, channel, …)."""
        return self._get("/agent/api/queue")["waiting"]

    def new_handoff(self, before: Set[int], channel: str, within_s: float = 15.0) -> Optional[int]:
        """The newest waiting handoff of `channel` not in `before`; None when none came (a ticket instead)."""
        deadline = time.monotonic() + within_s
        while True:
            fresh = [h["id"] for h in self.waiting() if h["channel"] == channel and h["id"] not in before]
            if fresh or time.monotonic() >= deadline:
                return max(fresh) if fresh else None
            time.sleep(0.5)

    def accept(self, handoff_id: int) -> None:
        self._post(f"/agent/api/handoffs/{handoff_id}/accept")

    def say(self, handoff_id: int, text: str) -> None:
        self._post(f"/agent/api/handoffs/{handoff_id}/messages", {"text": text})

    def close(self, handoff_id: int, disposition: str) -> None:
        self._post(f"/agent/api/handoffs/{handoff_id}/close", {"disposition": disposition})

    def report(self, day_from: str, day_to: str, channel: Optional[str] = None) -> Dict[str, Any]:
        """The analytics summary the dashboard shows, for those bank days (and one channel)."""
        params = {"from": day_from, "to": day_to, **({"channel": channel} if channel else {})}
        return self._get("/agent/api/analytics/summary", params)


def ensure_supervisor(username: str, password: Optional[str]) -> Tuple[str, Optional[str]]:
    """(username, password) to log in with. Without a password the demo supervisor is created (or
    its password replaced) with a random one, printed once: no known password is left behind."""
    if password is not None:
        return username, None
    from connectors.agent_desk.store import DeskStore

    generated = secrets.token_urlsafe(18)
    DeskStore().add_agent(username, generated, "supervisor", display_name="客服演示")
    return username, generated
