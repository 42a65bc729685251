"""The conversation regression runner (bot/conversations): file loading, observing a turn, checking it.

No server: trackers and replies are hand-built in the shape a real Rasa 3.6 server of this project
returns them (GET /conversations/rest:<sender>/tracker, POST /webhooks/rest/webhook): keyword
arguments of dispatcher.utter_message (faq_id, handoff) land in the bot event's `metadata`, next to
Rasa's model_id / assistant_id; the REST replies carry only text and buttons.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.conversations import __main__ as cli
from bot.conversations.check import MISSING, Mismatch, check, slot_matches
from bot.conversations.model import (Dialogue, DialogueFileError, Turn, conversation_files, load_dialogues,
                                     parse_dialogues)
from bot.conversations.observe import Observation, observe, turn_bot_events
from bot.conversations.runner import DialogueResult, TurnResult, format_dialogue, summarise

GOOD = """
version: 1
dialogues:
  - id: transfer_then_question
    customer: C001
    turns:
      - user: "给李四转一千二"
        expect: {flow: transfer_money, slots: {payee: "李四", amount: 1200}, asks: [card_last4, confirmed]}
      - user: "跨行转账收手续费吗"
        expect: {faq_id: transfer.interbank_fee, flow: transfer_money}
  - id: anonymous_hello
    customer: null
    xfail: "greeting not trained yet"
    turns:
      - user: "你好"
"""


def _parse(text: str) -> list:
    return parse_dialogues(text, Path("suite.yml"))


def _error(text: str) -> str:
    with pytest.raises(DialogueFileError) as caught:
        _parse(text)
    return str(caught.value)


# --- model ---------------------------------------------------------------------------------------

def test_a_valid_file_loads_into_dialogues_and_turns():
    transfer, hello = _parse(GOOD)
    assert (transfer.id, transfer.customer, transfer.xfail) == ("transfer_then_question", "C001", None)
    assert transfer.turns[0].user == "给李四转一千二"
    assert transfer.turns[0].expect["slots"] == {"payee": "李四", "amount": 1200}
    assert transfer.turns[1].expect == {"faq_id": "transfer.interbank_fee", "flow": "transfer_money"}
    assert (hello.customer, hello.xfail, hello.turns[0].expect) == (None, "greeting not trained yet", {})


def test_an_unknown_expect_key_names_file_dialogue_turn_and_key():
    message = _error(GOOD.replace("faq_id: transfer", "faqid: transfer"))
    assert "suite.yml" in message and "'transfer_then_question' turn 2" in message and "'faqid'" in message
    assert "faq_id" in message  # the allowed keys are listed


@pytest.mark.parametrize("text, words", [
    (GOOD.replace('- user: "你好"', '- expect: {}'), ["'anonymous_hello' turn 1", "missing `user`"]),
    (GOOD.replace('{faq_id: transfer.interbank_fee,', '{no_faq: "yes",'), ["'no_faq'", "true or false"]),
    (GOOD.replace('asks: [card_last4, confirmed]', 'asks: {a: 1}'), ["'asks'", "slot name"]),
    (GOOD.replace('customer: C001', 'customer: [C001]'), ["`customer`"]),
    (GOOD.replace('xfail: "greeting not trained yet"', 'xfail: true'), ["`xfail`", "reason"]),
    (GOOD.replace('version: 1', 'version: 2'), ["`version` must be 1"]),
    (GOOD.replace('  - id: anonymous_hello', '  - id: transfer_then_question'), ["used twice"]),
    (GOOD.replace('    customer: null\n', '    customer: null\n    turn:\n'), ["unknown dialogue key"]),
    ("version: 1\ndialogues: {a: 1}\n", ["`dialogues` must be a list"]),
    ("version: 1\ndialogues:\n  - id: x\n    turns: [\n", ["not valid YAML", "line"]),
    ("- just a list\n", ["top level"]),
])
def test_invalid_files_are_refused_with_a_useful_message(text, words):
    message = _error(text)
    assert all(w in message for w in words), message


def test_files_and_folders_are_collected(tmp_path):
    (tmp_path / "b.yml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    assert conversation_files([tmp_path]) == [tmp_path / "b.yml", tmp_path / "sub" / "a.yml"]
    assert [d.id for d in load_dialogues(tmp_path / "b.yml")] == ["transfer_then_question", "anonymous_hello"]
    with pytest.raises(DialogueFileError, match="no such file"):
        conversation_files([tmp_path / "missing.yml"])
    with pytest.raises(DialogueFileError, match="no such file"):
        load_dialogues(tmp_path / "missing.yml")


def test_cli_input_errors_exit_with_2_before_touching_a_server(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RASA_API_TOKEN", "t" * 40)  # no secret files written for this test
    bad = tmp_path / "bad.yml"
    bad.write_text(GOOD.replace("flow: transfer_money}", "flw: transfer_money}"), encoding="utf-8")
    assert cli.main(["test", str(bad)]) == 2
    assert "unknown expect key 'flw'" in capsys.readouterr().err
    assert cli.main(["test", str(tmp_path / "nothing.yml")]) == 2
    good = tmp_path / "good.yml"
    good.write_text(GOOD, encoding="utf-8")
    assert cli.main(["test", str(good), "-k", "no-such-dialogue"]) == 2
    out = tmp_path / "o.json"
    assert cli.main(["test", str(good), "--url", "http://127.0.0.1:9", "--json", str(out)]) == 2
    assert "cannot connect" in capsys.readouterr().err


# --- observe -------------------------------------------------------------------------------------

RASA_META = {"model_id": "311c05eeff0a446e9358e7e48ad10193", "assistant_id": "shili-bank-assistant"}


def _user(text: str, ts: float) -> dict:
    return {"event": "user", "timestamp": ts, "metadata": dict(RASA_META), "text": text,
            "input_channel": "rest", "message_id": f"m{ts}",
            "parse_data": {"intent": {"name": "faq", "confidence": 0.9}, "entities": []}}


def _bot(text: str, ts: float, metadata: dict | None = None, buttons: list | None = None) -> dict:
    return {"event": "bot", "timestamp": ts, "metadata": {**(metadata or {}), **RASA_META}, "text": text,
            "data": {"elements": None, "quick_replies": None, "buttons": buttons, "attachment": None,
                     "image": None, "custom": None}}


def _event(kind: str, ts: float, **fields) -> dict:
    return {"event": kind, "timestamp": ts, "metadata": dict(RASA_META), **fields}


def _tracker(events: list, active_loop: dict | None = None, paused: bool = False, **slots) -> dict:
    """The parts of Rasa 3.6's tracker JSON the runner reads, in their real places."""
    base = {"requested_slot": None, "payee": None, "amount": None, "card_last4": None, "kb_answer_id": None}
    return {"sender_id": "rest:convtest-1", "slots": {**base, **slots}, "latest_message": {},
            "paused": paused, "followup_action": None, "events": events, "latest_input_channel": "rest",
            "active_loop": active_loop or {}, "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen", "latest_event_time": 10.0}


