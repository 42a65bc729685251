"""Turn interpretation in context (bot/dialogue): the same words mean different things in different states."""
from __future__ import annotations

import pytest

from bot.dialogue import cues
from bot.dialogue.commands import Turn, interpret
from bot.dialogue.slot_values import Choice, amount_from_text, card_from_text, payee_from_text, pick_choice
from bot.dialogue.state import DialogueState, LastTask, dialogue_state


def in_form(form: str, asked: str, **slots) -> DialogueState:
    return DialogueState(active_form=form, requested_slot=asked, slots={"requested_slot": asked, **slots})


def turn(text: str, intent: str = "inform", confidence: float = 0.9, kb: str | None = None, **entities) -> Turn:
    return Turn(text=text, intent=intent, confidence=confidence, ranking=[(intent, confidence)], entities=entities,
                kb_decision=kb)


@pytest.mark.parametrize("text,expected", [("他叫陈志强", "陈志强"), ("那先转给李四吧", "李四"), ("王小明", "王小明"),
                                           ("Tom Lee", "Tom Lee"), ("一千二", None), ("转人工", None),
                                           ("我要找经理", None)])
def test_payee_names_from_free_text(text, expected):
    assert payee_from_text(text) == expected


@pytest.mark.parametrize("text,expected", [("一千二", "1200"), ("那取十万", "100000"), ("三千块", "3000"),
                                           ("5000", "5000"), ("他叫陈志强", None)])
def test_amounts_in_any_form(text, expected):
    assert amount_from_text(text) == expected


@pytest.mark.parametrize("text,expected", [("6688那张", "6688"), ("the one ending 6688", "6688"),
                                           ("用尾号4872的卡", "4872"), ("这张卡", "1024"), ("随便", None)])
def test_card_in_any_wording(text, expected):
    assert card_from_text(text, last_card="1024") == expected


def test_offered_options_by_ordinal_and_by_name():
    choices = [Choice("示例银行上海浦东支行", "branch_id", "SH01", ""), Choice("示例银行上海徐汇支行", "branch_id", "SH02", "")]
    assert pick_choice("第二个", choices).value == "SH02"
    assert pick_choice("浦东那个", choices).value == "SH01"
    assert pick_choice("随便哪个", choices) is None


@pytest.mark.parametrize("text,correction,cancel", [("不对，是三百", True, False), ("不对", True, False),
                                                    ("算了先不转了", False, True), ("还是不还了，下周再说", False, True),
                                                    ("是4872不是6688", True, False), ("好的", False, False)])
def test_correction_and_cancel_cues(text, correction, cancel):
    assert cues.is_correction(text) is correction
    assert cues.is_cancel(text) is cancel


def test_language_follows_the_customer():
    assert cues.language_of("the one ending 6688") == "en"
    assert cues.language_of("手机银行transfer limit太低了能提吗") == "zh"
    assert cues.language_of("6688") is None
    assert cues.language_of("qwerty asdf zxcv") is None  # letters, but no English
    assert cues.language_of("Send 200 to my friend 陈小红") == "en"
    assert cues.language_of("ok的") == "zh"


def test_a_name_answering_the_payee_question_is_a_payee_whatever_the_intent():
    command = interpret(in_form("transfer_form", "payee"), turn("他叫陈志强", "request_human", 0.95))
    assert (command.act, command.slots) == ("set_slots", {"payee": "陈志强"})


def test_correction_at_confirmation_overwrites_the_slot():
    state = in_form("transfer_form", "confirmed", payee="张三", amount="3000", card_last4="6688")
    command = interpret(state, turn("不对，是三百", "deny"))
    assert (command.act, command.slots) == ("correct_slots", {"amount": "300"})


def test_correction_with_an_entity():
    state = in_form("card_loss_form", "confirmed", card_last4="6688")
    command = interpret(state, turn("等等说错了，丢的是4872那张", "report_card_loss", card_last4="4872"))
    assert (command.act, command.slots) == ("correct_slots", {"card_last4": "4872"})


def test_bare_no_is_never_a_cancel():
    command = interpret(in_form("transfer_form", "confirmed", amount="300"), turn("不对", "deny"))
    assert command.act == "ask_correction"


def test_cancel_then_a_new_request_switches():
    command = interpret(in_form("apply_card_form", "card_product"), turn("先不办了，帮我查下余额", "check_balance", 0.8))
    assert (command.act, command.intent) == ("start_flow", "check_balance")


def test_cancel_alone_ends_the_flow():
    assert interpret(in_form("transfer_form", "card_last4"), turn("算了先不转了", "deny")).act == "cancel_flow"


