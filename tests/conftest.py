"""Shared fixtures. Tests use the real encoder, FAISS index and Rasa model built by `make setup`."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.settings import REPO_ROOT, load_settings  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture(scope="session")
def encoder(settings):
    from knowledge_base import load_encoder

    if not (settings.encoder_path / "modules.json").is_file():
        pytest.fail("encoder not built: run `make test` (or `python -m knowledge_base.encoder build`)")
    return load_encoder()


@pytest.fixture(scope="session")
def retriever(encoder):
    from knowledge_base import load_retriever

    return load_retriever()


@pytest.fixture(scope="session")
def content(settings):
    """The knowledge as shipped: YAML entries and the documents' passages."""
    from knowledge_base.review.publish import knowledge_content

    return knowledge_content(settings.kb, None)


def shared_file(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} not present (shared/ sits beside the repo in CI and dev checkouts)")
    return path


@pytest.fixture(scope="session")
def channel_servers(settings, tmp_path_factory):
    """The assistant with its channels (WeChat safe mode against a fake WeChat API), shared by
    the WeChat integration tests and the browser tests."""
    from tests.channels import channel_stack

    with channel_stack(settings, tmp_path_factory.mktemp("channels")) as servers:
        yield servers


# `make test` runs the suite on two pytest-xdist workers. Most of the suite's time is spent waiting on
# servers, browsers and timers, so a second worker overlaps that waiting (docs/testing.md). Each worker
# runs whole modules in file order; modules that share a session-scoped stack run on one worker, so it
# starts once: every module using `channel_servers`, and the cluster's two files (the kill test last).
SHARED_STACKS = {
    "channel-stack": ("tests/browser/", "tests/integration/test_agent_desk_api.py",
                      "tests/integration/test_knowledge_review_api.py", "tests/integration/test_security.py",
                      "tests/integration/test_wechat_channel.py"),
    "cluster": ("tests/cluster/",),
}


def work_unit(nodeid: str) -> str:
    """The unit a worker runs whole: a shared stack's modules together, any other module alone."""
    path = nodeid.split("::", 1)[0]
    for unit, prefixes in SHARED_STACKS.items():
        if path.startswith(prefixes):
            return unit
    return path


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class SharedStackScheduling(LoadScopeScheduling):
        """Work units in collection order (the long shared stacks come first: browser, cluster)."""

        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False
    return SharedStackScheduling(config, log)