CARDS = [{"title": "借记卡 尾号4872", "payload": '/inform{"card_last4": "4872"}'},
         {"title": "借记卡 尾号6688", "payload": '/inform{"card_last4": "6688"}'}]
TRANSFER_LOOP = {"name": "transfer_form", "is_interrupted": False, "rejected": False,
                 "trigger_message": {"intent": {"name": "transfer_money"}, "entities": []}}
FIRST_TURN = [
    _event("action", 1.0, name="action_session_start", policy=None, confidence=1.0),
    _event("session_started", 1.1),
    _event("action", 1.2, name="action_listen", policy=None, confidence=None),
    _user("帮我给王小明打五千", 2.0),
    _event("slot", 2.01, name="payee", value="王小明"),
    _event("slot", 2.02, name="amount", value="5000"),
    _event("action", 2.1, name="action_start_task", policy="RulePolicy", confidence=1.0),
    _event("slot", 2.11, name="task_ready", value=True),
    _event("action", 2.2, name="transfer_form", policy="RulePolicy", confidence=1.0),
    _event("active_loop", 2.21, name="transfer_form"),
    _event("slot", 2.22, name="requested_slot", value="card_last4"),
    _bot("请问从哪张卡转出？", 2.23, buttons=CARDS),
    _event("action", 2.3, name="action_listen", policy="RulePolicy", confidence=1.0),
]


