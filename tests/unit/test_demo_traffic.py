"""`make demo-traffic` (bot/demo_traffic), its pure parts: the conversation scripts are
well-formed and our own, the mix covers every channel and kind, replies are read the way each
channel shows them, and nothing a random menu pick does can change the sandbox bank. The end-to-end
run is a command (it starts the assistant), not part of the test suite."""
from __future__ import annotations

import json
import random
import re
import unicodedata
from collections import Counter

import pytest
import yaml

from bot.demo_traffic.__main__ import parse_args
from bot.demo_traffic.assistant import server_overrides
from bot.demo_traffic.conversations import CUSTOMERS, KINDS, SCRIPTS, WEIGHTS, AskHuman, Rate, Say
from bot.demo_traffic.drive import Outcome
from bot.demo_traffic.errors import DemoError
from bot.demo_traffic.mix import CHANNELS, plan
from bot.demo_traffic.replies import Option, choose, rest_reply, score_option, webchat_reply, wechat_reply
from bot.demo_traffic.report import bank_day, report_lines, traffic_lines
from bot.demo_traffic.wechat import WeChatAccount
from connectors.agent_desk.canned import DISPOSITIONS
from connectors.wechat.replies import numbered_options
from tests.conftest import shared_file


def _steps():
    for kind, scripts in SCRIPTS.items():
        for script in scripts:
            yield kind, script


def test_every_script_is_well_formed():
    assert set(WEIGHTS) == set(KINDS)
    for kind, script in _steps():
        assert script.kind == kind and script.steps
        assert isinstance(script.steps[0], (Say, AskHuman)), "the customer speaks first"
        assert script.customer in (None, *CUSTOMERS)
        assert all(0 < len(text) <= 200 and text == text.strip() for text in script.texts)
        asks = [s for s in script.steps if isinstance(s, AskHuman)]
        assert (kind == "handoff") == bool(asks), "a person is asked for in handoff conversations only"
        assert not asks or script.steps[-1] is asks[0], "the desk's exchange ends the conversation"
        for step in asks:
            assert step.disposition in DISPOSITIONS and 1 <= step.score <= 5
            assert step.greeting and step.answer and step.detail
        rates = [i for i, s in enumerate(script.steps) if isinstance(s, Rate)]
        assert all(1 <= script.steps[i].score <= 5 and i == len(script.steps) - 1 for i in rates), \
            "a rating answers the question asked after the goodbye"


def test_the_satisfaction_options_are_found_on_every_channel():
    zh = rest_reply([{"text": "请打分", "buttons": [{"title": f"{n}分 x", "payload": str(n)} for n in range(1, 6)]}])
    en = webchat_reply([{"text": "Rate", "quick_replies": [{"title": f"{n} Good", "payload": str(n)}
                                                           for n in range(1, 6)]}])
    wechat = wechat_reply(["再见", numbered_options("请打分", [f"{n}分 x" for n in range(1, 6)])])
    for reply in (zh, en, wechat):
        assert score_option(reply.options, 4).send == "4" and score_option(reply.options, 1).send == "1"
    assert score_option(rest_reply([{"text": "金额", "buttons": [{"title": "5000元", "payload": "5000"}]}]).options,
                        5) is None


def test_account_kinds_log_in_and_public_ones_need_not():
    for kind, script in _steps():
        if kind in ("balance", "transfer_cancelled", "card_loss"):
            assert script.customer is not None, f"{kind} needs a verified customer"
    assert any(s.customer is None for _, s in _steps())


def test_every_kind_has_several_wordings_and_some_english():
    assert all(len(scripts) >= 3 for scripts in SCRIPTS.values())
    english = [s for _, s in _steps() if all(ord(c) < 128 or c in "示例银行" for c in " ".join(s.texts))]
    assert len(english) >= 4


def test_the_mix_covers_each_channel_and_kind_and_is_balanced():
    conversations = plan(60, seed=17)
    assert len(conversations) == 60
    assert {(c.kind, c.channel) for c in conversations} == {(k, ch) for k in KINDS for ch in CHANNELS}
    per_channel = Counter(c.channel for c in conversations)
    assert max(per_channel.values()) - min(per_channel.values()) <= 1
    assert [c.index for c in conversations] == list(range(1, 61))
    kinds = Counter(c.kind for c in conversations)
    assert kinds["faq"] == max(kinds.values()), "knowledge questions dominate, as in a bank's chat"