def test_question_inside_a_flow_is_an_aside():
    command = interpret(in_form("transfer_form", "card_last4"), turn("跨行转账收手续费吗", "transfer_money", kb="answer"))
    assert (command.act, command.aside) == ("answer_question", "faq")


def test_other_slot_values_inside_a_flow():
    command = interpret(in_form("appointment_form", "city"), turn("那取十万", "book_appointment", amount="100000"))
    assert (command.act, command.slots) == ("set_slots", {"amount": "100000"})


def test_ellipsis_continues_the_last_task():
    state = DialogueState(last_task=LastTask("exchange_rate", {"currency": "EUR"}))
    command = interpret(state, turn("日元呢", "faq", 0.4, currency="JPY"))
    assert (command.act, command.intent, command.slots["currency"]) == ("follow_up", "exchange_rate", "JPY")


def test_district_follow_up_keeps_the_city():
    state = DialogueState(last_task=LastTask("find_branch", {"city": "上海"}))
    command = interpret(state, turn("浦东那个周六开不开", "find_branch", 0.7, district="浦东新区",
                                    date={"start": "2026-12-05", "end": "2026-12-05"}))
    assert command.act == "follow_up" and command.slots["city"] == "上海" and command.slots["district"] == "浦东新区"


def test_card_named_after_a_fraud_report_feeds_the_freeze_offer():
    state = DialogueState(last_task=LastTask("fraud_report"))
    command = interpret(state, turn("是从尾号6688的卡转的", "transfer_money", 0.6, card_last4="6688"))
    assert (command.act, command.slots) == ("urgent_details", {"card_last4": "6688"})


def test_this_card_refers_to_the_card_named_before():
    state = DialogueState(last_task=LastTask("fraud_report"), last_card="6688")
    command = interpret(state, turn("帮我冻结这张卡", "report_card_loss", 0.95))
    assert (command.act, command.intent, command.slots) == ("start_flow", "report_card_loss", {"card_last4": "6688"})


def test_a_question_about_a_task_topic_gets_the_answer_not_the_task():
    command = interpret(DialogueState(), turn("房贷最长能贷多少年", "loan_inquiry", 0.9, kb="answer"))
    assert command.act == "answer_question"
    assert interpret(DialogueState(), turn("能帮我挂失吗", "report_card_loss", 0.9, kb="answer")).act == "abstain"


def test_secrets_are_warned_about_before_anything_else():
    state = in_form("transfer_form", "card_last4")
    command = interpret(state, Turn(text="验证码 ******", intent="inform", redacted=("otp",)))
    assert command.act == "warn_sensitive"


def test_buttons_speak_for_themselves():
    assert interpret(in_form("transfer_form", "payee"), turn('/inform{"payee": "张三"}')).act == "abstain"


def test_state_from_events_knows_the_last_task_and_the_offered_choices():
    events = [
        {"event": "user", "text": "上海的网点", "parse_data": {"entities": [{"entity": "city", "value": "上海"}]}},
        {"event": "action", "name": "action_start_task"},
        {"event": "slot", "name": "city", "value": "上海"},
        {"event": "action", "name": "branch_form"},
        {"event": "action", "name": "action_find_branch"},
        {"event": "bot", "text": "上海的示例银行网点", "data": {"buttons": [{"title": "预约网点业务",
                                                                     "payload": "/book_appointment"}]}},
        {"event": "slot", "name": "city", "value": None},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "浦东那个周六开不开", "parse_data": {}},
    ]
    state = dialogue_state(events, {"requested_slot": None}, None)
    assert state.last_task.intent == "find_branch" and state.last_task.values == {"city": "上海"}
    assert [c.payload for c in state.choices] == ["/book_appointment"]
    assert state.last_bot_action == "action_find_branch"


def test_contrast_correction_finds_the_slot_by_its_old_value():
    state = in_form("repay_form", "confirmed", card_last4="1024", amount="700")
    command = interpret(state, turn("是1700不是700", "inform"))
    assert (command.act, command.slots) == ("correct_slots", {"amount": "1700"})


def test_a_bare_four_digit_correction_is_left_to_the_form_that_knows_the_cards():
    state = in_form("transfer_form", "confirmed", payee="张三", amount="1200", card_last4="6688")
    command = interpret(state, turn("不对，是4872", "inform"))
    assert (command.act, command.slots) == ("correct_slots", {})


def test_cancel_and_goodbye_in_one_message():
    command = interpret(in_form("branch_form", "city"), turn("算了不查了，拜拜", "goodbye"))
    assert (command.act, command.aside) == ("cancel_flow", "goodbye")


