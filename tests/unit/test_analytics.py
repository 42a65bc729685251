"""Analytics from the event broker's table (bot/analytics): scripted conversations with known outcomes,
folded in batches of any size, give the same numbers; the API's query is validated.
The end-to-end check over a real server is in tests/integration/test_agent_desk_api.py."""
from __future__ import annotations

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import create_engine, func, select

from bot.analytics.broker import PrivateSQLEventBroker
from bot.analytics.consumer import AnalyticsConsumer, broker_events
from bot.analytics.summary import summary
from bot.banking.masking import mask_text
from connectors.agent_desk.analytics import desk_measures, report_query
from connectors.agent_desk.validation import ApiError

ZONE = "Asia/Shanghai"
NOW = time.time()
TODAY = datetime.fromtimestamp(NOW, ZoneInfo(ZONE)).strftime("%Y-%m-%d")


def session(sender: str) -> list[dict]:
    return [{"event": "action", "name": "action_session_start"}, {"event": "session_started"},
            {"event": "action", "name": "action_listen"}]


def user(text: str) -> dict:
    return {"event": "user", "text": text}


def bot(text: str = "…", **metadata) -> dict:
    return {"event": "bot", "text": text, "metadata": metadata}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def slot(name: str, value) -> dict:
    return {"event": "slot", "name": name, "value": value}


def script() -> list[dict]:
    """Five conversations with known outcomes, interleaved as a live server would publish them."""
    answered = [*session("webchat:a"), user("信用卡年费多少"), bot(faq_id="credit_card.annual_fee"),
                user("谢谢"), bot(utter_action="utter_thank")]
    handed = [*session("wechat:b"), user("asdf"), bot(not_understood=True, utter_action="utter_kb_no_answer"),
              user("我的手机号13812345678收不到"), bot(not_understood=True, utter_action="utter_offer_human"),
              user("转人工"), action("action_request_human"),
              bot(handoff={"handoff_id": 7, "reason": "fallback"}), {"event": "pause"}]
    flows = [*session("rest:c"), user("我要转账"), action("action_start_task"), action("transfer_form"),
             slot("requested_slot", "payee"), user("张三"), action("transfer_form"), slot("requested_slot", "amount"),
             user("100"), action("transfer_form"), slot("requested_slot", "confirmed"), user("确认"),
             slot("confirmed", True), action("transfer_form"), {"event": "active_loop", "name": None},
             action("action_submit_transfer"), bot("已转账"),
             user("挂失"), action("action_start_task"), action("card_loss_form"), slot("requested_slot", "card_last4"),
             user("算了"), action("action_cancel_task"), bot("好的"),
             user("找网点"), action("action_start_task"), action("branch_form"), slot("requested_slot", "city"),
             bot("哪个城市？"),
             # a rollover is not a new conversation; a real session start is
             {"event": "session_started", "metadata": {"rollover": {"carried": []}}}, user("上海"),
             *session("rest:c"), user("你好"), bot("您好")]
    callback = [*session("rest:d"), user("找人工"), action("action_request_human"),
                bot(callback_reference="T-1", handoff={"reference": "T-1", "reason": "request_human"})]
    clarified = [*session("rest:e"), user("手续费"), bot(kb_candidates=[{"faq_id": "x"}, {"faq_id": "y"}]),
                 user('/faq{"faq_id": "y"}'), bot(faq_id="y", selected_by_customer=True)]
    senders = {"webchat:a": answered, "wechat:b": handed, "rest:c": flows, "rest:d": callback, "rest:e": clarified}
    events, at = [], NOW - 600
    queues = {sender: list(evs) for sender, evs in senders.items()}
    while any(queues.values()):
        for sender, queue in queues.items():
            for _ in range(3):
                if queue:
                    at += 0.5
                    events.append({**queue.pop(0), "sender_id": sender, "timestamp": at})
    return events


@pytest.fixture
def engine(tmp_path):
    broker = PrivateSQLEventBroker(dialect="sqlite", db=str(tmp_path / "analytics.db"))
    for event in script():
        broker.publish(event)
    broker.flush()
    return create_engine(f"sqlite:///{tmp_path / 'analytics.db'}", future=True)


def consumer(engine, clock=lambda: NOW) -> AnalyticsConsumer:
    return AnalyticsConsumer(engine, ZONE, 3600, mask_text, clock=clock)


def consume_all(c: AnalyticsConsumer, batch: int) -> None:
    while c.update(batch):
        pass


