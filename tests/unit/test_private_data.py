"""Personal data stays out of logs, database files and database errors.

- every log record of our server processes is masked (card, ID, mobile, JWT) — also tracebacks;
- SQLite files holding customer data are created 0600 (and tightened if they exist);
- SQLAlchemy errors never carry the bound values (a customer's message, an ID number).
"""
import io
import logging
import os
import stat
import subprocess
import sys

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.exc import IntegrityError

from bot.logging_privacy import MaskingFilter, install_log_masking
from bot.private_db import private_engine
from bot.settings import REPO_ROOT

CARD, ID_NUMBER, MOBILE = "6217 0000 0001 6688", "11010119900101001X", "138-1234-5678"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJDMDAxIiwiYXVkIjoieCJ9.c2lnbmF0dXJlLXZhbHVl"


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


# --- logs ------------------------------------------------------------------------------------------

def capture(logger_name: str, handler_filter: bool = False) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    if handler_filter:
        handler.addFilter(MaskingFilter())
    logger = logging.getLogger(logger_name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_every_log_record_is_masked_once_installed():
    install_log_masking()
    install_log_masking()  # idempotent
    logger, stream = capture("test.privacy.factory")
    logger.info("card %s id %s", CARD, ID_NUMBER)
    logger.warning(f"mobile {MOBILE} token {JWT}")
    logger.info("payload %r", {"text": f"我的卡号是{CARD}", "token": JWT})
    text = stream.getvalue()
    assert "**** 6688" in text and "110***********001X" in text and "138****5678" in text
    assert text.count("[token]") == 2
    for secret in ("6217 0000 0001", "1990010100", "1234-5678", "eyJhbGci"):
        assert secret not in text


def test_tracebacks_and_extra_fields_are_masked():
    install_log_masking()
    logger, stream = capture("test.privacy.exc")
    logger.handlers[0].setFormatter(logging.Formatter("%(message)s %(request)s"))
    try:
        raise ValueError(f"bad card {CARD} for {ID_NUMBER}")
    except ValueError:
        logger.exception("lookup failed", extra={"request": f"GET /x?token={JWT}"})
    text = stream.getvalue()
    assert "Traceback" in text and "bad card **** 6688" in text and "GET /x?token=[secret]" in text
    assert "6217 0000" not in text and "eyJhbGci" not in text


def test_secrets_in_query_strings_are_dropped():
    """Rasa's HTTP API takes its auth token as `?token=`; an access-log line must not keep it."""
    install_log_masking()
    logger, stream = capture("test.privacy.query")
    logger.info("GET /conversations/rest:1/tracker?token=%s&include_events=ALL 200", "Zm9vYmFyLXNlY3JldC12YWx1ZQ")
    assert stream.getvalue().strip() == "INFO GET /conversations/rest:1/tracker?token=[secret]&include_events=ALL 200"


def test_the_handler_filter_masks_without_the_factory():
    logger, stream = capture("test.privacy.filter", handler_filter=True)
    record = logging.LogRecord("test.privacy.filter", logging.INFO, __file__, 1, "id %s", (ID_NUMBER,), None)
    logger.handle(record)
    assert stream.getvalue().strip() == "INFO id 110***********001X"


@pytest.mark.parametrize("package", ["connectors", "bot.actions"])
def test_the_server_processes_install_masking_when_they_load_our_packages(package):
    """The Rasa server imports `connectors` (our channels), the action server `bot.actions`."""
    script = (f"import logging, sys, {package}\n"
              "logging.basicConfig(stream=sys.stdout, level=logging.INFO, format='%(message)s')\n"
              f"logging.getLogger('rasa.core.processor').info('received %s', {('卡号' + CARD + ' ' + JWT)!r})\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                         env={**os.environ, "USE_TF": "0"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "received 卡号**** 6688 [token]"


# --- database files --------------------------------------------------------------------------------

def test_connector_database_is_created_owner_only(tmp_path, loose_umask):
    from connectors.store import engine_for

    path = tmp_path / "var" / "connectors.db"
    engine_for(f"sqlite:///{path}")
    assert mode(path) == 0o600


def test_an_existing_world_readable_database_is_tightened(tmp_path, loose_umask):
    path = tmp_path / "old.db"
    path.write_bytes(b"")
    os.chmod(path, 0o644)
    private_engine(f"sqlite:///{path}", future=True).dispose()
    assert mode(path) == 0o600


def test_sandbox_bank_database_is_owner_only_and_hides_parameters(tmp_path, loose_umask):
    from bot.banking.sandbox import SandboxBank

    bank = SandboxBank(f"sqlite:///{tmp_path / 'sandbox_bank.db'}")
    assert mode(tmp_path / "sandbox_bank.db") == 0o600
    assert bank._engine.hide_parameters is True


def test_tracker_database_is_owner_only_from_serve_and_from_the_store(tmp_path, loose_umask, monkeypatch):
    from bot.serve import server_env
    from bot.settings import load_settings

    monkeypatch.setenv("TRACKER_DB_PATH", str(tmp_path / "var" / "tracker.db"))
    monkeypatch.setenv("ASSISTANT_SECRETS_DIR", str(tmp_path / "var" / "secrets"))
    env = server_env(load_settings())
    assert mode(env["TRACKER_DB_PATH"]) == 0o600

    from rasa.shared.core.domain import Domain

    from bot.tracker_store import PrivateSQLTrackerStore

    other = tmp_path / "other_tracker.db"
    store = PrivateSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(other))
    assert mode(other) == 0o600
    assert store.engine.hide_parameters is True
    with store.engine.connect() as conn:  # write-ahead log: its files are as private as the database
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        conn.exec_driver_sql("CREATE TABLE probe (x INTEGER)")
        assert mode(f"{other}-wal") == 0o600 and mode(f"{other}-shm") == 0o600


# --- errors ---------------------------------------------------------------------------------------

def test_integrity_errors_carry_no_bound_values(tmp_path):
    from connectors.store import engine_for

    engine = engine_for(f"sqlite:///{tmp_path / 'connectors.db'}")
    table = Table("pii_probe", MetaData(), Column("id", Integer, primary_key=True), Column("text", String(200)))
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert().values(id=1, text="first"))
    with pytest.raises(IntegrityError) as error, engine.begin() as conn:
        conn.execute(table.insert().values(id=1, text=f"身份证{ID_NUMBER}"))
    assert ID_NUMBER not in str(error.value) and "hidden" in str(error.value)