def test_a_question_never_switches_the_task():
    command = interpret(in_form("transfer_form", "amount", payee="李四"),
                        turn("今天周末，转到建行能到吗", "query_transactions", 0.7, kb="clarify"))
    assert command.act == "answer_question"


def test_declining_an_offer_is_not_taking_it():
    state = DialogueState(last_task=LastTask("complaint"),
                          choices=[Choice("转人工客服", None, None, "/request_human"), Choice("不用了", None, None, "/deny")])
    assert interpret(state, turn("不用转人工了，你们记下来就行", "request_human", 0.9)).act == "cancel_flow"


def test_an_offered_next_step_is_taken_when_the_turn_leans_to_it():
    state = DialogueState(last_task=LastTask("complaint"),
                          choices=[Choice("转人工客服", None, None, "/request_human"), Choice("不用了", None, None, "/deny")])
    command = interpret(state, Turn("我想直接找你们负责人谈", "complaint", 0.6,
                                    ranking=[("complaint", 0.6), ("request_human", 0.3)]))
    assert command.act == "handoff"


def test_an_item_of_the_last_list_by_ordinal():
    state = DialogueState(last_task=LastTask("find_branch", {"city": "杭州"}),
                          listed=[Choice("示例银行杭州西湖支行", "branch_id", "HZ01", ""),
                                  Choice("示例银行杭州滨江支行", "branch_id", "HZ02", "")])
    command = interpret(state, turn("第二个的电话多少", "check_balance", 0.7))
    assert (command.act, command.intent, command.slots["branch_id"]) == ("follow_up", "find_branch", "HZ02")


def test_yes_in_the_words_of_the_task_confirms():
    command = interpret(in_form("card_loss_form", "confirmed", card_last4="8866"), turn("确认冻结", "report_card_loss"))
    assert (command.act, command.slots) == ("set_slots", {"confirmed": True})


def test_a_statement_about_the_fraud_is_not_a_new_transfer():
    state = DialogueState(last_task=LastTask("fraud_report"))
    assert interpret(state, turn("是从尾号6688的卡转的", "transfer_money", 0.99, card_last4="6688")).act == \
        "urgent_details"
    # an order to freeze is a fresh request: Rasa's rules start card loss, the entity fills the card
    assert interpret(state, turn("冻结2468这张", "report_card_loss", 0.9, card_last4="2468")).act == "abstain"


def test_a_warning_comes_first_then_the_request_is_served():
    command = interpret(DialogueState(), Turn(text="转给吴九800，交易密码是******", intent="transfer_money",
                                              confidence=0.95, entities={"payee": "吴九", "amount": "800"},
                                              redacted=("password",)))
    assert (command.act, command.then, command.intent) == ("warn_sensitive", "start_flow", "transfer_money")


def test_the_value_right_after_the_correction_cue_wins():
    state = in_form("transfer_form", "confirmed", payee="李四", amount="20000", card_last4="6688")
    text = "不对，用4872转，6688那张我要留着还房贷"
    command = interpret(state, Turn(text=text, intent="inform", confidence=0.9, entities={"card_last4": "4872"},
                                    mentions=[("card_last4", "4872", 4), ("card_last4", "6688", 10)]))
    assert command.slots == {"card_last4": "4872"}
    state = in_form("branch_form", "city")
    text = "广州，哦不对，我现在在深圳"
    command = interpret(state, Turn(text=text, intent="inform", confidence=0.9, entities={"city": "广州"},
                                    mentions=[("city", "广州", 0), ("city", "深圳", 11)]))
    assert (command.act, command.slots) == ("correct_slots", {"city": "深圳"})


def test_the_answer_to_what_should_change_is_a_correction():
    state = in_form("transfer_form", "confirmed", payee="张三", amount="1000", card_last4="6688")
    state.last_bot_action = "utter_ask_correction"
    command = interpret(state, turn("金额是九百", "deny", 0.7))
    assert (command.act, command.slots) == ("correct_slots", {"amount": "900"})


def asked(text: str, intent: str, question: float, kb: str) -> Turn:
    return Turn(text=text, intent=intent, confidence=0.9, ranking=[(intent, 0.9)], kb_decision=kb, question=question)


@pytest.mark.parametrize("question,kb,act", [(0.9, "answer", "answer_question"), (0.3, "answer", "abstain"),
                                             (0.9, "clarify", "answer_question"), (0.6, "clarify", "abstain"),
                                             (0.95, "no_answer", "abstain")])
