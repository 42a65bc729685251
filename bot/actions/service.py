"""reset_password, complaint (form), fraud_report and request_human.

Handing over to a person queues the conversation at the agent desk
(connectors/agent_desk) and pauses the bot; outside service hours, or when the
desk cannot be reached, the request becomes a ticket (leave a message).
"""
from __future__ import annotations

import logging
import math
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import backend, buttons, customer_id, reset_task
from bot.actions.desk import handoff_reason, request_handoff
from bot.actions.forms import card_label, eligible_cards

log = logging.getLogger(__name__)
MIN_COMPLAINT_CHARS = 8


def open_ticket(dispatcher: CollectingDispatcher, tracker: Tracker, kind: Text, summary: Text,
                priority: Text = "normal") -> Optional[Any]:
    """Create a ticket; on a backend failure say so instead of pretending."""
    from bot.banking.masking import mask_text

    try:
        return backend().create_ticket(kind, mask_text(summary)[:1000], customer_id(tracker), priority)
    except Exception:
        log.exception("could not create a %s ticket", kind)
        dispatcher.utter_message(response="utter_backend_unavailable")
        return None


class ActionResetPassword(Action):
    def name(self) -> Text:
        return "action_reset_password"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_reset_password_steps")
        return []


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_complaint_form"

    def validate_complaint_text(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if len(text) < MIN_COMPLAINT_CHARS or text.startswith("/"):
            return {"complaint_text": None}
        return {"complaint_text": text}


class ActionSubmitComplaint(Action):
    def name(self) -> Text:
        return "action_submit_complaint"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        ticket = open_ticket(dispatcher, tracker, "complaint", tracker.get_slot("complaint_text") or "")
        if ticket:
            dispatcher.utter_message(
                text=(f"非常抱歉给您带来不好的体验。您的投诉已登记（工单号 {ticket.reference}），"
                      "专人会在 1 个工作日内与您联系处理。需要现在转人工客服吗？"),
                buttons=buttons([("转人工客服", "/request_human"), ("不用了", "/deny")]),
                ticket_reference=ticket.reference)
        return reset_task()


class ActionFraudReport(Action):
    """Urgent: stop the loss first, then freeze, then a person."""

    def name(self) -> Text:
        return "action_fraud_report"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_fraud_urgent")
        text = tracker.latest_message.get("text") or ""
        ticket = open_ticket(dispatcher, tracker, "fraud", text, priority="urgent")
        cards = eligible_cards(tracker, ("debit", "credit"))
        options = [(f"冻结{card_label(c)}", '/report_card_loss{"card_last4": "%s"}' % c.last4)
                   for c in cards if c.status == "active"]
        reference = f"（工单号 {ticket.reference}）" if ticket else ""
        if options:
            dispatcher.utter_message(text=f"已为您优先登记{reference}。如需马上冻结银行卡，请点击：",
                                     buttons=buttons(options + [("立即转人工", "/request_human")]))
        else:
            dispatcher.utter_message(
                text=f"已为您优先登记{reference}。登录示例银行App后可以在这里直接冻结银行卡；"
                     "您也可以拨打示例银行客服热线 7×24 小时办理挂失冻结。",
                buttons=buttons([("立即转人工", "/request_human")]))
        return [SlotSet("handoff_priority", "urgent")]


class ActionRequestHuman(Action):
    """Queue the conversation for a person (pausing the bot), or leave a message when nobody can come."""

    def name(self) -> Text:
        return "action_request_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        reason = handoff_reason(tracker)
        priority = tracker.get_slot("handoff_priority") or ("urgent" if reason == "fraud_report" else
                                                            "high" if reason == "complaint" else "normal")
        done = reset_task() + [SlotSet("handoff_priority", None), SlotSet("failed_turns", 0.0)]
        answer = request_handoff(tracker, reason, priority, customer_id(tracker))
        if answer and answer["status"] == "queued":
            ahead, minutes = max(int(answer["position"]) - 1, 0), max(math.ceil(answer["expected_wait_s"] / 60), 1)
            dispatcher.utter_message(
                text=(f"正在为您转接人工客服{'（已优先处理）' if priority == 'urgent' else ''}，"
                      f"您前面还有 {ahead} 位，预计等待约 {minutes} 分钟。接通前您可以先描述问题，客服接入后都能看到。"),
                handoff={"handoff_id": answer["handoff_id"], "priority": priority, "position": answer["position"]})
            return done + [ConversationPaused()]
        ticket = open_ticket(dispatcher, tracker, "callback",
                             f"客户请求人工服务（{reason}）：{tracker.latest_message.get('text') or ''}", priority)
        if ticket:
            hours = (answer or {}).get("hours") or "08:00-22:00"
            why = "现在是非人工服务时间" if answer else "人工客服暂时无法接入"
            dispatcher.utter_message(
                text=(f"{why}（服务时间 {hours}）。已为您登记留言（编号 {ticket.reference}）"
                      f"{'，您的问题已优先处理' if priority == 'urgent' else ''}，我们会尽快联系您。"),
                handoff={"reference": ticket.reference, "priority": priority})
        return done