@pytest.mark.parametrize("count", [1, 7, 33, 200])
def test_any_count_gives_that_many_conversations_spread_over_the_channels(count):
    conversations = plan(count, seed=3)
    assert len(conversations) == count
    per_channel = Counter(c.channel for c in conversations)
    assert max(per_channel.values()) - min(per_channel.values(), default=0) <= max(1, count // 10)


def test_the_same_seed_gives_the_same_plan_and_another_seed_another():
    assert plan(60, 5) == plan(60, 5)
    assert plan(60, 5) != plan(60, 6)


def _loose(text: str) -> str:
    return re.sub(r"[\s，。！？、,.!?~～…'’]+", "", unicodedata.normalize("NFKC", text).lower())


def test_no_sentence_comes_from_the_held_out_dev_sets():
    dev = {_loose(t["user"]) for d in yaml.safe_load(shared_file("eval", "dev_dialogues.yml").read_text("utf-8"))
           ["dialogues"] for t in d["turns"]}
    for name in ("dev_faq.jsonl", "dev_intents.jsonl"):
        dev |= {_loose(json.loads(line)["text"]) for line in
                shared_file("eval", name).read_text(encoding="utf-8").splitlines() if line.strip()}
    ours = {_loose(text) for _, script in _steps() for text in script.texts}
    assert not ours & dev, sorted(ours & dev)


def test_wechat_numbered_options_are_read_back_as_the_channel_writes_them():
    text = numbered_options("请问您在哪个城市？", ["北京", "上海", "广州"])
    reply = wechat_reply(["您好。", text])
    assert reply.options == (Option("北京", "1"), Option("上海", "2"), Option("广州", "3"))
    assert wechat_reply(["没有选项的回答"]).options == ()
    later = numbered_options("请选择：", ["确认挂失", "取消"])
    assert [o.title for o in wechat_reply([text, later]).options] == ["确认挂失", "取消"]


def test_rest_and_webchat_buttons_are_read_with_their_payloads():
    rest = rest_reply([{"recipient_id": "rest:x", "text": "请选择"},
                            {"text": "哪张卡？", "buttons": [{"title": "尾号6688", "payload": '/inform{"card_last4": "6688"}'}]}])
    assert rest.texts == ("请选择", "哪张卡？") and rest.options[0].send.startswith("/inform")
    web = webchat_reply([{"text": "哪张卡？", "quick_replies": [
        {"content_type": "text", "title": "取消", "payload": "/deny"}]}])
    assert web.options == (Option("取消", "/deny"),)
    with pytest.raises(DemoError):
        rest_reply({"error": "rate limited"})


def test_random_picks_never_confirm_nor_call_a_person():
    options = [Option("确认挂失", "/affirm"), Option("转人工客服", "/request_human"),
               Option("Confirm", "1"), Option("尾号4872", '/inform{"card_last4": "4872"}')]
    rng = random.Random(0)
    assert {choose(options, "", rng).title for _ in range(50)} == {"尾号4872"}
    assert choose(options[:3], "", rng) is None
    assert choose(options, "取消", rng) is None, "a preferred option that is not offered is not replaced"
    assert choose([*options, Option("取消", "/deny")], "取消", rng).send == "/deny"


def test_the_throwaway_wechat_account_is_valid_and_new_each_run():
    from connectors.wechat.crypto import MessageCrypto

    first, second = WeChatAccount.generate(), WeChatAccount.generate()
    assert first.token != second.token and first.aes_key != second.aes_key
    crypto = MessageCrypto(first.token, first.aes_key, first.app_id)  # raises on a malformed EncodingAESKey
    assert crypto.decrypt(crypto.encrypt("<xml/>")) == "<xml/>"
    env = first.server_env("http://127.0.0.1:9")
    assert env["WECHAT_API_BASE"] == "http://127.0.0.1:9" and env["WECHAT_ALLOW_PLAIN_MODE"] == "0"


def test_server_overrides_keep_what_the_caller_configured():
    account = WeChatAccount.generate()
    mine = server_overrides(account, "http://127.0.0.1:9", 5101, 5102, {"DESK_SERVICE_HOURS": "09:00-17:00"})
    assert "DESK_SERVICE_HOURS" not in mine and mine["RASA_PORT"] == "5101" and mine["ACTION_PORT"] == "5102"
    assert server_overrides(account, "x", 1, 2, {})["DESK_SERVICE_HOURS"] == "00:00-24:00"
    real = server_overrides(account, "x", 1, 2, {"WECHAT_TOKEN": "a real account's token"})
    assert real["WECHAT_TOKEN"] == account.token, "a real official account's secrets never reach the demo"


def test_arguments_are_checked():
    assert parse_args([]).conversations == 60
    for bad in (["--conversations", "0"], ["--concurrency", "9"], ["--password-stdin"], ["--think-s", "-1"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
    assert parse_args(["--supervisor", "wang", "--password-stdin"]).password_stdin


def test_the_printed_summary_reads_the_reports_fields():
    outcome = Outcome(plan(1, 1)[0], messages=3, notes=["step 2: no menu offered"],
                           failure=None)
    lines = traffic_lines([outcome], 12.0)
    assert lines[0].startswith("demo traffic: 1 conversations, 3 customer messages, 0 failed")
    assert any("no menu offered ×1" in line for line in lines)
    report = {"from": "2026-01-02", "to": "2026-01-02", "conversations": 4, "contained": 3, "containment_rate": 0.75,
              "handoffs": 1, "handoffs_by_reason": {"request_human": 1}, "customer_messages": 10,
              "no_answer_rate": 0.1, "clarification_rate": None, "picked_from_menu": 0,
              "top_entries": [{"faq_id": "transfer.arrival_time", "count": 2}],
              "top_unanswered": [{"text": "外币支票能托收吗", "count": 1}],
              "flows": {"transfer_money": {"started": 1, "completed": 0, "cancelled": 1, "abandoned": 0, "open": 0}},
              "latency_ms": {"p50": 120.0, "p95": None, "turns": 10}, "csat_avg": 3.67, "csat_answers": 3,
              "csat_bot": {"avg": 4.5, "answers": 2}, "csat_agent": {"avg": 2.0, "answers": 1},
              "desk": {"handoffs": 1, "accepted": 1, "wait_s": {"p50": 3.2}, "handle_s": {"p50": None}}}
    text = "\n".join(report_lines(report, {"rest": report}))
    for expected in ("contained 3 (75.0%)", "request_human 1", "no answer 10.0%", "clarification –",
                     "transfer.arrival_time 2", "外币支票能托收吗", "flow transfer_money: started 1",
                     "p50 120 ms", "queue wait p50 3 s", "rest 4 conversations",
                     "CSAT 3.67 (3 answers; bot 4.50 over 2, agents 2.00 over 1)"):
        assert expected in text, expected


def test_the_bank_day_is_the_analytics_time_zone_s():
    assert bank_day("Asia/Shanghai", at=1_767_196_800.0) == "2026-01-01"  # 2025-12-31 16:00 UTC
    assert bank_day("UTC", at=1_767_196_800.0) == "2025-12-31"
