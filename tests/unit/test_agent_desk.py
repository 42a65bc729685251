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


# --- issue 13: agents and personal data ------------------------------------------------------------
import asyncio  # noqa: E402

from sqlalchemy import text  # noqa: E402

from bot.settings import load_desk_settings  # noqa: E402
from connectors.agent_desk import passwords  # noqa: E402
from connectors.agent_desk.channel import AgentDeskInput  # noqa: E402
from connectors.agent_desk.handoff import DeskHub  # noqa: E402
from connectors.agent_desk.store import queue_of  # noqa: E402
from connectors.agent_desk.realtime import AgentSocket  # noqa: E402
from connectors.agent_desk.throttle import Backoff, LoginThrottle  # noqa: E402

RAW_PII = ("110101199003074514", "13812345678", "6222021234567890123")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_customers_see_a_display_name_and_agents_the_login(store):
    store.add_agent("li", PASSWORD)
    store.add_agent("wang", PASSWORD, "supervisor", display_name="客服小王")
    li, wang = store.agent_for(store.login("li", PASSWORD)), store.agent_for(store.login("wang", PASSWORD))
    assert li.display_name.startswith("客服") and "li" not in li.display_name
    assert wang.display_name == "客服小王" and wang.username == "wang"
    store.add_agent("li", PASSWORD + "!")  # an update keeps the display name
    assert store.get_agent("li").display_name == li.display_name


def test_agent_messages_reach_customers_under_the_display_name(store):
    store.add_agent("li_login", PASSWORD, display_name="客服1号")
    hub, delivered = DeskHub(store), []

    async def deliver(sender_id, payload):
        delivered.append((sender_id, payload))

    hub.register_channel("wechat", deliver, lambda: None)
    handoff = store.enqueue("wechat:abc123", "wechat", "request_human", "normal", None, {})
    store.accept(handoff["id"], "li_login")
    agent = store.get_agent("li_login")
    asyncio.run(hub.accepted(handoff, "li_login"))
    asyncio.run(hub.say(handoff, "您好", agent=agent))
    asyncio.run(hub.typing(handoff, agent))
    assert [d[0] for d in delivered] == ["wechat:abc123"] * 3  # routed by the handoff's channel, id untouched
    assert "li_login" not in str(delivered)
    assert "人工客服 客服1号 已接入" in delivered[0][1]["text"] and delivered[1][1]["agent"] == "客服1号"


def test_transcripts_show_agents_the_login_behind_the_display_name():
    turns = masked_transcript([{"event": "bot", "text": "好的", "metadata": {"agent": "客服1号", "agent_id": "li"}}])
    assert turns[0]["agent"] == "li" and turns[0]["display_name"] == "客服1号"


def test_queues_decide_who_sees_a_waiting_customer(store):
    store.add_agent("general_only", PASSWORD)
    store.add_agent("fraud_desk", PASSWORD, queues=["fraud", "general"])
    store.add_agent("chief", PASSWORD, "supervisor")
    fraud = store.enqueue("s1", "webchat", "fraud_report", "urgent", None, {})
    complaint = store.enqueue("s2", "webchat", "complaint", "high", None, {})
    general = store.enqueue("s3", "webchat", "request_human", "normal", None, {})
    assert [queue_of(h) for h in (fraud, complaint, general)] == ["fraud", "complaint", "general"]
    seen = {name: [h["id"] for h in store.waiting(store.get_agent(name))] for name in ("general_only", "fraud_desk",
                                                                                       "chief")}
    assert seen == {"general_only": [general["id"]], "fraud_desk": [fraud["id"], general["id"]],
                    "chief": [fraud["id"], complaint["id"], general["id"]]}
    assert store.least_busy(["general_only"], 3, "fraud") is None
    assert store.least_busy(["general_only", "fraud_desk"], 3, "fraud") == "fraud_desk"
    with pytest.raises(ValueError, match="unknown queue"):
        store.add_agent("x1", PASSWORD, queues=["vip"])