def test_question_about_a_task_is_answered_only_when_it_reads_as_a_question_the_kb_knows(question, kb, act):
    command = interpret(DialogueState(), asked("挂失以后多久能补卡", "report_card_loss", question, kb))
    assert command.act == act
    if act == "answer_question":
        assert command.intent == "report_card_loss"  # the answer is followed by the offer to do it


def test_an_urgent_task_needs_a_clear_question():
    victim = asked("群里的导师让我充钱，现在钱提不出来了", "fraud_report", 0.56, "answer")
    assert interpret(DialogueState(), victim).act == "abstain"  # the fraud flow: 110 / 96110, freeze
    reader = asked("96110是干什么的电话", "fraud_report", 0.93, "answer")
    assert interpret(DialogueState(), reader).act == "answer_question"


def test_yes_to_the_task_offered_after_an_answer_starts_it():
    offered = DialogueState(choices=[Choice("现在挂失", None, None, "/report_card_loss")],
                            offered_task="report_card_loss")
    command = interpret(offered, turn("好的", intent="affirm"))
    assert (command.act, command.intent) == ("start_flow", "report_card_loss")
    assert interpret(offered, turn("查一下余额", intent="check_balance")).intent != "report_card_loss"
    # the same one button offered by another reply (e.g. "转人工客服" after a complaint) is not this offer
    other = DialogueState(choices=[Choice("转人工客服", None, None, "/request_human")])
    assert interpret(other, turn("行吧，谢谢", intent="thank")).act != "start_flow"


def test_the_offer_is_read_from_the_bot_event_that_made_it():
    events = [{"event": "user", "text": "挂失以后多久能补卡"},
              {"event": "bot", "text": "需要现在帮您挂失银行卡吗？", "metadata": {"utter_action": "utter_offer_report_card_loss"},
               "data": {"buttons": [{"title": "现在挂失", "payload": "/report_card_loss"}]}},
              {"event": "user", "text": "好的"}]
    assert dialogue_state(events, {}, None).offered_task == "report_card_loss"
    assert dialogue_state(events[:1] + [{"event": "bot", "text": "x"}, events[2]], {}, None).offered_task is None


def several(text: str, intent: str, *parts: tuple[str, str, float, float, str]) -> Turn:
    """A message whose parts bot/nlu/message_parts.py read separately: (text, intent, confidence, question, kb)."""
    whole = Turn(text=text, intent=intent, confidence=0.9, ranking=[(intent, 0.9)], kb_decision="answer")
    whole.parts = [Turn(text=t, intent=i, confidence=c, question=q, kb_decision=k) for t, i, c, q, k in parts]
    return whole


def test_a_question_and_a_request_in_one_message_answers_then_starts_the_task():
    message = several("我想转账给朋友，另外跨行转账收手续费吗", "transfer_money",
                      ("我想转账给朋友", "transfer_money", 0.93, 0.05, "no_answer"),
                      ("跨行转账收手续费吗", "faq", 0.88, 0.97, "answer"))
    command = interpret(DialogueState(), message)
    assert (command.act, command.intent, command.aside) == ("start_flow", "transfer_money", "faq")
    assert command.questions == ["跨行转账收手续费吗"] and command.pending is None
    from bot.dialogue.plans import plan_for

    assert plan_for(command, DialogueState())[0] == ["action_answer_aside", "action_start_task", "transfer_form"]


def test_two_requests_start_the_first_and_offer_the_second_when_it_is_done():
    message = several("帮我查下余额，再帮我看看美元汇率", "check_balance",
                      ("帮我查下余额", "check_balance", 0.95, 0.1, "no_answer"),
                      ("看看美元汇率", "exchange_rate", 0.9, 0.3, "no_answer"))
    command = interpret(DialogueState(), message)
    assert (command.act, command.intent, command.pending, command.questions) == (
        "start_flow", "check_balance", "exchange_rate", [])
    from bot.dialogue.plans import plan_for

    plan, events = plan_for(command, DialogueState())
    assert plan == ["action_start_task", "action_check_balance", "utter_offer_exchange_rate"]
    form_first = interpret(DialogueState(), several("我要转账，顺便查一下余额", "transfer_money",
                                                    ("我要转账", "transfer_money", 0.9, 0.05, "no_answer"),
                                                    ("查一下余额", "check_balance", 0.92, 0.1, "no_answer")))
    plan, events = plan_for(form_first, DialogueState())
    assert plan == ["action_start_task", "transfer_form"]  # offered by the submit, once the transfer is done
    assert {"pending_task": "check_balance"} == {e.key: e.value for e in events if e.key == "pending_task"}


