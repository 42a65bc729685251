"""Our assistant started for a benchmark: Rasa + action server on free ports, scratch databases."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:  # Rasa is slow to import: only the functions below import it, when they run
    from bot.serve import Servers


@contextlib.contextmanager
def our_server(log_dir: Path) -> Iterator[str]:
    """Rasa + action server with a scratch tracker store and sandbox bank; yields the Rasa URL; always stopped."""
    with our_servers(log_dir) as servers:
        yield servers.rasa_url


@contextlib.contextmanager
def our_servers(log_dir: Path) -> Iterator["Servers"]:
    """As our_server, yielding the started `bot.serve.Servers` (its processes, for memory sampling)."""
    from bot.serve import Servers
    from bot.settings import load_settings
    from bot.train import ensure_model
    from tests.conftest import free_port

    with tempfile.TemporaryDirectory() as tmp:
        settings = dataclasses.replace(load_settings(), rasa_port=free_port(), action_port=free_port(),
                                       tracker_db_path=Path(tmp) / "tracker.db",
                                       bank_db_url=f"sqlite:///{tmp}/bank.db", secrets_dir=Path(tmp))
        servers = Servers(model=ensure_model(), settings=settings, log_dir=log_dir)
        try:  # not `with Servers(...)`: a failed start() would skip __exit__ and leave a server running
            servers.start()
            yield servers
        finally:
            servers.stop()


def open_rate_limits() -> None:
    """Benchmark users come from one address and type faster than a person: the flood limits are
    not what is measured (a 429 would count as an error). Also a token secret for logged-in turns."""
    os.environ.setdefault("CUSTOMER_TOKEN_SECRET", "benchmark-secret-" + "b" * 24)
    for name, value in (("RATE_PER_ADDRESS_PER_MIN", "100000"), ("RATE_PER_ADDRESS_BURST", "10000"),
                        ("RATE_PER_SENDER_PER_MIN", "100000"), ("RATE_PER_SENDER_BURST", "10000")):
        os.environ.setdefault(name, value)