def test_live_customer_messages_are_masked_and_go_only_to_who_may_read_them(store):
    store.add_agent("li", PASSWORD)
    hub, pushed = DeskHub(store), []

    async def push(event, data, room):
        pushed.append((event, data, room))

    hub.agent_push = push
    fraud = store.enqueue("webchat:f1", "webchat", "fraud_report", "urgent", None, {})
    general = store.enqueue("webchat:g1", "webchat", "request_human", "normal", None, {})
    store.accept(general["id"], "li")
    message = f"身份证{RAW_PII[0]}，手机{RAW_PII[1]}，卡号{RAW_PII[2]}"
    asyncio.run(hub.customer_message("webchat:f1", message, "webchat"))
    asyncio.run(hub.customer_message("webchat:g1", message, "webchat"))
    asyncio.run(hub.customer_message("webchat:nobody", message, "webchat"))  # no handoff: no push
    assert [(e, d["handoff_id"], room) for e, d, room in pushed] == [
        ("customer_message", fraud["id"], "queue:fraud"), ("customer_message", general["id"], "agent:li")]
    for _, data, _ in pushed:
        assert not any(raw in data["text"] for raw in RAW_PII) and "身份证" in data["text"]


def test_password_reset_and_disabling_end_every_session(store):
    store.add_agent("li", PASSWORD)
    first, second = store.login("li", PASSWORD), store.login("li", PASSWORD)
    assert store.reset_password("li", "a brand new passphrase") and not store.reset_password("ghost", PASSWORD)
    assert store.agent_for(first) is None and store.agent_for(second) is None
    assert store.login("li", PASSWORD) is None
    token = store.login("li", "a brand new passphrase")
    assert store.set_disabled("li", True)
    assert store.agent_for(token) is None and store.live_sessions([]) == set()
    assert store.login("li", "a brand new passphrase") is None  # disabled: refused even with the password
    store.add_agent("zhao", PASSWORD)
    handoff = store.enqueue("s1", "webchat", "request_human", "normal", None, {})
    store.accept(handoff["id"], "zhao")
    assert not store.transfer(handoff["id"], "zhao", "li")  # never to a disabled agent
    assert store.set_disabled("li", False) and store.agent_for(store.login("li", "a brand new passphrase"))


def test_every_failed_login_costs_one_scrypt_known_user_or_not(store, monkeypatch):
    store.add_agent("li", PASSWORD)
    store.add_agent("off", PASSWORD)
    store.set_disabled("off", True)
    calls = []
    real = passwords.hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(kwargs["n"])
        return real(*args, **kwargs)

    monkeypatch.setattr(passwords.hashlib, "scrypt", counting)
    for username, password in (("ghost", PASSWORD), ("li", "wrong password!"), ("off", PASSWORD), ("li", PASSWORD)):
        calls.clear()
        store.login(username, password)
        assert calls == [passwords.N], username  # same work factor as a real hash


def test_backoff_grows_and_is_forgotten(store):
    clock = Clock()
    backoff = Backoff("account", free=3, base_s=2, max_s=10, forget_s=100, engine=store.engine, clock=clock)
    waits = []
    for _ in range(6):
        backoff.failed("k")
        waits.append(backoff.retry_after("k"))
        clock.now += waits[-1]
    assert waits == [0, 0, 2, 4, 8, 10]  # grows, then capped
    clock.now += 101
    assert backoff.retry_after("k") == 0 and len(backoff) == 0


