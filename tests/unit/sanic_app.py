"""A real Sanic server on a free local port for channel tests, set up the way `rasa run` sets up
its app (Rasa's app-wide Sanic-CORS included), without training or loading a model."""
from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator

from sanic import Sanic

from tests.conftest import free_port


def rasa_like_app() -> Sanic:
    from rasa.server import configure_cors

    Sanic.test_mode = True  # many apps per process
    app = Sanic(f"test_{uuid.uuid4().hex[:12]}")
    configure_cors(app, None)  # what `rasa run` does without --cors
    return app


@asynccontextmanager
async def serving(app: Sanic) -> AsyncIterator[str]:
    """Run `app` (server start listeners included) and yield its base URL."""
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