def test_tracker_store_errors_carry_no_message_text(tmp_path):
    from rasa.shared.core.domain import Domain

    from bot.tracker_store import PrivateSQLTrackerStore

    store = PrivateSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    events = store.SQLEvent.__table__
    with pytest.raises(IntegrityError) as error, store.engine.begin() as conn:
        conn.execute(events.insert().values(sender_id=None, type_name="user", data=f"卡号{CARD}"))
    assert CARD not in str(error.value)


def test_rasa_builds_the_private_tracker_store_and_event_broker_from_our_endpoints(tmp_path, loose_umask,
                                                                                     monkeypatch):
    """bot/endpoints.yml, read the way `rasa run` reads it, gives the private store and broker."""
    import asyncio

    from rasa.core.brokers.broker import EventBroker
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain

    from bot.analytics.broker import PrivateSQLEventBroker
    from bot.tracker_store import PrivateSQLTrackerStore

    path, analytics = tmp_path / "tracker.db", tmp_path / "analytics.db"
    for name, value in {"TRACKER_DB_PATH": str(path), "ACTION_ENDPOINT_URL": "http://127.0.0.1:1/webhook",
                        "ACTION_SERVER_SECRET": "x" * 32, "ANALYTICS_DB_PATH": str(analytics)}.items():
        monkeypatch.setenv(name, value)
    endpoints = AvailableEndpoints.read_endpoints(str(REPO_ROOT / "bot" / "endpoints.yml"))
    store = TrackerStore.create(endpoints.tracker_store, Domain.empty())
    assert isinstance(store, PrivateSQLTrackerStore)
    assert store.engine.hide_parameters is True and mode(path) == 0o600
    broker = asyncio.run(EventBroker.create(endpoints.event_broker))
    assert isinstance(broker, PrivateSQLEventBroker)
    assert broker.engine.hide_parameters is True and mode(analytics) == 0o600


def test_the_tracker_store_reads_back_what_rasas_own_retrieval_reads(tmp_path):
    """Our column-only read gives the same tracker as SQLTrackerStore._retrieve, last session or all."""
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.tracker_store import PrivateSQLTrackerStore

    domain = Domain.from_dict({"slots": {"amount": {"type": "any", "mappings": [{"type": "custom"}]}}})
    store = PrivateSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    events = [ActionExecuted("action_session_start", timestamp=1), SessionStarted(timestamp=2),
              UserUttered("转三百", {"name": "transfer_money"}, timestamp=3), SlotSet("amount", 300, timestamp=4),
              ActionExecuted("action_session_start", timestamp=5), SessionStarted(timestamp=6),
              UserUttered("你好", {"name": "greet"}, timestamp=7)]

    async def both(fetch_all):
        return await store._retrieve("c1", fetch_all), await SQLTrackerStore._retrieve(store, "c1", fetch_all)

    asyncio.run(store.save(DialogueStateTracker.from_events("c1", events, domain.slots)))
    for fetch_all in (False, True):
        ours, rasas = asyncio.run(both(fetch_all))
        assert list(ours.events) == list(rasas.events) and len(ours.events) == (7 if fetch_all else 2)
    assert asyncio.run(store._retrieve("nobody", False)) is None


