"""`python -m bot.retention purge` over real SQLite files: Rasa's own SQL tracker store and the
agent desk's tables; old conversation data goes, recent and open data stays."""
import asyncio
import json
import sqlite3
import time

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import retention
from bot.tracker_store import PrivateSQLTrackerStore
from connectors.agent_desk.store import DeskStore
from connectors.store import engine_for

DAY = 86400.0
NOW = time.time()


@pytest.fixture
def databases(tmp_path, monkeypatch):
    tracker_db, connector_db = tmp_path / "tracker.db", tmp_path / "connectors.db"
    monkeypatch.setenv("TRACKER_DB_PATH", str(tracker_db))
    monkeypatch.setenv("CONNECTOR_DB_URL", f"sqlite:///{connector_db}")
    monkeypatch.delenv("TRACKER_DB_URL", raising=False)
    monkeypatch.setenv("TRACKER_RETENTION_DAYS", "90")
    monkeypatch.setenv("TRANSCRIPT_RETENTION_DAYS", "180")
    return tracker_db, connector_db


def save_conversation(tracker_db, sender_id: str, ages_days: list[float]) -> None:
    """A conversation saved by Rasa's real SQL tracker store, one user/bot turn per age."""
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tracker_db))
    tracker = DialogueStateTracker(sender_id, slots=[])
    for age in ages_days:
        at = NOW - age * DAY
        tracker.update(UserUttered(f"身份证110101199001010011 第{age}天", timestamp=at))
        tracker.update(ActionExecuted("action_listen", timestamp=at + 1))
        tracker.update(BotUttered("好的", timestamp=at + 2))
    asyncio.run(store.save(tracker))
    store.engine.dispose()


def stored_events(tracker_db) -> dict[str, list[float]]:
    with sqlite3.connect(tracker_db) as conn:
        rows = conn.execute("SELECT sender_id, timestamp FROM events ORDER BY id").fetchall()
    out: dict[str, list[float]] = {}
    for sender, at in rows:
        out.setdefault(sender, []).append(at)
    return out


def add_handoff(store: DeskStore, sender: str, status: str, created_days: float, ended_days=None) -> int:
    handoff = store.enqueue(sender, "webchat", "customer_request", "normal", "C001", {"slots": {"phone": "138"}})
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE desk_handoffs SET status = ?, created_at = ?, ended_at = ? WHERE id = ?",
                             (status, NOW - created_days * DAY,
                              None if ended_days is None else NOW - ended_days * DAY, handoff["id"]))
    return handoff["id"]


def test_purge_deletes_old_tracker_events_and_ended_handoffs(databases, capsys):
    tracker_db, connector_db = databases
    save_conversation(tracker_db, "webchat:old", [200, 120])
    save_conversation(tracker_db, "webchat:mixed", [100, 3])
    desk = DeskStore(engine_for(f"sqlite:///{connector_db}"))
    old_closed = add_handoff(desk, "webchat:a", "closed", 300, ended_days=200)
    recent_closed = add_handoff(desk, "webchat:b", "closed", 190, ended_days=10)
    old_active = add_handoff(desk, "webchat:c", "active", 400)
    desk.add_note(old_closed, "li_agent", "客户身份证已核实")
    desk.add_note(recent_closed, "li_agent", "已回电")
    before = stored_events(tracker_db)
    assert len(before["webchat:old"]) == 6 and len(before["webchat:mixed"]) == 6

    assert retention.main(["purge", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "events: would delete 9 rows" in dry
    assert "desk_handoffs: would delete 1 rows" in dry and "desk_notes: would delete 1 rows" in dry
    assert stored_events(tracker_db) == before

    assert retention.main(["purge"]) == 0
    out = capsys.readouterr().out
    assert "events: deleted 9 rows" in out
    assert "desk_handoffs: deleted 1 rows" in out and "desk_notes: deleted 1 rows" in out
    after = stored_events(tracker_db)
    assert "webchat:old" not in after
    assert len(after["webchat:mixed"]) == 3 and min(after["webchat:mixed"]) > NOW - 4 * DAY
    assert desk.get(old_closed) is None
    assert desk.get(recent_closed) is not None and desk.get(old_active) is not None
    assert [n["text"] for n in desk.notes_of(recent_closed)] == ["已回电"]
    assert desk.notes_of(old_closed) == []


def test_the_tracker_store_rasa_reads_after_a_purge_holds_only_recent_events(databases):
    tracker_db, _ = databases
    save_conversation(tracker_db, "rest:someone", [100, 1])
    engine_for(f"sqlite:///{databases[1]}")
    assert retention.main(["purge", "--older-than-days", "30"]) == 0
    store = PrivateSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tracker_db))
    tracker = asyncio.run(store.retrieve("rest:someone"))
    texts = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert texts == ["身份证110101199001010011 第1天"]


