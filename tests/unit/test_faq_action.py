"""The FAQ action: answers with provenance, clarifies with buttons, answers a chosen button."""
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.faq import ActionAnswerFaq, choice_payload

HIT = {"faq_id": "account.open_materials", "score": 0.94, "question": "开户带什么？", "answer": "请携带身份证。"}
OTHER = {"faq_id": "account.account_types", "score": 0.90, "question": "账户分类？", "answer": "I类户…"}


def _tracker(kb=None, entities=(), events=(), failed_turns=None) -> Tracker:
    latest = {"text": "开户带啥", "intent": {"name": "faq", "confidence": 0.9},
              "entities": list(entities), "kb": kb}
    return Tracker("c1", {"failed_turns": failed_turns}, latest, list(events), False, None, {}, "action_listen")


def _run(tracker):
    dispatcher = CollectingDispatcher()
    events = ActionAnswerFaq().run(dispatcher, tracker, {})
    return dispatcher.messages, events


def test_confident_hit_is_answered_with_provenance():
    [message], events = _run(_tracker({"decision": "answer", "confidence": 0.9, "hits": [HIT]}))
    assert message["text"] == "请携带身份证。"
    assert (message["faq_id"], message["score"]) == ("account.open_materials", 0.94)
    assert events == [{"event": "slot", "timestamp": None, "name": "kb_answer_id",
                       "value": "account.open_materials"},
                      {"event": "slot", "timestamp": None, "name": "failed_turns", "value": 0.0}]


def test_clarification_offers_buttons_that_select_an_entry():
    [message], events = _run(_tracker({"decision": "clarify", "confidence": 0.6, "hits": [HIT, OTHER]}))
    assert [b["title"] for b in message["buttons"]] == ["开户带什么？", "账户分类？"]
    assert message["buttons"][0]["payload"] == '/faq{"faq_id": "account.open_materials"}'
    assert message["buttons"][0]["payload"] == choice_payload("account.open_materials")
    assert "faq_id" not in message and events[0]["value"] is None


def test_a_chosen_button_is_answered_from_the_index(retriever):
    clarify_event = {"event": "bot", "metadata": {"kb_candidates": [{"faq_id": "account.account_types",
                                                                       "score": 0.88}]}}
    tracker = _tracker(None, [{"entity": "faq_id", "value": "account.account_types"}], [clarify_event])
    [message], events = _run(tracker)
    assert message["faq_id"] == "account.account_types" and message["score"] == 0.88
    assert message["selected_by_customer"] is True and "I类户" in message["text"]
    assert events[0]["value"] == "account.account_types"


def test_an_entry_picked_by_position_is_answered_as_chosen(retriever):
    """"第二个" after the menu: the dialogue policy names the entry in its turn record (bot/dialogue)."""
    clarify_event = {"event": "bot", "metadata": {"kb_candidates": [{"faq_id": "account.account_types",
                                                                       "score": 0.88}]}}
    record = {"turn_id": "m1", "command": {"act": "answer_question", "slots": {"faq_id": "account.account_types"}}}
    latest = {"text": "第二个", "intent": {"name": "inform", "confidence": 0.5}, "entities": [], "message_id": "m1"}
    tracker = Tracker("c1", {"dialogue_turn": record}, latest, [clarify_event], False, None, {}, "action_listen")
    [message], _ = _run(tracker)
    assert (message["faq_id"], message["selected_by_customer"]) == ("account.account_types", True)


def test_unknown_choice_or_no_confident_hit_says_so_and_clears_the_slot():
    cases = [_tracker({"decision": "no_answer", "hits": [HIT]}), _tracker({}), _tracker(None),
             _tracker(None, [{"entity": "faq_id", "value": "account.does_not_exist"}])]
    for tracker in cases:
        [message], events = _run(tracker)
        assert message["response"] == "utter_kb_no_answer" and "faq_id" not in message
        assert events[0]["name"] == "kb_answer_id" and events[0]["value"] is None


def test_the_second_unanswered_turn_in_a_row_offers_a_human():
    [first], events = _run(_tracker({"decision": "no_answer", "hits": [HIT]}, failed_turns=0.0))
    assert first["response"] == "utter_kb_no_answer" and events[1]["value"] == 1.0
    [second], events = _run(_tracker({"decision": "no_answer", "hits": [HIT]}, failed_turns=1.0))
    assert second["response"] == "utter_offer_human" and events[1]["value"] == 0.0


