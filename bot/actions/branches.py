"""find_branch (form: city) and book_appointment (form: branch, service, day, slot, amount).

Booking rules live in the backend (branch open that day, not in the past,
大额取现 of 5 万 or more booked at least one day ahead); the form checks them
as soon as a slot is filled, so the customer hears about a problem right away.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import backend, buttons, date_zh, entity, inform_payload, reset_task, today
from bot.actions.forms import ActionAskConfirm, TaskFormValidation, TaskSubmit, money

CITIES = ("北京", "上海", "广州", "深圳", "杭州")
SERVICES = ("大额取现", "开户", "外币兑换", "理财咨询", "贷款面谈", "其他业务")
CASH_SERVICE = "大额取现"
LARGE_CASH = Decimal(50_000)


def hours_text(branch, day: dt.date) -> Text:
    hours = branch.weekday_hours.get(day.weekday())
    return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}" if hours else "休息"


def validate_city(value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
    city = str(value or "").removesuffix("市")
    if city in CITIES:
        return {"city": city}
    dispatcher.utter_message(text=f"示例银行目前在{'、'.join(CITIES)}设有网点，请选择其中一个城市。",
                             buttons=buttons((c, inform_payload("city", c)) for c in CITIES))
    return {"city": None}


class ValidateBranchForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_branch_form"

    def validate_city(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: DomainDict) -> Dict[Text, Any]:
        return validate_city(value, dispatcher)


class ActionAskCity(Action):
    def name(self) -> Text:
        return "action_ask_city"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text="请问您在哪个城市（也可以说到区，例如“北京朝阳区”）？",
                                 buttons=buttons((c, inform_payload("city", c)) for c in CITIES))
        return []


class ActionFindBranch(Action):
    def name(self) -> Text:
        return "action_find_branch"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        city, district = tracker.get_slot("city"), tracker.get_slot("district")
        found = backend().branches(city, district) or backend().branches(city)
        day = today()
        lines = [f"· {b.name}：{b.address}，今日 {hours_text(b, day)}"
                 f"{'，有ATM' if b.has_atm else ''}{'，可办外币业务' if b.foreign_exchange else ''}，电话 {b.phone}"
                 for b in found[:6]]
        prefix = "" if not district or any(b.district == district for b in found) else f"{district}暂无网点，"
        dispatcher.utter_message(
            text=f"{prefix}{city}的示例银行网点：\n" + "\n".join(lines) if lines else f"{city}暂无示例银行网点。",
            buttons=buttons([("预约网点业务", "/book_appointment")]) if lines else None)
        return reset_task()


class ValidateAppointmentForm(TaskFormValidation):
    def name(self) -> Text:
        return "validate_appointment_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("service") == CASH_SERVICE:
            return domain_slots
        return [s for s in domain_slots if s != "amount"]

    async def extract_appointment_date(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> Dict[Text, Any]:
        value = entity(tracker, "date")
        return {"appointment_date": value["start"]} if isinstance(value, dict) and "start" in value else {}

    def validate_city(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: DomainDict) -> Dict[Text, Any]:
        return validate_city(value, dispatcher)

    def validate_branch_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> Dict[Text, Any]:
        branch = backend().branch(str(value))
        if branch is None:
            dispatcher.utter_message(text="没有找到这个网点，请从列表中选择。")
            return {"branch_id": None}
        return {"branch_id": branch.id, "city": branch.city}

    def validate_service(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: DomainDict) -> Dict[Text, Any]:
        return {"service": value if value in SERVICES else "其他业务"}

    def validate_appointment_date(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            dispatcher.utter_message(text="没听清日期，请说“明天”“下周三”或“12月3日”这样的日期。")
            return {"appointment_date": None}
        if day < today():
            dispatcher.utter_message(text=f"{date_zh(day)}已经过去了，请选择今天以后的日期。")
            return {"appointment_date": None}
        if day > today() + dt.timedelta(days=30):
            dispatcher.utter_message(text="网点业务可预约未来 30 天内的日期，请换一个日期。")
            return {"appointment_date": None}
        branch = backend().branch(tracker.get_slot("branch_id")) if tracker.get_slot("branch_id") else None
        if branch and not backend().is_open(branch, day):
            dispatcher.utter_message(text=f"{branch.name}{date_zh(day)}不营业，请换一天。")
            return {"appointment_date": None}
        return {"appointment_date": day.isoformat()}

    def validate_time_slot(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> Dict[Text, Any]:
        slot = str(value or "")
        if slot not in open_slots(tracker):
            dispatcher.utter_message(text="这个时间段网点不营业或不可预约，请从可选时段中选择。")
            return {"time_slot": None}
        return {"time_slot": slot}

    def amount_problem(self, amount: Decimal, tracker: Tracker) -> Optional[Text]:
        day = tracker.get_slot("appointment_date")
        if amount >= LARGE_CASH and day and dt.date.fromisoformat(day) <= today():
            return "5 万元（含）以上的大额取现需要至少提前一天预约，请改约明天或以后的日期，或减少取现金额。"
        return None


def open_slots(tracker: Tracker) -> List[Text]:
    """One-hour slots between the branch's opening and closing time on the chosen day."""
    branch_id, day = tracker.get_slot("branch_id"), tracker.get_slot("appointment_date")
    branch = backend().branch(branch_id) if branch_id else None
    if not branch or not day:
        return []
    hours = branch.weekday_hours.get(dt.date.fromisoformat(day).weekday())
    if not hours:
        return []
    first, last = hours[0].hour + (1 if hours[0].minute else 0), hours[1].hour
    return [f"{h:02d}:00-{h + 1:02d}:00" for h in range(first, last)]


