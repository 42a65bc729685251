"""Agent desk without servers: passwords, sessions, the queue, service hours, transcripts shown to agents."""
from __future__ import annotations

import datetime as dt
import io
import time

import pytest
import yaml
from sqlalchemy import create_engine

from bot.settings import REPO_ROOT
from connectors.agent_desk import __main__ as cli
from connectors.agent_desk.assist import NEXT_STEPS, customer_context, masked_transcript
from connectors.agent_desk.hours import parse_hours, within_hours
from connectors.agent_desk.passwords import hash_password, verify_password
from connectors.agent_desk.store import DeskStore

PASSWORD = "correct horse battery"


@pytest.fixture()
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture()
def store(db_url):
    return DeskStore(create_engine(db_url, future=True))


def test_passwords_are_salted_scrypt_hashes():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$") and PASSWORD not in first
    assert verify_password(PASSWORD, first) and not verify_password("wrong password!", first)
    assert not verify_password(PASSWORD, "md5$abc") and not verify_password(PASSWORD, "garbage")
    with pytest.raises(ValueError, match="at least"):
        hash_password("short")


def test_login_issues_expiring_sessions(store):
    store.add_agent("wang", PASSWORD, "supervisor")
    assert store.login("wang", "nope nope nope") is None and store.login("ghost", PASSWORD) is None
    token = store.login("wang", PASSWORD)
    agent = store.agent_for(token)
    assert agent.username == "wang" and agent.is_supervisor
    assert store.agent_for("x" * 43) is None and store.agent_for(None) is None
    store.session_ttl_s = -1
    assert store.agent_for(store.login("wang", PASSWORD)) is None  # expired at once
    store.logout(token)
    assert store.agent_for(token) is None


def test_queue_serves_urgent_first_then_by_waiting_time(store):
    normal = store.enqueue("s1", "webchat", "request_human", "normal", None, {})
    time.sleep(0.01)
    urgent = store.enqueue("s2", "wechat", "fraud_report", "urgent", "C001", {})
    high = store.enqueue("s3", "webchat", "complaint", "high", None, {})
    assert [h["id"] for h in store.waiting()] == [urgent["id"], high["id"], normal["id"]]
    assert store.position(normal["id"]) == 3
    assert store.enqueue("s1", "webchat", "request_human", "normal", None, {})["id"] == normal["id"]  # no duplicate


def test_a_conversation_is_never_owned_by_two_agents(store):
    for name in ("li", "zhao"):
        store.add_agent(name, PASSWORD)
    handoff = store.enqueue("s1", "webchat", "request_human", "normal", None, {})
    assert store.accept(handoff["id"], "li") and not store.accept(handoff["id"], "zhao")
    assert store.get(handoff["id"])["agent"] == "li"
    assert not store.transfer(handoff["id"], "zhao", "zhao")  # only the owner (or a supervisor) transfers
    assert not store.transfer(handoff["id"], "li", "nobody")
    assert store.transfer(handoff["id"], "li", "zhao") and store.get(handoff["id"])["agent"] == "zhao"
    assert store.load_by_agent() == {"li": 0, "zhao": 1}
    assert not store.end(handoff["id"], "closed", "resolved", agent="li")
    assert store.end(handoff["id"], "closed", "resolved", agent="zhao")
    assert store.open_handoff_of("s1") is None
    assert store.record_csat("s1", 5) and not store.record_csat("s1", 4)


def test_waiting_customers_survive_a_restart(db_url):
    first = DeskStore(create_engine(db_url, future=True))
    handoff = first.enqueue("s9", "wechat", "fallback", "normal", None, {"note": "x"})
    first.engine.dispose()
    restarted = DeskStore(create_engine(db_url, future=True))
    assert [h["id"] for h in restarted.waiting()] == [handoff["id"]]
    assert restarted.get(handoff["id"])["context"] == {"note": "x"}


def test_service_hours():
    at = lambda hour: dt.datetime(2026, 12, 1, hour, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # noqa: E731
    assert within_hours("08:00-22:00", "Asia/Shanghai", at(9)) and not within_hours("08:00-22:00", "Asia/Shanghai", at(23))
    assert within_hours("22:00-06:00", "Asia/Shanghai", at(23)) and not within_hours("22:00-06:00", "Asia/Shanghai", at(12))
    for bad in ("", "9-5", "25:00-26:00"):
        with pytest.raises(ValueError, match="DESK_SERVICE_HOURS"):
            parse_hours(bad)


def test_agents_see_masked_personal_data():
    events = [
        {"event": "user", "text": "我的身份证110101199003074514，手机13812345678，卡号6222021234567890123"},
        {"event": "pause"},
        {"event": "bot", "text": "好的，马上处理", "metadata": {"agent": "wang"}},
    ]
    turns = masked_transcript(events)
    shown = turns[0]["text"]
    assert "110101199003074514" not in shown and "13812345678" not in shown and "6222021234567890123" not in shown
    assert [t["sender"] for t in turns] == ["customer", "system", "agent"] and turns[2]["agent"] == "wang"
    context = customer_context([{"event": "active_loop", "name": "card_loss_form"}, {"event": "active_loop", "name": None}],
                               {"card_last4": "6688", "phone": "13812345678", "task_ready": True}, "C001")
    assert context["last_flow"] == "card_loss_form" and context["authenticated"]
    assert "13812345678" not in str(context["slots"]) and "task_ready" not in context["slots"]


def test_every_task_intent_has_a_next_step():
    taxonomy = yaml.safe_load((REPO_ROOT / "intents" / "taxonomy.yml").read_text(encoding="utf-8"))["intents"]
    tasks = {name for name, spec in taxonomy.items() if spec["kind"] == "task"}
    assert tasks == set(NEXT_STEPS)


def test_cli_creates_an_agent_from_stdin(monkeypatch, db_url, capsys):
    monkeypatch.setenv("CONNECTOR_DB_URL", db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["add-agent", "zhang", "--role", "supervisor"]) == 0
    assert DeskStore(create_engine(db_url, future=True)).login("zhang", PASSWORD)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["add-agent", "zhang"]) == 2
    assert "at least" in capsys.readouterr().err


def test_least_busy_picks_the_online_agent_with_room(store):
    for name in ("li", "zhao", "qian"):
        store.add_agent(name, PASSWORD)
    first = store.enqueue("s1", "webchat", "request_human", "normal", None, {})
    store.accept(first["id"], "li")
    assert store.least_busy(["li", "zhao"], max_active=3) == "zhao"  # qian is offline
    assert store.least_busy(["li"], max_active=1) is None  # li is full
    assert store.least_busy([], max_active=3) is None
