"""The socket.io servers of the web chat and the agent desk, shared across replicas through Redis.

With several replicas, a customer's browser is connected to one of them and an agent's console
to maybe another, while the turn that answers the customer runs wherever the balancer sent it.
python-socketio's Redis manager publishes every emit to a room on a Redis channel, and each
replica delivers it to the members connected to it. Each server gets its own channel, so a web
chat emit never reaches the desk's rooms. Without REDIS_URL (the embedded `make run`) the manager
is the in-process one.
"""
from __future__ import annotations

from typing import Any

from socketio import AsyncRedisManager, AsyncServer

from bot.settings import load_channel_settings


def socket_server(name: str, **options: Any) -> AsyncServer:
    """An AsyncServer for Sanic; `name` keeps its Redis channel apart from the other servers'."""
    redis_url = load_channel_settings().redis_url
    if redis_url:
        options["client_manager"] = AsyncRedisManager(redis_url, channel=f"socketio-{name}")
    return AsyncServer(async_mode="sanic", **options)