class ActionAskBranch(Action):
    def name(self) -> Text:
        return "action_ask_appointment_form_branch_id"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        found = backend().branches(tracker.get_slot("city"), tracker.get_slot("district")) \
            or backend().branches(tracker.get_slot("city"))
        dispatcher.utter_message(text="请选择要预约的网点：",
                                 buttons=buttons((f"{b.name}（{b.district}）", inform_payload("branch_id", b.id))
                                                 for b in found[:8]))
        return []


class ActionAskService(Action):
    def name(self) -> Text:
        return "action_ask_appointment_form_service"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text="请问要预约办理什么业务？",
                                 buttons=buttons((s, inform_payload("service", s)) for s in SERVICES))
        return []


class ActionAskTimeSlot(Action):
    def name(self) -> Text:
        return "action_ask_appointment_form_time_slot"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text="请选择到店时段：",
                                 buttons=buttons((s, inform_payload("time_slot", s)) for s in open_slots(tracker)))
        return []


class ActionAskAppointmentConfirm(ActionAskConfirm):
    confirm_title = "确认预约"

    def name(self) -> Text:
        return "action_ask_appointment_form_confirmed"

    def summary(self, tracker: Tracker) -> Text:
        branch = backend().branch(tracker.get_slot("branch_id"))
        amount = f"，金额 {money(tracker.get_slot('amount'))}" if tracker.get_slot("amount") else ""
        day = dt.date.fromisoformat(tracker.get_slot("appointment_date"))
        return (f"请核对预约：{branch.name}，{date_zh(day)} {tracker.get_slot('time_slot')}，"
                f"办理{tracker.get_slot('service')}{amount}。确认预约吗？")


class ActionSubmitAppointment(TaskSubmit):
    def name(self) -> Text:
        return "action_submit_appointment"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        amount = tracker.get_slot("amount")
        booking = backend().book_appointment(
            cid, tracker.get_slot("branch_id"), dt.date.fromisoformat(tracker.get_slot("appointment_date")),
            tracker.get_slot("time_slot"), tracker.get_slot("service"), Decimal(amount) if amount else None)
        branch = backend().branch(booking.branch_id)
        dispatcher.utter_message(
            text=(f"预约成功（预约号 {booking.reference}）：{branch.name}，{date_zh(booking.day)} {booking.slot}，"
                  f"{booking.service}。请携带本人有效身份证件按时到店，地址：{branch.address}。"),
            operation_reference=booking.reference)
