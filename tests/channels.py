"""A running assistant with its channels: Rasa + action server, the fake WeChat API, temp databases."""
from __future__ import annotations

import dataclasses
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from bot.conversations.runner import environment  # noqa: F401  (tests import it from here)
from bot.serve import Servers
from bot.train import ensure_model
from tests.conftest import free_port
from tests.fakes.wechat_api import FakeWeChatApi

CUSTOMER_SECRET = "channel-test-customer-secret-" + "c" * 8
AGENT_PASSWORD = "agent-test-passphrase"
WECHAT = {"token": "test-wechat-token", "app_id": "wx49f0ab532d5d035a", "app_secret": "test-app-secret",
          "aes_key": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "account_id": "gh_shili"}


@contextmanager
def channel_stack(settings, work, safe_mode: bool = True, passive_timeout_s: float = 4.0,
                  desk_max_wait_s: float = 600.0, routing: str = "accept"):
    """Servers configured like production, WeChat pointed at a local fake API server."""
    api = FakeWeChatApi(app_id=WECHAT["app_id"], app_secret=WECHAT["app_secret"]).start()
    host_page_origin = f"http://127.0.0.1:{free_port()}"  # a bank page embedding rasa-webchat (browser tests)
    env = {"ALLOWED_ORIGINS": host_page_origin,
           "CUSTOMER_TOKEN_SECRET": CUSTOMER_SECRET, "CONNECTOR_DB_URL": f"sqlite:///{work / 'connectors.db'}",
           "WECHAT_TOKEN": WECHAT["token"], "WECHAT_APP_ID": WECHAT["app_id"],
           "WECHAT_APP_SECRET": WECHAT["app_secret"], "WECHAT_API_BASE": api.base_url,
           "WECHAT_ENCODING_AES_KEY": WECHAT["aes_key"] if safe_mode else "",
           "WECHAT_ALLOW_PLAIN_MODE": "0" if safe_mode else "1", "WECHAT_ACCOUNT_ID": WECHAT["account_id"],
           "WECHAT_PASSIVE_TIMEOUT_S": str(passive_timeout_s), "DESK_SERVICE_HOURS": "00:00-24:00",
           "DESK_MAX_WAIT_S": str(desk_max_wait_s), "DESK_ROUTING": routing}
    shutil.copytree(settings.index_dir, work / "kb_index")  # the knowledge tests publish new versions into it
    config = dataclasses.replace(settings, rasa_port=free_port(), action_port=free_port(),
                                 tracker_db_path=work / "tracker.db", bank_db_url=f"sqlite:///{work / 'bank.db'}",
                                 secrets_dir=work / "secrets", index_dir=work / "kb_index",
                                 kb_review_db_url=f"sqlite:///{work / 'knowledge.db'}")
    try:
        with environment(env), Servers(model=ensure_model(), settings=config, log_dir=work / "logs") as servers:
            servers.wechat_api = api  # type: ignore[attr-defined]
            servers.connector_db_url = env["CONNECTOR_DB_URL"]  # type: ignore[attr-defined]
            servers.host_page_origin = host_page_origin  # type: ignore[attr-defined]
            yield servers
    finally:
        api.stop()


def add_agent(servers, username: str, role: str = "agent", **options) -> None:
    """options: display_name, queues (see DeskStore.add_agent)."""
    from sqlalchemy import create_engine

    from connectors.agent_desk.store import DeskStore

    DeskStore(create_engine(servers.connector_db_url, future=True)).add_agent(username, AGENT_PASSWORD, role,
                                                                              **options)


def stored_bytes(db: Path) -> bytes:
    """A SQLite database's bytes with its write-ahead log: pooled connections keep the log open, so
    recent writes are there until a checkpoint moves them into the file."""
    return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def wait_until(predicate, timeout_s: float = 30.0) -> bool:
    """Polls `predicate` until it holds or time runs out; its last value says which."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.1)
    return bool(predicate())
