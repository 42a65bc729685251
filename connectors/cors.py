"""Which web origins may call a channel from a browser: one allowlist for socket.io and REST.

The bank embeds the chat widget on its own domains only, so the default is the server's own
origin (same scheme://host:port as the request) plus PUBLIC_BASE_URL; more origins come from
credentials.yml (`cors_allowed_origins: ${ALLOWED_ORIGINS}`, comma-separated, one setting for the
web chat's socket.io and the REST webhook). `*` is refused outright: a wildcard would let any
site drive a customer's chat from their browser.

Rasa's app-wide Sanic-CORS answers every OPTIONS request itself before a route runs, so a
channel applies the policy in a blueprint *response* middleware (`CorsPolicy.install`), which
runs on that early answer as well as on the route's own responses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

ORIGIN = re.compile(r"(https?)://([a-z0-9.\-]+|\[[0-9a-f:]+\])(?::(\d{1,5}))?")
DEFAULT_PORTS = {"http": "80", "https": "443"}
PREFLIGHT_MAX_AGE_S = 600


def normalise_origin(value: Any) -> Optional[str]:
    """`scheme://host[:port]` in lower case without a default port, or None if not an origin."""
    if not isinstance(value, str):
        return None
    match = ORIGIN.fullmatch(value.strip().rstrip("/").lower())
    if not match:
        return None
    scheme, host, port = match.groups()
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")


def _own_origin(request: Any) -> Optional[str]:
    """The origin the request was addressed to (scheme + Host header)."""
    host = request.headers.get("host")
    return f"{request.scheme}://{host}" if host else None


@dataclass(frozen=True)
class CorsPolicy:
    """Origins allowed to call from a browser; the request's own origin is always allowed."""

    origins: frozenset = field(default_factory=frozenset)
    methods: str = "POST, OPTIONS"
    headers: str = "Content-Type, Authorization"

    @classmethod
    def from_setting(cls, value: Any, defaults: Optional[Iterable[str]] = None) -> "CorsPolicy":
        """From a credentials value (comma-separated string, YAML list, empty or None) plus the
        defaults (PUBLIC_BASE_URL unless given). Raises ValueError for `*` or anything that is not
        a plain origin, so a typo fails at start-up instead of locking out or opening up the widget."""
        if defaults is None:
            from bot.settings import load_channel_settings

            defaults = [load_channel_settings().public_base_url]
        return cls(frozenset(_parse(value, defaults)))

    def allows(self, origin: Any, own_origin: Optional[str] = None) -> bool:
        candidate = normalise_origin(origin)
        if candidate is None:  # missing, "null" (sandboxed iframes, file://) or malformed
            return False
        if candidate in self.origins:
            return True
        return own_origin is not None and candidate == normalise_origin(own_origin)

    def allowed_origin(self, request: Any) -> Optional[str]:
        """The request's Origin to echo in Access-Control-Allow-Origin, or None."""
        origin = request.headers.get("origin")
        return origin.strip() if self.allows(origin, _own_origin(request)) else None

    def decorate(self, request: Any, response: Any) -> Any:
        """Set (or remove) the CORS headers of `response`; a preflight (OPTIONS) of an allowed
        origin becomes 204 with the allowed methods, of another origin 403. Overrides whatever an
        app-wide CORS layer set for these routes."""
        for name in ("access-control-allow-origin", "access-control-allow-credentials",
                     "access-control-allow-methods", "access-control-allow-headers", "access-control-max-age",
                     "access-control-expose-headers"):
            if name in response.headers:
                del response.headers[name]
        response.headers["Vary"] = "Origin"
        origin = self.allowed_origin(request)
        preflight = request.method == "OPTIONS"
        if origin is None:
            if preflight:
                response.status = 403
            return response
        response.headers["Access-Control-Allow-Origin"] = origin
        if preflight:
            response.status = 204
            response.headers["Access-Control-Allow-Methods"] = self.methods
            response.headers["Access-Control-Allow-Headers"] = self.headers
            response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
        return response

    def preflight(self, request: Any) -> Any:
        """The answer to an OPTIONS request (for a route that declares OPTIONS)."""
        from sanic import response

        return self.decorate(request, response.empty(status=204))

    def install(self, blueprint: Any) -> None:
        """Apply the policy to every response of `blueprint`, including the OPTIONS answer
        Rasa's app-wide Sanic-CORS gives before any route runs."""

        @blueprint.middleware("response")
        async def cors(request: Any, response: Any) -> None:
            self.decorate(request, response)

    def socketio_check(self):
        """For python-socketio's `cors_allowed_origins`: a request without Origin (no browser
        page) passes; a browser page only from an allowed origin or the server's own."""

        def check(origin: Optional[str], environ: Mapping[str, Any]) -> bool:
            if not origin:
                return True
            host = environ.get("HTTP_HOST")
            own = f"{environ.get('wsgi.url_scheme', 'http')}://{host}" if host else None
            return self.allows(origin, own)

        return check


def _parse(value: Any, defaults: Iterable[str]) -> set:
    if value is None:
        items: list = []
    elif isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = [str(item) for item in value]
    else:
        raise ValueError(f"cors_allowed_origins must be a comma-separated string or a list, not {value!r}")
    origins = set()
    for raw in [*items, *defaults]:
        item = raw.strip()
        if not item:
            continue
        if "*" in item:
            raise ValueError("cors_allowed_origins: '*' is not allowed; list the bank's own origins "
                             "(e.g. https://www.example-bank.cn)")
        origin = normalise_origin(item)
        if origin is None:
            raise ValueError(f"cors_allowed_origins: {item!r} is not an origin like https://host[:port]")
        origins.add(origin)
    return origins