def test_an_urgent_request_goes_first_and_alone():
    message = several("帮我查下余额。我的卡好像丢了", "check_balance",
                      ("帮我查下余额", "check_balance", 0.95, 0.1, "no_answer"),
                      ("我的卡好像丢了", "report_card_loss", 0.9, 0.1, "no_answer"))
    command = interpret(DialogueState(), message)
    assert (command.intent, command.pending) == ("report_card_loss", None)


@pytest.mark.parametrize("parts", [
    # one ask said twice, or a narrative of one complaint: not several asks
    [("你们服务太差了", "complaint", 0.9, 0.1, "no_answer"), ("我要投诉你们", "complaint", 0.95, 0.1, "no_answer")],
    # unsure readings of the parts: the message stays one ask
    [("那个东西弄一下", "transfer_money", 0.4, 0.2, "no_answer"), ("然后那个看看", "check_balance", 0.45, 0.2, "no_answer")],
    # two questions: the knowledge answer handles them (bot/actions/faq.py)
    [("挂失收费吗", "faq", 0.9, 0.95, "answer"), ("转账限额多少", "faq", 0.9, 0.95, "answer")],
])
def test_one_ask_in_several_sentences_is_left_to_the_usual_reading(parts):
    assert interpret(DialogueState(), several("。".join(p[0] for p in parts), parts[0][1], *parts)).questions == []
    assert interpret(DialogueState(), several("。".join(p[0] for p in parts), parts[0][1], *parts)).pending is None


def test_requests_go_in_the_customers_order_with_their_own_values():
    text = "帮我找一下北京朝阳区的网点。另外我想查查这个月的交易明细"
    message = several(text, "query_transactions",
                      ("帮我找一下北京朝阳区的网点", "find_branch", 0.93, 0.01, "no_answer"),
                      ("我想查查这个月的交易明细", "query_transactions", 0.99, 0.01, "no_answer"))
    message.mentions = [("city", "北京", text.index("北京")), ("district", "朝阳区", text.index("朝阳区")),
                        ("date", {"start": "2026-12-01"}, text.index("这个月"))]
    command = interpret(DialogueState(), message)
    assert (command.intent, command.pending) == ("find_branch", "query_transactions")
    assert command.slots == {"city": "北京", "district": "朝阳区"}


def _menu_state() -> DialogueState:
    """The bot's last message was a clarification menu of three knowledge entries."""
    events = [{"event": "user", "text": "手续费"},
              {"event": "bot", "text": "您想咨询的是下面哪个问题？",
               "data": {"buttons": [{"title": t, "payload": f'/faq{{"faq_id": "{e}"}}'} for t, e in (
                   ("跨行转账手续费", "transfer.interbank_fee"), ("信用卡年费", "credit_card.annual_fee"),
                   ("取现手续费", "card.withdrawal_fee"))]}},
              {"event": "user", "text": "x"}]
    return dialogue_state(events, {}, None)


@pytest.mark.parametrize("text,entry", [("第二个", "credit_card.annual_fee"), ("第2个吧", "credit_card.annual_fee"),
                                        ("最后一个", "card.withdrawal_fee"), ("the first one", "transfer.interbank_fee")])
def test_an_entry_of_the_clarification_menu_is_picked_by_its_position(text, entry):
    command = interpret(_menu_state(), turn(text, "inform", 0.5))
    assert (command.act, command.aside, command.slots) == ("answer_question", "faq", {"faq_id": entry})


def test_a_yes_picks_the_one_section_offered_but_not_from_a_menu_of_several():
    """"您想了解的可能是…" with one section of the bank's documents is a yes/no question."""
    payload = '/faq{"faq_id": "doc:fee_schedule_2026.html 二、账户管理类"}'
    events = [{"event": "user", "text": "管理费怎么扣"},
              {"event": "bot", "text": "以下文件内容可能与您的问题有关",
               "data": {"buttons": [{"title": "《收费标准》二、账户管理类", "payload": payload}]}},
              {"event": "user", "text": "x"}]
    command = interpret(dialogue_state(events, {}, None), turn("是的", "affirm", 0.9))
    assert (command.act, command.slots) == ("answer_question", {"faq_id": "doc:fee_schedule_2026.html 二、账户管理类"})
    assert "faq_id" not in interpret(_menu_state(), turn("是的", "affirm", 0.9)).slots


@pytest.mark.parametrize("text", ["第二个问题是信用卡额度怎么提高", "信用卡年费能免吗", "好的"])
def test_a_new_question_after_the_menu_is_no_pick(text):
    command = interpret(_menu_state(), turn(text, "faq", 0.9, kb="answer"))
    assert command.act != "answer_question" or "faq_id" not in command.slots