def test_scripted_conversations_give_the_known_measures(engine):
    consume_all(consumer(engine), 1000)
    report = summary(engine, TODAY, TODAY)
    assert report["conversations"] == 6  # rest:c had two (a real session start), its rollover is not one
    assert (report["contained"], report["handoffs"]) == (4, 2)
    assert report["handoffs_by_reason"] == {"fallback": 1, "request_human": 1}
    assert report["containment_rate"] == round(4 / 6, 4)
    assert report["customer_messages"] == 17
    assert report["no_answer_rate"] == round(2 / 17, 4) and report["clarification_rate"] == round(1 / 17, 4)
    assert report["picked_from_menu"] == 1 and report["picked_entries"] == [{"faq_id": "y", "count": 1}]
    assert report["top_unanswered"] == [{"text": "asdf", "count": 1},  # equal counts: by text
                                        {"text": mask_text("我的手机号13812345678收不到"), "count": 1}]
    assert "13812345678" not in json.dumps(report, ensure_ascii=False)
    assert report["flows"]["transfer_money"] == {"started": 1, "completed": 1, "cancelled": 0, "abandoned": 0,
                                                 "open": 0, "confirmed": 1,
                                                 "slots_reached": {"payee": 1, "amount": 1, "confirmed": 1}}
    assert report["flows"]["report_card_loss"]["cancelled"] == 1
    assert report["flows"]["find_branch"]["abandoned"] == 1  # the conversation ended with it open
    assert report["latency_ms"]["turns"] > 0
    by_channel = {c: summary(engine, TODAY, TODAY, c)["conversations"] for c in ("webchat", "wechat", "rest")}
    assert by_channel == {"webchat": 1, "wechat": 1, "rest": 4}
    assert report["daily"] == [{"day": TODAY, "conversations": 6, "contained": 4, "handoffs": 2}]
    assert summary(engine, TODAY, TODAY, "wechat")["daily"] == [{"day": TODAY, "conversations": 1, "contained": 0,
                                                                  "handoffs": 1}]


def test_the_daily_series_has_one_row_per_day_in_order(engine):
    at = NOW - 2 * 86400
    earlier = datetime.fromtimestamp(at, ZoneInfo(ZONE)).strftime("%Y-%m-%d")
    with engine.begin() as conn:  # a conversation two days ago, handed over to a person
        for offset, event in enumerate([*session("rest:y"), user("转人工"), action("action_request_human"),
                                        bot(handoff={"handoff_id": 9, "reason": "request_human"})]):
            conn.execute(broker_events.insert().values(sender_id="rest:y", data=json.dumps(
                {**event, "sender_id": "rest:y", "timestamp": at + offset})))
    consume_all(consumer(engine), 1000)
    report = summary(engine, earlier, TODAY)
    assert report["daily"] == [{"day": earlier, "conversations": 1, "contained": 0, "handoffs": 1},
                               {"day": TODAY, "conversations": 6, "contained": 4, "handoffs": 2}]
    assert sum(day["conversations"] for day in report["daily"]) == report["conversations"] == 7
    assert summary(engine, earlier, earlier)["daily"] == report["daily"][:1]


@settings(max_examples=8, deadline=None)
@given(batch=st.integers(min_value=1, max_value=40))
def test_any_batch_size_gives_the_same_numbers(tmp_path_factory, batch):
    tmp = tmp_path_factory.mktemp("batches")
    broker = PrivateSQLEventBroker(dialect="sqlite", db=str(tmp / "analytics.db"))
    for event in script():
        broker.publish(event)
    broker.flush()
    engine = create_engine(f"sqlite:///{tmp / 'analytics.db'}", future=True)
    consume_all(consumer(engine), batch)
    report = summary(engine, TODAY, TODAY)
    assert (report["conversations"], report["contained"], report["customer_messages"]) == (6, 4, 17)
    assert report["flows"]["transfer_money"]["completed"] == 1


def test_events_are_consumed_once_and_one_replica_holds_the_lease(engine):
    first, second = consumer(engine), consumer(engine)
    assert first._take_lease() and second.update() == 0  # the other replica waits for the lease
    first._release_lease()
    consume_all(second, 1000)
    assert first.update() == 0  # nothing new
    with engine.connect() as conn:  # folded events left the broker's queue (the newest stays: SQLite ids)
        assert conn.execute(select(func.count()).select_from(broker_events)).scalar() == 1
    assert summary(engine, TODAY, TODAY)["conversations"] == 6


def test_an_idle_conversation_is_closed_and_its_open_flow_abandoned(engine):
    c = consumer(engine)
    consume_all(c, 1000)
    before = summary(engine, TODAY, TODAY)["flows"]
    assert before.get("report_card_loss", {}).get("open", 0) == 0
    with engine.begin() as conn:  # a conversation that stops inside a form
        for offset, event in enumerate([*session("rest:z"), user("挂失"), action("card_loss_form"),
                                        slot("requested_slot", "card_last4")]):
            conn.execute(broker_events.insert().values(sender_id="rest:z", data=json.dumps(
                {**event, "sender_id": "rest:z", "timestamp": NOW - 500 + offset})))
    consume_all(c, 1000)
    assert summary(engine, TODAY, TODAY)["flows"]["report_card_loss"]["open"] == 1
    consume_all(consumer(engine, clock=lambda: NOW + 7200), 1000)  # two hours later
    flows = summary(engine, TODAY, TODAY)["flows"]["report_card_loss"]
    assert (flows["open"], flows["abandoned"], flows["cancelled"]) == (0, 1, 1)