def test_saving_a_growing_tracker_stores_each_event_once(tmp_path):
    """Our one-query count of the stored events agrees with Rasa's, so a save appends only the new ones."""
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.tracker_store import PrivateSQLTrackerStore

    store = PrivateSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    events = [ActionExecuted("action_session_start", timestamp=1), SessionStarted(timestamp=2),
              UserUttered("你好", {"name": "greet"}, timestamp=3)]
    asyncio.run(store.save(DialogueStateTracker.from_events("c1", events, [])))
    for second in range(4, 8):
        tracker = asyncio.run(store.retrieve("c1"))  # as a turn does: the current session, then new events
        tracker.update(UserUttered(f"第{second}句", {"name": "greet"}, timestamp=second))
        with store.session_scope() as session:
            ours = list(store._additional_events(session, tracker))
            assert ours == list(SQLTrackerStore._additional_events(store, session, tracker))
            assert [e.text for e in ours] == [f"第{second}句"]
        asyncio.run(store.save(tracker))
    stored = asyncio.run(store._retrieve("c1", True))
    assert [e.as_dict() for e in stored.events] == [e.as_dict() for e in events] + [
        UserUttered(f"第{second}句", {"name": "greet"}, timestamp=second).as_dict() for second in range(4, 8)]


def test_a_pooled_sqlite_connection_can_serve_another_thread(tmp_path):
    """SQLite connections are kept open (no connect per session) and may move between threads."""
    import threading

    from sqlalchemy import text

    from bot.private_db import private_engine

    engine = private_engine(f"sqlite:///{tmp_path / 'pooled.db'}")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        first = conn.connection.dbapi_connection
    results: list = []

    def other_thread() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            results.append((conn.connection.dbapi_connection is first,
                            conn.execute(text("SELECT count(*) FROM t")).scalar()))

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert results == [(True, 1)]


def test_the_event_broker_gets_each_new_event_once(tmp_path):
    """The save finds the new events by one COUNT query; they are what Rasa's diff would send."""
    import asyncio

    from rasa.core.brokers.broker import EventBroker
    from rasa.core.tracker_store import TrackerEventDiffEngine
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.tracker_store import PrivateSQLTrackerStore

    class Collecting(EventBroker):
        def __init__(self) -> None:
            self.published: list = []

        def publish(self, event) -> None:
            self.published.append(event)

    broker = Collecting()
    store = PrivateSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"),
                                   event_broker=broker)
    tracker = DialogueStateTracker.from_events("c1", [SessionStarted(timestamp=2)], [])
    expected = []
    for turn, events in enumerate(([UserUttered("你好", timestamp=3), BotUttered("您好", timestamp=4)],
                                   [ActionExecuted("action_session_start", timestamp=5), SessionStarted(timestamp=6),
                                    UserUttered("再见", timestamp=7)])):
        stored = asyncio.run(store.retrieve("c1"))
        for event in events:
            tracker.update(event)
        expected += [e.as_dict() for e in TrackerEventDiffEngine.event_difference(stored, tracker)]
        asyncio.run(store.save(tracker))
    assert [{k: v for k, v in p.items() if k != "sender_id"} for p in broker.published] == expected
    assert {p["sender_id"] for p in broker.published} == {"c1"} and len(expected) == 6


def test_saved_rows_have_rasas_columns_and_a_failed_save_publishes_nothing(tmp_path):
    """The save writes what Rasa's own save writes (same columns, from a worker thread), and events go
    to the broker only once committed: a save that fails leaves nothing published and nothing stored."""
    import asyncio

    from rasa.core.brokers.broker import EventBroker
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    import sqlalchemy as sa
    from sqlalchemy.exc import OperationalError

    from bot.tracker_store import PrivateSQLTrackerStore

    class Collecting(EventBroker):
        def __init__(self) -> None:
            self.published: list = []

        def publish(self, event) -> None:
            self.published.append(event)

    events = [ActionExecuted("action_session_start", timestamp=1), SessionStarted(timestamp=2),
              UserUttered("转账", {"name": "transfer", "confidence": 0.9}, timestamp=3),
              ActionExecuted("transfer_form", timestamp=4), BotUttered("转给谁？", timestamp=5)]
    columns = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")

    def rows(store) -> list:
        with store.engine.connect() as conn:
            table = store.SQLEvent.__table__
            query = sa.select(*(table.c[c] for c in columns)).order_by(table.c.id)
            return [tuple(row) for row in conn.execute(query)]

    broker = Collecting()
    ours = PrivateSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "ours.db"),
                                  event_broker=broker)
    rasas = SQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"))
    for store in (ours, rasas):
        asyncio.run(store.save(DialogueStateTracker.from_events("c1", events, [])))
    assert rows(ours) == rows(rasas) and len(rows(ours)) == len(events)
    assert len(broker.published) == len(events)

    ours.SQLEvent.__table__.drop(ours.engine)  # the database loses its table: the next save fails
    tracker = DialogueStateTracker.from_events("c1", [*events, UserUttered("算了", timestamp=6)], [])
    with pytest.raises(OperationalError):
        asyncio.run(ours.save(tracker))
    assert len(broker.published) == len(events)