def test_older_than_days_overrides_both_periods(databases, capsys):
    tracker_db, connector_db = databases
    save_conversation(tracker_db, "webchat:x", [20])
    desk = DeskStore(engine_for(f"sqlite:///{connector_db}"))
    add_handoff(desk, "webchat:y", "returned", 25, ended_days=20)
    assert retention.main(["purge", "--older-than-days", "10", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "events: would delete 3 rows" in out and "desk_handoffs: would delete 1 rows" in out


@pytest.mark.parametrize("value", ["0", "-3", "abc", "1.5"])
def test_a_bad_argument_is_refused_with_a_clear_message(databases, capsys, value):
    with pytest.raises(SystemExit) as exit_info:
        retention.main(["purge", "--older-than-days", value])
    assert exit_info.value.code == 2
    assert "--older-than-days" in capsys.readouterr().err


def test_a_bad_retention_setting_is_refused(databases, capsys, monkeypatch):
    monkeypatch.setenv("TRACKER_RETENTION_DAYS", "0")
    assert retention.main(["purge"]) == 1
    assert "TRACKER_RETENTION_DAYS" in capsys.readouterr().err


def test_a_missing_database_is_an_error_not_a_new_empty_file(databases, capsys):
    tracker_db, _ = databases
    assert retention.main(["purge"]) == 1
    assert f"tracker database {tracker_db} does not exist" in capsys.readouterr().err
    assert not tracker_db.exists()


def test_an_unreachable_database_is_reported(databases, capsys, monkeypatch):
    tracker_db, _ = databases
    save_conversation(tracker_db, "webchat:z", [1])
    monkeypatch.setenv("CONNECTOR_DB_URL", "postgresql://bank:secret-pw@127.0.0.1:9/desk")
    assert retention.main(["purge"]) == 1
    err = capsys.readouterr().err
    assert "cannot open the agent-desk (connectors) database" in err
    assert "secret-pw" not in err


def test_tracker_events_are_stored_as_rasa_writes_them(databases):
    """The purge relies on Rasa's columns: `events.sender_id` and `events.timestamp` (epoch seconds)."""
    tracker_db, _ = databases
    save_conversation(tracker_db, "webchat:cols", [1])
    with sqlite3.connect(tracker_db) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
        data = conn.execute("SELECT data FROM events WHERE type_name = 'user'").fetchone()[0]
    assert {"sender_id", "timestamp"} <= columns
    assert json.loads(data)["timestamp"] == pytest.approx(NOW - DAY, abs=5)


def test_expired_channel_rows_and_old_web_chat_sessions_are_tidied(databases, capsys):
    from bot.identity import VerifiedCustomer
    from connectors.token_uses import TokenUses
    from connectors.webchat.sessions import SessionBook
    from connectors.wechat.store import Bindings

    tracker_db, connector_db = databases
    save_conversation(tracker_db, "webchat:x", [1])
    engine = engine_for(f"sqlite:///{connector_db}")
    Bindings(engine, clock=lambda: NOW - 200 * DAY).bind("o_expired", "C001", ttl_s=180 * DAY)
    Bindings(engine).bind("o_current", "C002", ttl_s=180 * DAY)
    uses = TokenUses(engine)
    uses.claim(VerifiedCustomer("C001", int(time.time() + DAY), "live"), "rest:b")  # NOW is import time
    uses.claim(VerifiedCustomer("C001", int(NOW - 60), "spent"), "rest:a")  # (a claim tidies only older rows)
    SessionBook(engine, clock=lambda: NOW - 100 * DAY).create("a" * 32, None)
    SessionBook(engine).create("b" * 32, "C001")

    assert retention.main(["purge"]) == 0
    out = capsys.readouterr().out
    for table in ("wechat_account_bindings", "token_uses", "webchat_sessions"):
        assert f"{table}: deleted 1 rows" in out, out
    with sqlite3.connect(connector_db) as conn:
        assert conn.execute("SELECT openid FROM wechat_account_bindings").fetchall() == [("o_current",)]
        assert conn.execute("SELECT jti FROM token_uses").fetchall() == [("live",)]
        assert conn.execute("SELECT session_id FROM webchat_sessions").fetchall() == [("b" * 32,)]