def test_login_throttle_stops_the_guessers_address_not_the_agent(store):
    clock = Clock()
    throttle = LoginThrottle(free_failures=5, account_base_s=2, account_max_s=60, address_base_s=30,
                             address_max_s=3600, engine=store.engine, clock=clock)
    for _ in range(5):
        assert throttle.retry_after("li", "6.6.6.6") == 0
        throttle.failed("li", "6.6.6.6")
    assert throttle.retry_after("li", "6.6.6.6") == 30  # the guesser waits long …
    assert throttle.retry_after("zhao", "6.6.6.6") == 30  # … for every account
    assert throttle.retry_after("li", "10.0.0.8") == 2  # the agent, elsewhere, only briefly
    clock.now += 2
    assert throttle.retry_after("li", "10.0.0.8") == 0
    throttle.succeeded("li", "10.0.0.8")
    for _ in range(6):  # guessing resumed from many addresses: the account backs off again …
        throttle.failed("li", f"7.7.7.{clock.now}")
        clock.now += 1
    assert throttle.retry_after("li", "8.8.8.8") > 0
    assert throttle.retry_after("li", "10.0.0.8") == 0  # … but not for the address the agent logged in from
    clock.now += 31
    throttle.failed("li", "6.6.6.6")
    assert throttle.retry_after("zhao", "6.6.6.6") == 60  # the guesser's next wait doubles


def test_login_throttle_storage_is_bounded_and_names_no_one(store):
    throttle = LoginThrottle(max_keys=100, engine=store.engine)
    for i in range(300):
        throttle.failed(f"user{i}", f"10.0.{i // 256}.{i % 256}")
        throttle.succeeded(f"agent{i}", f"10.1.{i // 256}.{i % 256}")
    assert len(throttle.accounts) <= 100 and len(throttle.addresses) <= 100 and throttle.known_pairs() <= 100
    with store.engine.connect() as conn:
        stored = str(conn.execute(text("SELECT * FROM desk_login_backoff")).all())
        stored += str(conn.execute(text("SELECT * FROM desk_login_known")).all())
    assert "user2" not in stored and "10.0." not in stored  # keys are hashed


def test_login_throttle_is_shared_by_replicas(store):
    """Two replicas (two throttles on one database) count the same guesses."""
    clock = Clock()
    replicas = [LoginThrottle(free_failures=3, address_base_s=30, engine=store.engine, clock=clock) for _ in range(2)]
    for i in range(3):
        replicas[i % 2].failed("li", "6.6.6.6")
    assert replicas[0].retry_after("zhao", "6.6.6.6") == 30 == replicas[1].retry_after("zhao", "6.6.6.6")


class RecordingSocketServer:
    """Stands in for python-socketio's server (a library, not ours): records what the desk does."""

    def __init__(self) -> None:
        self.events, self.disconnected = [], []

    async def emit(self, event, data=None, to=None, **_):
        self.events.append((event, to))

    async def disconnect(self, sid):
        self.disconnected.append(sid)


def test_sockets_whose_session_ended_are_disconnected(store):
    import hashlib

    store.add_agent("li", PASSWORD)
    store.add_agent("zhao", PASSWORD)
    desk = AgentDeskInput(load_desk_settings(), DeskHub(store))
    feed = desk.feed
    feed.sio = RecordingSocketServer()
    tokens = {"sid-li": store.login("li", PASSWORD), "sid-zhao": store.login("zhao", PASSWORD)}
    for sid, token in tokens.items():  # sid-zhao is held by another replica: only its presence row is here
        desk.presence.joined(sid, AgentSocket(sid[4:], hashlib.sha256(token.encode()).hexdigest()))
    feed.local.add("sid-li")
    assert desk.presence.online_agents() == {"li", "zhao"}
    asyncio.run(feed.drop_dead_sockets())
    assert feed.sio.disconnected == []
    store.logout(tokens["sid-li"])
    asyncio.run(feed.drop_dead_sockets())
    assert feed.sio.disconnected == ["sid-li"] and ("session_ended", "sid-li") in feed.sio.events
    store.set_disabled("zhao", True)
    asyncio.run(feed.drop_dead_sockets())
    assert feed.sio.disconnected == ["sid-li", "sid-zhao"] and desk.presence.sockets() == {}