def test_observe_a_turn_inside_a_form_answered_from_the_kb():
    events = FIRST_TURN + [
        _user("跨行转账收手续费吗", 3.0),
        _event("action_execution_rejected", 3.01, name="transfer_form", policy="RulePolicy", confidence=1.0),
        _event("action", 3.1, name="action_answer_aside", policy="RulePolicy", confidence=1.0),
        _bot("您好，跨行转账是否收费……", 3.11, {"faq_id": "transfer.interbank_fee", "score": 0.9531,
                                          "confidence": 0.8927}),
        _event("slot", 3.12, name="kb_answer_id", value="transfer.interbank_fee"),
        _event("action", 3.2, name="transfer_form", policy="RulePolicy", confidence=1.0),
        _event("slot", 3.21, name="requested_slot", value="card_last4"),
        _bot("请问从哪张卡转出？", 3.22, buttons=CARDS),
        _event("action", 3.3, name="action_listen", policy="RulePolicy", confidence=1.0),
    ]
    tracker = _tracker(events, TRANSFER_LOOP, requested_slot="card_last4", payee="王小明", amount="5000",
                       kb_answer_id="transfer.interbank_fee")
    replies = [{"recipient_id": "rest:convtest-1", "text": "您好，跨行转账是否收费……"},
               {"recipient_id": "rest:convtest-1", "text": "请问从哪张卡转出？", "buttons": CARDS}]
    obs = observe(replies, tracker)
    assert (obs.flow, obs.asks, obs.faq_ids, obs.handoff, obs.buttons) == (
        "transfer_money", "card_last4", ["transfer.interbank_fee"], False, True)
    assert obs.slots["payee"] == "王小明" and obs.texts == ["您好，跨行转账是否收费……", "请问从哪张卡转出？"]


def test_faq_ids_of_earlier_turns_do_not_count():
    events = [_user("开户要带什么", 1.0), _bot("请携带身份证", 1.1, {"faq_id": "account.open_materials"}),
              _user("好的谢谢", 2.0), _bot("不客气", 2.1)]
    assert [e["text"] for e in turn_bot_events(events)] == ["不客气"]
    obs = observe([{"recipient_id": "rest:x", "text": "不客气"}], _tracker(events))
    assert obs.faq_ids == [] and obs.flow is None and obs.asks is None and not obs.buttons


def test_handoff_from_a_paused_tracker_or_from_the_handoff_metadata():
    queued = [_user("ok, can I talk to a real person", 1.0),
              _event("action", 1.1, name="action_request_human", policy="RulePolicy", confidence=1.0),
              _bot("正在为您转接人工客服，您前面还有 0 位", 1.11,
                   {"handoff": {"handoff_id": 1, "priority": "normal", "position": 1}}),
              _event("active_loop", 1.12, name=None), _event("slot", 1.13, name="requested_slot", value=None),
              _event("pause", 1.14)]
    obs = observe([{"recipient_id": "rest:x", "text": "正在为您转接人工客服，您前面还有 0 位"}],
                  _tracker(queued, paused=True))
    assert obs.handoff and obs.paused and obs.flow is None and obs.faq_ids == []
    left_message = [_user("转人工", 1.0), _bot("已为您登记留言", 1.1, {"handoff": {"reference": "T1"}})]
    obs = observe([{"text": "已为您登记留言"}], _tracker(left_message))
    assert obs.handoff and not obs.paused
    assert not observe([{"text": "好的"}], _tracker([_user("好", 1.0), _bot("好的", 1.1)])).handoff


def test_the_customer_the_channel_sealed_onto_the_message():
    sealed = _user("查余额", 1.0)
    sealed["metadata"]["verified_identity"] = {"v": 1, "customer_id": "C001", "channel": "rest", "exp": 9,
                                               "mac": "ab"}
    assert observe([], _tracker([sealed, _bot("余额…", 1.1)])).customer == "C001"
    assert observe([], _tracker([_user("查余额", 1.0)])).customer is None


def test_an_unknown_form_shows_under_its_own_name():
    tracker = _tracker(FIRST_TURN, {**TRANSFER_LOOP, "name": "some_new_form"})
    assert observe([], tracker).flow == "some_new_form"


# --- check ---------------------------------------------------------------------------------------