@pytest.mark.parametrize("args,says", [
    ({"from": "2026-12-01"}, '"to" must be a date'),
    ({"from": "2026-13-01", "to": "2026-12-01"}, '"from" must be a date'),
    ({"from": "2026-12-02", "to": "2026-12-01"}, "must not be after"),
    ({"from": "2020-01-01", "to": "2026-12-01"}, "at most 366 days"),
    ({"from": "2026-12-01", "to": "2026-12-01", "channel": "fax"}, "must be one of"),
])
def test_the_report_query_says_what_is_wrong(args, says):
    with pytest.raises(ApiError) as error:
        report_query(args)
    assert error.value.status == 400 and says in error.value.message


def test_desk_measures_from_handoff_rows():
    rows = [{"created_at": 0, "accepted_at": 30, "ended_at": 330, "csat": 5},
            {"created_at": 0, "accepted_at": 90, "ended_at": None, "csat": None},
            {"created_at": 0, "accepted_at": None, "ended_at": None, "csat": 3}]
    out = desk_measures(rows)
    assert out["csat_agent"] == {"avg": 4.0, "answers": 2} and out["desk"]["accepted"] == 2 and out["desk"]["handle_s"]["p50"] == 300


def test_a_cited_document_answer_counts_as_answered_under_its_section(tmp_path):
    from bot.analytics.fold import knowledge_id

    broker = PrivateSQLEventBroker(dialect="sqlite", db=str(tmp_path / "analytics.db"))
    events = [*session("rest:f"), user("跨行转账5万以上手机银行收费吗"),
              bot("根据《…》（一）境内跨行转账：…", doc="fee_schedule_2026.html", section="（一）境内跨行转账",
                  page=None, version="v1")]
    for at, event in enumerate(events):
        broker.publish({**event, "sender_id": "rest:f", "timestamp": NOW - 60 + at})
    broker.flush()
    engine = create_engine(f"sqlite:///{tmp_path / 'analytics.db'}", future=True)
    consume_all(consumer(engine), 100)
    report = summary(engine, TODAY, TODAY)
    assert report["no_answer_rate"] == 0.0
    assert report["top_entries"] == [{"faq_id": "doc:fee_schedule_2026.html （一）境内跨行转账", "count": 1}]
    assert knowledge_id({"faq_id": "transfer.fee"}) == "transfer.fee" and knowledge_id({"doc": "x.pdf"}) is None


def test_the_consumer_runs_as_its_own_process_and_reads_the_backlog(tmp_path):
    import os
    import subprocess
    import sys

    broker = PrivateSQLEventBroker(dialect="sqlite", db=str(tmp_path / "analytics.db"))
    for event in script():
        broker.publish(event)
    broker.flush()
    env = {**os.environ, "ANALYTICS_DB_URL": f"sqlite:///{tmp_path / 'analytics.db'}", "ANALYTICS_TIMEZONE": ZONE}
    done = subprocess.run([sys.executable, "-m", "bot.analytics", "--once"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'analytics.db'}", future=True)
    assert summary(engine, TODAY, TODAY)["conversations"] == 6  # the same measures as in-process
    refused = subprocess.run([sys.executable, "-m", "bot.analytics", "--every", "0"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 2 and "--every must be a positive number" in refused.stderr


def test_offered_document_sections_count_as_a_clarification_and_the_one_opened_as_picked():
    from bot.analytics.fold import ConversationFold

    offered = [{"doc": "fee.html", "section": "二、账户管理类", "text": "…", "version": "v1"}]
    script = [*session("rest:f"), user("管理费怎么扣"), bot(kb_documents=offered),
              user('/faq{"faq_id": "doc:fee.html 二、账户管理类"}'),
              bot(doc="fee.html", section="二、账户管理类", selected_by_customer=True)]
    fold, state, rows = ConversationFold("rest:f#1", mask_text), None, []
    for event in script:
        state, facts = fold.apply(state, {**event, "sender_id": "rest:f", "timestamp": NOW})
        rows += [fact["row"] for fact in facts if fact["table"] == "kb"]
    assert [(row["outcome"], row["faq_id"]) for row in rows] == [("clarify", None),
                                                                 ("picked", "doc:fee.html 二、账户管理类")]