def test_databases_from_before_display_names_are_upgraded(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}", future=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE desk_agents (username VARCHAR(64) PRIMARY KEY, password_hash VARCHAR(200) "
                          "NOT NULL, role VARCHAR(16) NOT NULL, created_at FLOAT NOT NULL)"))
        conn.execute(text("INSERT INTO desk_agents VALUES ('old_li', :h, 'agent', 0)"),
                     {"h": hash_password(PASSWORD)})
    store = DeskStore(engine)
    agent = store.agent_for(store.login("old_li", PASSWORD))
    assert agent.display_name.startswith("客服") and agent.queues == ("general",)


def test_cli_resets_passwords_and_disables_agents(monkeypatch, db_url, capsys):
    monkeypatch.setenv("CONNECTOR_DB_URL", db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["add-agent", "li", "--display-name", "客服小李", "--queues", "general,fraud"]) == 0
    store = DeskStore(create_engine(db_url, future=True))
    agent = store.get_agent("li")
    assert agent.display_name == "客服小李" and agent.queues == ("general", "fraud")
    token = store.login("li", PASSWORD)
    monkeypatch.setattr("sys.stdin", io.StringIO("another long passphrase\n"))
    assert cli.main(["reset-password", "li"]) == 0
    assert store.agent_for(token) is None and store.login("li", "another long passphrase")
    assert cli.main(["disable-agent", "li"]) == 0 and store.login("li", "another long passphrase") is None
    assert cli.main(["enable-agent", "li"]) == 0 and store.login("li", "another long passphrase")
    assert cli.main(["disable-agent", "ghost"]) == 1 and "no agent" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["add-agent", "li", "--queues", "vip"])


# --- issue 16: the desk's state is shared by replicas ----------------------------------------------
def test_a_csat_answer_counts_on_any_replica_once_and_lapses(store):
    from connectors.agent_desk.csat import CSAT_THANKS, CsatSurvey

    store.add_agent("li", PASSWORD)
    clock = Clock()
    asked_on, answered_on = (DeskHub(store, csat=CsatSurvey(store, window_s=3600, clock=clock)) for _ in range(2))
    handoff = store.enqueue("webchat:c1", "webchat", "request_human", "normal", None, {})
    store.accept(handoff["id"], "li")
    store.end(handoff["id"], "closed", "resolved")
    asked_on.csat.ask("webchat:c1")
    assert asyncio.run(answered_on.intercept("webchat:c1", "我还有问题")) is None  # not a score: the bot answers
    assert asyncio.run(answered_on.intercept("webchat:c1", " 4 ")) == CSAT_THANKS
    assert asyncio.run(asked_on.intercept("webchat:c1", "4")) is None  # answered once, on either replica
    assert store.get(handoff["id"])["csat"] == 4
    asked_on.csat.ask("webchat:c1")
    clock.now += 3601
    assert asyncio.run(answered_on.intercept("webchat:c1", "5")) is None  # the question lapsed


def test_supervisors_on_any_replica_see_and_take_over_live_bot_conversations(store):
    store.add_agent("wang", PASSWORD, "supervisor")
    seen_on, listed_on = DeskHub(store), DeskHub(store)
    asyncio.run(seen_on.customer_message("webchat:b1", f"我的卡号{RAW_PII[2]}怎么挂失", "webchat"))
    asyncio.run(seen_on.customer_message("wechat:b2", "查余额", "wechat"))
    listed = listed_on.live_bot_conversations()
    assert [c["sender_id"] for c in listed] == ["wechat:b2", "webchat:b1"]  # newest first
    assert RAW_PII[2] not in str(listed) and listed[1]["channel"] == "webchat"
    handoff = asyncio.run(listed_on.take_over("webchat:b1", store.get_agent("wang")))
    assert handoff["agent"] == "wang" and handoff["channel"] == "webchat"
    assert [c["sender_id"] for c in seen_on.live_bot_conversations()] == ["wechat:b2"]  # a human has b1 now