def test_a_message_that_also_asks_for_a_task_gets_only_its_question_answered():
    """"我想转账，另外跨行收手续费吗": the task part is the flow's, not a knowledge answer (bot/dialogue)."""
    fee = {"faq_id": "transfer.fee", "score": 0.93, "question": "跨行转账收费吗？", "answer": "手机银行转账免费。"}
    how = {"faq_id": "transfer.how", "score": 0.91, "question": "怎么转账？", "answer": "在App里…"}
    kb = {"decision": "answer", "confidence": 0.9, "hits": [how],
          "parts": [{"text": "我想转账", "decision": "answer", "confidence": 0.9, "hits": [how]},
                    {"text": "跨行收手续费吗", "decision": "answer", "confidence": 0.9, "hits": [fee]}]}
    latest = {"text": "我想转账，另外跨行收手续费吗", "intent": {"name": "transfer_money"}, "entities": [], "kb": kb,
              "message_id": "m1"}
    record = {"turn_id": "m1", "command": {"act": "start_flow", "intent": "transfer_money",
                                           "questions": ["跨行收手续费吗"]}}
    tracker = Tracker("c1", {"dialogue_turn": record}, latest, [], False, None, {}, "action_listen")
    [message], events = _run(tracker)
    assert message["text"] == "手机银行转账免费。" and message["faq_id"] == "transfer.fee"


def test_an_inform_without_any_value_counts_on_the_fallback_ladder():
    from bot.actions.dialogue import ActionHandleInform

    def run(tracker):
        dispatcher = CollectingDispatcher()
        return dispatcher.messages, ActionHandleInform().run(dispatcher, tracker, {})

    [first], events = run(_tracker(failed_turns=1.0))
    assert first["response"] == "utter_offer_human"
    assert {"event": "slot", "timestamp": None, "name": "failed_turns", "value": 0.0} in events
    card = {"entity": "card_last4", "value": "6688", "start": 0, "end": 4}
    [second], events = run(_tracker(entities=[card], failed_turns=1.0))
    assert second["response"] == "utter_ask_what_task"
    assert all(e["name"] != "failed_turns" for e in events)


GUIDE = {"doc": "mobile_banking_guide.pdf", "title": "示例银行手机银行用户服务指南", "page": 3, "confidence": 0.5}
NIGHT = {**GUIDE, "section": "5.2 夜间转账保护", "text": "开启后，每日22:00至次日6:00不能向他人转账。"}
LIMITS = {**GUIDE, "section": "5.1 夜间时段与限额", "text": "夜间时段单笔转账不超过5,000元。"}
POSSIBLE = {**NIGHT, "decision": "clarify", "others": [{**LIMITS, "decision": "clarify", "others": []}]}


def test_a_possible_passage_is_offered_by_its_sections_and_never_asserted():
    kb = {"decision": "no_answer", "hits": [HIT], "index_version": "v7", "document": POSSIBLE}
    [message], events = _run(_tracker(kb, failed_turns=1.0))
    assert message["response"] == "utter_document_clarify"
    assert [b["title"] for b in message["buttons"]] == ["《示例银行手机银行用户服务指南》5.2 夜间转账保护",
                                                        "《示例银行手机银行用户服务指南》5.1 夜间时段与限额"]
    assert message["buttons"][1]["payload"] == choice_payload("doc:mobile_banking_guide.pdf 5.1 夜间时段与限额")
    # nothing was answered: no provenance, no passage text in the reply, and the fallback ladder is not reset
    assert not {"doc", "section", "provenance", "passage", "text"} & {key for key, value in message.items() if value}
    assert [o["version"] for o in message["kb_documents"]] == ["v7", "v7"]
    assert events == [{"event": "slot", "timestamp": None, "name": "kb_answer_id", "value": None}]


def test_an_faq_menu_gets_the_best_section_as_one_more_choice():
    kb = {"decision": "clarify", "confidence": 0.6, "hits": [HIT, OTHER], "index_version": "v7", "document": POSSIBLE}
    [message], _ = _run(_tracker(kb))
    assert [b["title"] for b in message["buttons"]] == ["开户带什么？", "账户分类？",
                                                        "《示例银行手机银行用户服务指南》5.2 夜间转账保护"]
    assert [o["section"] for o in message["kb_documents"]] == ["5.2 夜间转账保护"]


def test_a_picked_section_is_answered_with_the_text_and_version_it_was_offered_with():
    offered = [{**NIGHT, "version": "v7"}, {**LIMITS, "version": "v7"}]
    clarify_event = {"event": "bot", "metadata": {"kb_documents": offered}}
    picked = [{"entity": "faq_id", "value": "doc:mobile_banking_guide.pdf 5.1 夜间时段与限额"}]
    [message], events = _run(_tracker(None, picked, [clarify_event], failed_turns=1.0))
    assert (message["response"], message["passage"], message["selected_by_customer"]) == (
        "utter_document_answer", LIMITS["text"], True)
    assert message["provenance"] == {"doc": "mobile_banking_guide.pdf", "section": "5.1 夜间时段与限额", "page": 3,
                                     "version": "v7"}
    assert events[1] == {"event": "slot", "timestamp": None, "name": "failed_turns", "value": 0.0}


def test_a_section_the_last_clarification_did_not_offer_is_not_answered():
    clarify_event = {"event": "bot", "metadata": {"kb_documents": [{**NIGHT, "version": "v7"}]}}
    for events in ([clarify_event], []):
        picked = [{"entity": "faq_id", "value": "doc:mobile_banking_guide.pdf 5.1 夜间时段与限额"}]
        [message], _ = _run(_tracker(None, picked, events))
        assert message["response"] == "utter_kb_no_answer" and "provenance" not in message
