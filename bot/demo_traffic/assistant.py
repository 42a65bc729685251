"""The assistant under demo: Rasa + action server on free ports with the throwaway WeChat account,
and the fake WeChat API it talks to."""
from __future__ import annotations

import contextlib
import os
import socket
from typing import Any, Dict, Iterator, Tuple
from unittest import mock

from bot.demo_traffic.wechat import WeChatAccount


def free_port() -> int:
    """A port nothing listens on now, so the demo runs beside `make run`."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_overrides(account: WeChatAccount, api_base: str, rasa_port: int, action_port: int,
                     environ: Dict[str, str]) -> Dict[str, str]:
    """The demo server's environment on top of the caller's: its ports and the throwaway WeChat
    account always; desk hours and per-address limits only where the caller set none. All demo
    customers share one address (127.0.0.1), so the per-address limits, meant for one client, are
    raised; the per-customer limits stay as configured."""
    defaults = {"DESK_SERVICE_HOURS": "00:00-24:00",  # handoffs reach the queue at any hour
                "RATE_PER_ADDRESS_PER_MIN": "100000", "RATE_PER_ADDRESS_BURST": "10000",
                "WEBCHAT_SESSIONS_PER_ADDRESS_PER_HOUR": "100000", "WEBCHAT_SESSIONS_PER_ADDRESS_BURST": "10000"}
    return {**{k: v for k, v in defaults.items() if not environ.get(k)},
            "RASA_PORT": str(rasa_port), "ACTION_PORT": str(action_port), **account.server_env(api_base)}


@contextlib.contextmanager
def demo_assistant(account: WeChatAccount) -> Iterator[Tuple[str, Any, Any]]:
    """Rasa + action server on free ports (their logs beside the tracker store, in demo_traffic/)
    and the fake WeChat API; yields (Rasa URL, fake API, settings); always stopped."""
    from bot.serve import Servers
    from bot.settings import load_settings
    from bot.train import ensure_model
    from tests.fakes.wechat_api import FakeWeChatApi

    api = FakeWeChatApi(app_id=account.app_id, app_secret=account.app_secret).start()
    overrides = server_overrides(account, api.base_url, free_port(), free_port(), dict(os.environ))
    try:
        with mock.patch.dict(os.environ, overrides):
            settings = load_settings()
            log_dir = settings.tracker_db_path.parent / "demo_traffic"
            servers = Servers(model=ensure_model(), settings=settings, log_dir=log_dir)
            print(f"starting the assistant on :{settings.rasa_port} (logs: {log_dir}; about a minute, "
                  "longer on a busy machine)…", flush=True)
            try:  # not `with Servers(...)`: a failed start() would skip __exit__ and leave a server running
                servers.start()
                yield servers.rasa_url, api, settings
            finally:
                servers.stop()
    finally:
        api.stop()
