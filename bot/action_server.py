"""The action server, guarded: ``python -m bot.action_server [--host H] [--port P]``.

rasa_sdk's own server listens on every interface, answers any caller and allows every CORS
origin. Actions read customers' accounts, so ours listens on localhost by default (ACTION_HOST
for a private network) and refuses every request that does not carry the shared secret header
the Rasa server sends (endpoints.yml `action_endpoint.headers`). `/health` stays open for
probes; it reveals nothing.
"""
from __future__ import annotations

import argparse
import hmac
import logging
import sys
from typing import Optional

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.logging_privacy import install_log_masking
from bot.settings import action_server_secret, load_settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Action-Secret"
OPEN_PATHS = frozenset({"/health"})


def guarded_app(secret: str, package: str = "bot.actions") -> Sanic:
    """rasa_sdk's app with no CORS and a secret check in front of every route but /health."""
    if len(secret) < 32:
        raise ValueError("ACTION_SERVER_SECRET must be at least 32 characters long")
    app = create_app(package, cors_origins=None)
    expected = secret.encode()

    async def require_secret(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        offered = (request.headers.get(SECRET_HEADER) or "").encode()
        if not hmac.compare_digest(offered, expected):
            log.warning("action server: refused %s %s without a valid %s", request.method, request.path,
                        SECRET_HEADER)
            return response.json({"error": "forbidden"}, status=403)
        return None

    app.register_middleware(require_secret, "request")
    return app


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.action_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=settings.action_host, help="interface to listen on (ACTION_HOST)")
    parser.add_argument("--port", type=int, default=settings.action_port, help="port (ACTION_PORT)")
    args = parser.parse_args(argv)
    install_log_masking()  # before the first log line, not only once bot.actions is imported
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = guarded_app(action_server_secret(settings.secrets_dir))
    app.run(host=args.host, port=args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
