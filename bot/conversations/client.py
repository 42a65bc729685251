"""Talk to a running assistant over HTTP: the REST channel and Rasa's tracker API."""
from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import quote

import requests

from bot.identity import TOKEN_METADATA_KEY, issue_token

SEND_TIMEOUT_S = 120.0
TRACKER_TIMEOUT_S = 30.0
MAX_RATE_LIMIT_RETRIES = 3
WRONG_API_TOKEN = ("the API token is not the server's; set RASA_API_TOKEN (or ASSISTANT_SECRETS_DIR) to the "
                   "server's, or use --in-process")


class ClientError(RuntimeError):
    """A request that failed; the message says what happened and what to check."""


def new_sender() -> str:
    """A fresh REST sender id (one per dialogue per run)."""
    return f"convtest-{uuid.uuid4().hex[:12]}"


class AssistantClient:
    """One assistant at `base_url`; `api_token` guards its tracker API."""

    def __init__(self, base_url: str, api_token: str, session: requests.Session | None = None,
                 bearer_token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_token = api_token
        self.session = session or requests.Session()
        if bearer_token:  # a REST channel that requires a partner credential (REST_BEARER_TOKEN)
            self.session.headers["Authorization"] = f"Bearer {bearer_token}"

    def send(self, sender: str, text: str, customer_token: str | None = None) -> list[dict[str, Any]]:
        """The bot's replies to `text` from REST sender `sender` (with a customer token: logged in)."""
        url = f"{self.base_url}/webhooks/rest/webhook"
        body: dict[str, Any] = {"sender": sender, "message": text}
        if customer_token:
            body["metadata"] = {TOKEN_METADATA_KEY: customer_token}
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            response = self._request("POST", url, json=body, timeout=SEND_TIMEOUT_S)
            if response.status_code != 429 or attempt == MAX_RATE_LIMIT_RETRIES:
                break
            time.sleep(_retry_after(response))
        replies = self._json(response, "POST", url)
        if not isinstance(replies, list) or not all(isinstance(r, dict) for r in replies):
            raise ClientError(f"POST {url}: expected a JSON list of messages, got {str(replies)[:200]}")
        return replies

    def check_ready(self) -> None:
        """Raise ClientError unless the server answers and accepts the API token (GET /status)."""
        url = f"{self.base_url}/status"
        response = self._request("GET", url, params={"token": self.api_token}, timeout=10,
                                 headers={"Authorization": None})
        if response.status_code in (401, 403):
            raise ClientError(f"GET {url}: HTTP {response.status_code}: {WRONG_API_TOKEN}")
        self._json(response, "GET", url)

    def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's tracker (all events after the latest restart)."""
        url = f"{self.base_url}/conversations/{quote(conversation_id, safe=':')}/tracker"
        response = self._request("GET", url, params={"token": self.api_token}, timeout=TRACKER_TIMEOUT_S,
                                 headers={"Authorization": None})  # the partner credential is for REST only
        if response.status_code in (401, 403):
            raise ClientError(f"GET {url}: HTTP {response.status_code}: {WRONG_API_TOKEN}")
        tracker = self._json(response, "GET", url)
        if not isinstance(tracker, dict):
            raise ClientError(f"GET {url}: expected a tracker object, got {str(tracker)[:200]}")
        return tracker

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(method, url, **kwargs)
        except requests.Timeout:
            raise ClientError(f"{method} {url}: no answer within {kwargs.get('timeout')} s") from None
        except requests.ConnectionError:
            raise ClientError(f"{method} {url}: cannot connect; is the assistant running there? "
                              "(start it with `make run`, or pass --in-process)") from None
        except requests.RequestException as exc:
            raise ClientError(f"{method} {url}: {type(exc).__name__}: {exc}") from None

    @staticmethod
    def _json(response: requests.Response, method: str, url: str) -> Any:
        if response.status_code >= 400:
            raise ClientError(f"{method} {url}: HTTP {response.status_code}: {response.text.strip()[:300]}")
        try:
            return response.json()
        except ValueError:
            raise ClientError(f"{method} {url}: the answer is not JSON: "
                              f"{response.text.strip()[:200]!r}") from None


def _retry_after(response: requests.Response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "5")), 1.0), 30.0)
    except ValueError:
        return 5.0


def customer_token(customer_id: str | None) -> str | None:
    """A new signed token for the dialogue's customer (None: anonymous). A token's jti binds to the
    first conversation it is used in, so every dialogue gets its own."""
    return issue_token(customer_id) if customer_id else None