def _obs(**fields) -> Observation:
    defaults = {"flow": "transfer_money", "asks": "card_last4",
                "slots": {"payee": "李四", "amount": "1200.00", "card_last4": None, "confirmed": None},
                "faq_ids": [], "handoff": False, "buttons": True,
                "texts": ["好的，给李四转账 1,200.00 元。", "请选择扣款卡："]}
    return Observation(**{**defaults, **fields})


def _keys(mismatches: list[Mismatch]) -> list[str]:
    return [m.key for m in mismatches]


def test_a_matching_turn_has_no_mismatches():
    expect = {"flow": "transfer_money", "asks": ["card_last4", "confirmed"], "buttons": True,
              "handoff": False, "slots": {"payee": "李四", "amount": 1200}, "no_faq": True,
              "says_any": ["1,200", "1200"], "says_none": ["验证码"], "says_any_2": ["扣款卡"]}
    assert check(_obs(), expect) == []


@pytest.mark.parametrize("expected, actual, same", [
    (1200, "1200", True), (1200, "1200.00", True), (1200, 1200.0, True), (1200, "1,200", True),
    (300, "3000", False), (1200, None, False), (1200, "一千二", False),
    ("6688", "6688", True), ("6688", 6688, True), ("4872", "6688", False), ("李四", None, False),
    (True, True, True), (True, "true", True), (False, True, False), (None, None, True), (None, "x", False),
])
def test_slot_values(expected, actual, same):
    assert slot_matches(expected, actual) is same


def test_flow_and_asks_none_mean_nothing_active():
    idle = _obs(flow=None, asks=None)
    assert check(idle, {"flow": "none", "asks": "none"}) == []
    assert check(idle, {"flow": None, "asks": None}) == []
    assert check(_obs(), {"flow": "none"}) == [Mismatch("flow", None, "transfer_money")]
    assert check(_obs(), {"asks": None}) == [Mismatch("asks", None, "card_last4")]
    assert check(idle, {"flow": "transfer_money"}) == [Mismatch("flow", "transfer_money", None)]


def test_asks_list_means_any_of_them():
    assert check(_obs(asks="confirmed"), {"asks": ["card_last4", "confirmed"]}) == []
    assert _keys(check(_obs(asks="amount"), {"asks": ["card_last4", "confirmed"]})) == ["asks"]
    assert _keys(check(_obs(asks=None), {"asks": "card_last4"})) == ["asks"]


def test_slot_mismatches_name_the_slot():
    mismatches = check(_obs(), {"slots": {"payee": "张三", "amount": 1200, "no_such_slot": "x"}})
    assert mismatches == [Mismatch("slots.payee", "张三", "李四"),
                          Mismatch("slots.no_such_slot", "x", MISSING)]


def test_faq_ids_and_no_faq():
    answered = _obs(faq_ids=["mobile_banking.enroll", "transfer.channel_limits"])
    assert check(answered, {"faq_id": "mobile_banking.enroll", "faq_id_2": "transfer.channel_limits"}) == []
    both = {"faq_id": "mobile_banking.enroll", "faq_id_2": "transfer.channel_limits"}
    assert _keys(check(_obs(faq_ids=["mobile_banking.enroll"]), both)) == ["faq_id_2"]
    assert _keys(check(answered, {"no_faq": True})) == ["no_faq"]
    assert check(_obs(), {"no_faq": True}) == []
    assert _keys(check(_obs(), {"faq_id": "transfer.interbank_fee"})) == ["faq_id"]


def test_says_any_says_none_and_second_groups():
    obs = _obs(texts=["您的尾号4872的卡已临时挂失。", "请尽快携带身份证到网点办理正式挂失。"])
    assert check(obs, {"says_any": ["4872"], "says_any_2": ["网点", "柜台"], "says_none": ["6688"]}) == []
    mismatches = check(obs, {"says_any": ["6688"], "says_none": ["4872", "正式挂失", "验证码"]})
    assert _keys(mismatches) == ["says_any", "says_none"]
    assert "4872" in str(mismatches[1].actual) and "验证码" not in str(mismatches[1].actual)
    assert _keys(check(_obs(texts=[]), {"says_any": ["好"]})) == ["says_any"]
    assert check(_obs(texts=[]), {"says_none": ["好"]}) == []


def test_handoff_and_buttons_are_booleans():
    assert check(_obs(handoff=True, buttons=False), {"handoff": True, "buttons": False}) == []
    assert _keys(check(_obs(), {"handoff": True, "buttons": False})) == ["handoff", "buttons"]


