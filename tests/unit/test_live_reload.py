"""A new index build is picked up by a running retriever; a broken one is not."""
import shutil
import time
from dataclasses import replace

import pytest

from knowledge_base.review.publish import knowledge_content
from knowledge_base.index import CURRENT, build_index
from knowledge_base.live import LiveRetriever


@pytest.fixture()
def index_copy(tmp_path, settings, retriever):
    target = tmp_path / "index"
    shutil.copytree(settings.index_dir, target)
    return target


def _poll(live):
    live._next_check = 0  # check now instead of waiting for the interval
    current = live.current
    live.wait_idle()
    return current


def _config(settings, index_copy):
    return replace(settings.kb, index_dir=index_copy, reload_interval_s=3600)


def test_a_new_version_is_swapped_in_without_blocking(index_copy, settings):
    live = LiveRetriever(_config(settings, index_copy))
    old = live.current
    content = knowledge_content(settings.kb, None)
    content.entries = [e for e in content.entries if e.id != "credit_card.interest_free_period"]
    new_version = build_index(content, _config(settings, index_copy))
    assert _poll(live) is old  # the request that noticed the change is served by the old index
    assert live.current.version_dir == new_version
    assert "credit_card.interest_free_period" not in {h.faq_id for h in live.current.search("免息期", k=5)}


def test_a_broken_version_keeps_the_old_one_serving(index_copy, settings):
    live = LiveRetriever(_config(settings, index_copy))
    old = live.current
    (index_copy / "v99999999-broken").mkdir()
    (index_copy / "v99999999-broken" / "manifest.json").write_text("{}")
    (index_copy / CURRENT).write_text("v99999999-broken")
    _poll(live)
    time.sleep(0.05)
    assert live.current is old and live.current.search("开户", k=1)
