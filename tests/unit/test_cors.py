"""The origin allowlist (connectors/cors.py) for socket.io and REST, in an app set up like `rasa run`."""
from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from typing import Dict, Optional

import pytest
from sanic import Blueprint, response

from connectors.cors import CorsPolicy, normalise_origin
from tests.unit.sanic_app import rasa_like_app, serving

BANK = "https://www.bank.example"


def test_origins_are_normalised_and_malformed_ones_rejected():
    assert normalise_origin("HTTPS://WWW.Bank.Example:443/") == BANK
    assert normalise_origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    for bad in (None, "", "null", "file://", "https://bank.example/path", "ftp://bank.example",
                "bank.example"):
        assert normalise_origin(bad) is None


def test_wildcard_and_garbage_are_refused_at_start_up():
    for value in ("*", "https://*.bank.example", [BANK, "*"], "not an origin"):
        with pytest.raises(ValueError):
            CorsPolicy.from_setting(value, defaults=[])


def test_default_is_public_base_url_only(monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://chat.bank.example/")
    policy = CorsPolicy.from_setting("")
    assert policy.origins == frozenset({"https://chat.bank.example"})
    assert not policy.allows("https://anything.example")


def test_allowed_origins_and_the_servers_own_origin():
    policy = CorsPolicy.from_setting(f"{BANK}, http://localhost:8080", defaults=[])
    assert policy.allows(BANK) and policy.allows("http://localhost:8080")
    assert not policy.allows("https://www.bank.example.evil.example")
    assert not policy.allows("null")
    assert policy.allows("http://localhost:5005", own_origin="http://localhost:5005")
    check = policy.socketio_check()
    assert check(BANK, {}) and check(None, {})
    assert check("http://10.0.0.5:5005", {"HTTP_HOST": "10.0.0.5:5005", "wsgi.url_scheme": "http"})
    assert not check("http://evil.example", {"HTTP_HOST": "10.0.0.5:5005", "wsgi.url_scheme": "http"})


def _call(url: str, method: str, origin: Optional[str]) -> tuple[int, Dict[str, str]]:
    headers = {"Content-Type": "application/json", "Access-Control-Request-Method": "POST"}
    if origin:
        headers["Origin"] = origin
    body = b"{}" if method == "POST" else None
    request = urllib.request.Request(url, method=method, headers=headers, data=body)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}


def test_rest_style_blueprint_under_rasas_app_wide_cors():
    """Rasa's Sanic-CORS answers OPTIONS before any route runs; `install` still applies the policy."""
    policy = CorsPolicy.from_setting(BANK, defaults=[])
    app = rasa_like_app()
    webhook = Blueprint("cors_test_webhook", url_prefix="/webhooks/rest")

    @webhook.route("/webhook", methods=["OPTIONS"])
    async def preflight(request):
        return policy.preflight(request)

    @webhook.route("/webhook", methods=["POST"])
    async def receive(request):
        return response.json([{"recipient_id": "rest:x", "text": "ok"}])

    policy.install(webhook)
    app.blueprint(webhook)

    async def body():
        async with serving(app) as base:
            url = f"{base}/webhooks/rest/webhook"
            loop = asyncio.get_running_loop()

            async def call(method, origin):
                return await loop.run_in_executor(None, _call, url, method, origin)

            status, headers = await call("OPTIONS", BANK)
            assert status == 204 and headers["access-control-allow-origin"] == BANK
            assert "POST" in headers["access-control-allow-methods"]
            assert "content-type" in headers["access-control-allow-headers"].lower()

            status, headers = await call("OPTIONS", "https://evil.example")
            assert status == 403 and "access-control-allow-origin" not in headers

            status, headers = await call("POST", BANK)
            assert status == 200 and headers["access-control-allow-origin"] == BANK  # echoed, never "*"
            assert headers["vary"] == "Origin"

            status, headers = await call("POST", "https://evil.example")
            assert "access-control-allow-origin" not in headers  # the browser withholds the answer

            status, headers = await call("POST", base)  # the assistant's own page
            assert headers["access-control-allow-origin"] == base

    asyncio.run(body())
