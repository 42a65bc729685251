"""The bot's satisfaction question (bot/dialogue/satisfaction.py): when it is asked, what reads as a score,
how the score is recorded (bot/actions/satisfaction.py) and what the analytics make of it."""
from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, select

from bot.actions.satisfaction import ActionAskBotCsat, ActionRecordBotCsat
from bot.analytics import tables
from bot.analytics.broker import PrivateSQLEventBroker
from bot.analytics.consumer import AnalyticsConsumer
from bot.analytics.summary import combined_scores, summary
from bot.banking.masking import mask_text
from bot.dialogue.commands import Command, Turn, interpret
from bot.dialogue.plans import GOODBYE, plan_for
from bot.dialogue.satisfaction import QUESTION, SCORE, question_pending, score_of, should_ask
from bot.dialogue.state import DialogueState, dialogue_state

ZONE = "Asia/Shanghai"
NOW = time.time()
TODAY = datetime.fromtimestamp(NOW, ZoneInfo(ZONE)).strftime("%Y-%m-%d")
START = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"},
         {"event": "action", "name": "action_listen"}]


def user(text: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}, "entities": []}}


def bot(text: str = "…", **metadata) -> dict:
    return {"event": "bot", "text": text, "metadata": metadata}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


ANSWERED = [*START, user("信用卡年费多少"), action("action_answer_faq"), bot(faq_id="credit_card.annual_fee")]
ASKED = [*ANSWERED, user("好的拜拜"), action("utter_goodbye"), bot("再见"), action("action_ask_bot_csat"),
         bot("请打分", **{QUESTION: True})]


@pytest.mark.parametrize("text,score", [("5", 5), ("４", 4), ("3分", 3), ("五星", 5), ("打4分吧", 4), ("给两分", 2),
                                        ("1 star", 1), ("score: 4", 4), ("5分！", 5)])
def test_scores_in_the_forms_customers_type_them(text, score):
    assert score_of(text) == score


@pytest.mark.parametrize("text", ["6", "0", "10", "12345", "5000", "尾号6688", "五千", "还有个问题", "3月5号", ""])
def test_other_replies_are_no_score(text):
    assert score_of(text) is None


def test_asked_after_a_conversation_the_bot_served_alone_and_only_once():
    assert should_ask(ANSWERED)
    assert should_ask([*START, user("查余额"), action("action_start_task"), action("action_check_balance"),
                       bot("余额…")])
    assert not should_ask([*START, user("你好"), action("utter_greet"), bot("您好")])  # nothing served
    assert not should_ask([*START, user("找网点"), action("action_start_task"), action("branch_form"),
                           user("算了"), action("action_cancel_task")])  # a cancelled task served nothing
    assert not should_ask(ASKED)  # once per conversation
    assert not should_ask([*ANSWERED, user("转人工"), bot(handoff={"handoff_id": 1, "reason": "request_human"})])
    assert not should_ask([*ANSWERED, {"event": "pause"}])  # an agent took over: the desk's survey rates it
    assert should_ask([*ASKED, *START, user("年费多少"), bot(faq_id="credit_card.annual_fee")])  # a new conversation


def test_a_score_right_after_the_question_is_a_rating_and_nothing_else_is():
    rated = interpret(dialogue_state([*ASKED, user("4分")], {}, None), Turn(text="4分", intent="inform"))
    assert (rated.act, rated.slots) == ("rate_bot", {"bot_csat": 4})
    assert plan_for(rated, DialogueState())[0] == ["action_record_bot_csat"]
    moved_on = dialogue_state([*ASKED, user("还有个问题")], {}, None)
    assert moved_on.rating_asked and interpret(moved_on, Turn(text="还有个问题", intent="faq")).act != "rate_bot"
    later = dialogue_state([*ASKED, user("好"), bot("好的"), user("5")], {}, None)
    assert not later.rating_asked  # the question lapsed when the customer moved on
    assert not question_pending([*ANSWERED])


def test_goodbyes_inside_a_flow_ask_too():
    assert plan_for(Command("close_flow"), DialogueState())[0] == ["action_close_flow", *GOODBYE]
    assert plan_for(Command("cancel_flow", aside="goodbye"), DialogueState())[0] == ["action_cancel_task", *GOODBYE]


def tracker(events: list, text: str, command: dict | None = None) -> Tracker:
    slots = {"dialogue_turn": {"turn_id": "m1", "command": command}} if command else {}
    return Tracker("rest:x", slots, {"text": text, "message_id": "m1", "intent": {"name": "inform"}}, events,
                   False, None, None, "action_listen")


def test_the_actions_ask_once_and_record_the_score_in_the_thanks():
    dispatcher = CollectingDispatcher()
    ActionAskBotCsat().run(dispatcher, tracker(ANSWERED, "拜拜"), {})
    assert [(m["response"], m[QUESTION]) for m in dispatcher.messages] == [("utter_ask_bot_csat", True)]
    dispatcher = CollectingDispatcher()
    ActionAskBotCsat().run(dispatcher, tracker(ASKED, "拜拜"), {})
    assert dispatcher.messages == []
    dispatcher = CollectingDispatcher()
    ActionRecordBotCsat().run(dispatcher, tracker(ASKED, "2分", {"act": "rate_bot", "slots": {"bot_csat": 2}}), {})
    assert [(m["response"], m[SCORE]) for m in dispatcher.messages] == [("utter_bot_csat_thanks_low", 2)]
    dispatcher = CollectingDispatcher()
    ActionRecordBotCsat().run(dispatcher, tracker(ASKED, "5"), {})  # the rules ran it: read the text
    assert [(m["response"], m[SCORE]) for m in dispatcher.messages] == [("utter_bot_csat_thanks", 5)]


def test_ratings_reach_the_summary_and_a_low_one_sends_its_answers_for_review(tmp_path):
    broker = PrivateSQLEventBroker(dialect="sqlite", db=str(tmp_path / "analytics.db"))
    conversations = {
        "webchat:low": [*ANSWERED, user("那我的卡号6222021234567890123呢"), bot(faq_id="cards.card_number"),
                        user("拜拜"), bot(**{QUESTION: True}), user("1"), bot(**{SCORE: 1})],
        "rest:high": [*ANSWERED, user("拜拜"), bot(**{QUESTION: True}), user("5"), bot(**{SCORE: 5})],
    }
    at = NOW - 300
    for sender, events in conversations.items():
        for event in events:
            at += 0.5
            broker.publish({**event, "sender_id": sender, "timestamp": at})
    broker.flush()
    engine = create_engine(f"sqlite:///{tmp_path / 'analytics.db'}", future=True)
    consumer = AnalyticsConsumer(engine, ZONE, 3600, mask_text, clock=lambda: NOW)
    while consumer.update(1000):
        pass
    report = summary(engine, TODAY, TODAY)
    assert report["csat_bot"] == {"avg": 3.0, "answers": 2}
    assert summary(engine, TODAY, TODAY, "rest")["csat_bot"] == {"avg": 5.0, "answers": 1}
    assert report["low_rated"] == 2 and report["containment_rate"] == 1.0
    k = tables.kb_outcomes
    with engine.connect() as conn:
        low = conn.execute(select(k.c.text, k.c.faq_id).where(k.c.outcome == "low_rated").order_by(k.c.id)).all()
    assert [row.faq_id for row in low] == ["credit_card.annual_fee", "cards.card_number"]
    assert "6222021234567890123" not in low[1].text  # masked like every stored text
    assert combined_scores(report["csat_bot"], {"avg": 4.0, "answers": 2}) == {"avg": 3.5, "answers": 4}