# --- results -------------------------------------------------------------------------------------

def _result(xfail: str | None, passed: bool) -> DialogueResult:
    dialogue = Dialogue(id="d", customer=None, turns=[Turn("你好")], xfail=xfail)
    turn = TurnResult(1, dialogue.turns[0], observation=_obs(),
                      mismatches=[] if passed else [Mismatch("flow", None, "transfer_money")])
    return DialogueResult(dialogue, "rest:x", [turn])


def test_xfail_and_xpass_are_reported_but_do_not_fail_the_run():
    results = [_result(None, True), _result("known", False), _result("known", True)]
    summary = summarise(results)
    assert [r.status for r in results] == ["pass", "xfail", "xpass"] and summary.ok
    assert summary.line() == "dialogues 2/3 passed, turns 2/3 passed (1 xfail, 1 xpass)"
    assert not summarise([_result(None, False)]).ok


def test_a_failing_turn_shows_the_diff_the_replies_and_the_state():
    text = "\n".join(format_dialogue(_result(None, False)))
    assert "FAIL d turn 1: 「你好」" in text
    assert 'flow: expected null / actual "transfer_money"' in text
    assert "bot: 好的，给李四转账 1,200.00 元。" in text
    assert "now: flow=transfer_money asks=card_last4" in text
    json.dumps(_result(None, False).to_dict(), ensure_ascii=False)  # --json can write it


class FakeClient:
    """Answers like the REST channel + tracker API; fails the request numbered `fail_at`."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at, self.sent, self.events = fail_at, [], []

    def send(self, sender: str, text: str, customer_token: str | None = None) -> list[dict]:
        from bot.conversations.client import ClientError

        self.sent.append((sender, text, customer_token))
        if len(self.sent) == self.fail_at:
            raise ClientError("POST http://x/webhooks/rest/webhook: HTTP 500: boom")
        self.events += [_user(text, len(self.sent)), _bot(f"回复{len(self.sent)}", len(self.sent) + 0.1)]
        return [{"recipient_id": f"rest:{sender}", "text": f"回复{len(self.sent)}"}]

    def tracker(self, conversation_id: str) -> dict:
        assert conversation_id.startswith("rest:convtest-")
        return _tracker(list(self.events))


def test_a_dialogue_runs_in_a_fresh_namespaced_conversation():
    from bot.conversations.runner import run_dialogue

    dialogue = Dialogue(id="d", customer=None, turns=[Turn("一", {"says_any": ["回复1"]}), Turn("二", {})])
    client = FakeClient()
    result = run_dialogue(client, dialogue)  # type: ignore[arg-type]
    assert result.passed and result.conversation_id == f"rest:{client.sent[0][0]}"
    assert {s for s, _, _ in client.sent} == {client.sent[0][0]} and client.sent[0][2] is None
    assert run_dialogue(FakeClient(), dialogue).conversation_id != result.conversation_id


def test_a_failed_request_fails_the_turn_and_skips_the_rest_without_a_traceback():
    from bot.conversations.runner import run_dialogue

    dialogue = Dialogue(id="d", customer=None, turns=[Turn("一"), Turn("二"), Turn("三")])
    result = run_dialogue(FakeClient(fail_at=2), dialogue)  # type: ignore[arg-type]
    assert [t.passed for t in result.turns] == [True, False, False]
    assert "HTTP 500" in result.turns[1].error and result.turns[2].skipped
    text = "\n".join(format_dialogue(result))
    assert "error: POST http://x/webhooks/rest/webhook: HTTP 500: boom" in text and "not run" in text


def test_a_customer_token_the_server_refuses_is_reported(monkeypatch):
    from bot.conversations.runner import run_dialogue

    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", "k" * 40)  # no secret files written for this test
    client = FakeClient()
    result = run_dialogue(client, Dialogue(id="d", customer="C001", turns=[Turn("查余额"), Turn("好")]))
    assert client.sent[0][2] and client.sent[0][2] == client.sent[1][2]  # one token, sent on every turn
    assert result.passed and len(result.warnings) == 1 and "did not log C001 in" in result.warnings[0]
    assert "warning: turn 1: the server did not log C001 in" in "\n".join(format_dialogue(result))
