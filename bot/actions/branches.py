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

from bot.actions.common import (backend, buttons, english, entity, inform_payload, offer_pending, reset_task, today,
                                turn_command)
from bot.actions.forms import (ActionAskConfirm, TaskFormValidation, TaskSubmit, capitalised, city_name,
                               date_text, money, reply, request_key, service_name)

CITIES = ("北京", "上海", "广州", "深圳", "杭州")
SERVICES = ("大额取现", "开户", "外币兑换", "理财咨询", "贷款面谈", "其他业务")
CASH_SERVICE = "大额取现"
LARGE_CASH = Decimal(50_000)


def hours_text(branch, day: dt.date, en: bool = False) -> Text:
    hours = branch.weekday_hours.get(day.weekday())
    return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}" if hours else ("closed" if en else "休息")


def asked_day(tracker: Tracker) -> tuple[dt.date, Text]:
    """The day the customer asked about ("周六开不开"), else today."""
    en = english(tracker)
    value = entity(tracker, "date")
    start = value.get("start") if isinstance(value, dict) else value
    try:
        day = dt.date.fromisoformat(str(start))
    except ValueError:
        return today(), ("today" if en else "今日")
    return day, (("today" if en else "今日") if day == today() else date_text(day, en))


def city_buttons(en: bool) -> List[Dict[Text, Text]]:
    return buttons((city_name(c, en), inform_payload("city", c)) for c in CITIES)


def validate_city(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
    city = str(value or "").removesuffix("市")
    if city in CITIES:
        return {"city": city}
    en = english(tracker)
    dispatcher.utter_message(response="utter_city_not_served",
                             cities=(", " if en else "、").join(city_name(c, en) for c in CITIES),
                             buttons=city_buttons(en))
    return {"city": None}


class ValidateBranchForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_branch_form"

    def validate_city(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: DomainDict) -> Dict[Text, Any]:
        return validate_city(value, dispatcher, tracker)


class ActionAskCity(Action):
    def name(self) -> Text:
        return "action_ask_city"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_which_city", buttons=city_buttons(english(tracker)))
        return []


class ActionFindBranch(Action):
    def name(self) -> Text:
        return "action_find_branch"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        en = english(tracker)
        city, district = tracker.get_slot("city"), tracker.get_slot("district")
        chosen = backend().branch(str(entity(tracker, "branch_id"))) if entity(tracker, "branch_id") else None
        found = [chosen] if chosen else backend().branches(city, district) or backend().branches(city)
        day, day_label = asked_day(tracker)
        listed = [{"id": b.id, "name": b.name} for b in found[:6]]  # what "第二个"/"浦东那个" can refer to
        if en:
            lines = [f"· {b.name}: {b.address}; {day_label}: {hours_text(b, day, en)}"
                     f"{'; ATM' if b.has_atm else ''}"
                     f"{'; foreign currency services' if b.foreign_exchange else ''}; tel. {b.phone}"
                     for b in found[:6]]
        else:
            lines = [f"· {b.name}：{b.address}，{day_label} {hours_text(b, day)}"
                     f"{'，有ATM' if b.has_atm else ''}{'，可办外币业务' if b.foreign_exchange else ''}，电话 {b.phone}"
                     for b in found[:6]]
        if not lines:
            dispatcher.utter_message(response="utter_no_branches", city_name=city_name(city, en))
        elif not district or any(b.district == district for b in found):
            dispatcher.utter_message(response="utter_branches", city_name=city_name(city, en),
                                     lines="\n".join(lines), listed=listed)
        else:
            dispatcher.utter_message(response="utter_branches_none_in_district", district=district,
                                     city_name=city_name(city, en), lines="\n".join(lines), listed=listed)
        return reset_task() + offer_pending(dispatcher, tracker)


# The services a branch appointment is for, and the words customers use for them.
SERVICE_WORDS = {CASH_SERVICE: ("取现", "取钱", "取款", "现金", "取点钱", "cash", "withdraw"),
                 "开户": ("开户", "开个户", "开卡", "办卡", "办张卡", "open an account", "open a new account"),
                 "外币兑换": ("外币", "换汇", "换外汇", "兑换", "换美元", "换欧元", "换日元", "换港币", "foreign currency",
                          "exchange"),
                 "理财咨询": ("理财", "wealth", "investment"),
                 "贷款面谈": ("贷款", "借款", "loan", "mortgage")}


def _correcting(tracker: Tracker) -> bool:
    return turn_command(tracker).get("act") == "correct_slots"


def service_named(text: Text) -> Optional[Text]:
    lowered = text.lower()
    found = [service for service, words in SERVICE_WORDS.items() if any(w in lowered for w in words)]
    return found[0] if len(found) == 1 else None


def _branch_stems(branch) -> List[Text]:
    district = branch.district.removesuffix("新区").removesuffix("区")
    short = branch.name.removeprefix("示例银行").removeprefix(branch.city)
    return [short, district] if len(district) >= 2 else [short]


def branch_named(text: Text, city: Optional[Text]) -> Optional[Any]:
    """The one branch whose name or district the text names (within the city when one is known)."""
    candidates = backend().branches(city) if city else backend().branches()
    named = [b for b in candidates if any(stem and stem in text for stem in _branch_stems(b))]
    return named[0] if len(named) == 1 else None


class ValidateAppointmentForm(TaskFormValidation):
    def name(self) -> Text:
        return "validate_appointment_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("service") == CASH_SERVICE:
            return domain_slots
        return [s for s in domain_slots if s != "amount"]

    async def extract_branch_id(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        """"上海浦东支行", "福田那家", "不对，是东城支行": a branch named in any turn of the booking."""
        if tracker.get_slot("branch_id") and not _correcting(tracker):
            return {}
        branch = branch_named(tracker.latest_message.get("text") or "", tracker.get_slot("city"))
        return {"branch_id": branch.id, "city": branch.city} if branch else {}

    async def extract_service(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        if tracker.get_slot("service") and not _correcting(tracker):
            return {}
        service = service_named(tracker.latest_message.get("text") or "")
        return {"service": service} if service else {}

    async def extract_appointment_date(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> Dict[Text, Any]:
        value = entity(tracker, "date")
        return {"appointment_date": value["start"]} if isinstance(value, dict) and "start" in value else {}

    def validate_city(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: DomainDict) -> Dict[Text, Any]:
        return validate_city(value, dispatcher, tracker)

    def validate_branch_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> Dict[Text, Any]:
        branch = backend().branch(str(value))
        if branch is None:
            dispatcher.utter_message(response="utter_branch_not_found")
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
            dispatcher.utter_message(response="utter_date_unclear")
            return {"appointment_date": None}
        if day < today():
            dispatcher.utter_message(response="utter_date_in_past", day=date_text(day, english(tracker)))
            return {"appointment_date": None}
        if day > today() + dt.timedelta(days=30):
            dispatcher.utter_message(response="utter_date_too_far")
            return {"appointment_date": None}
        branch = backend().branch(tracker.get_slot("branch_id")) if tracker.get_slot("branch_id") else None
        if branch and not backend().is_open(branch, day):
            dispatcher.utter_message(response="utter_branch_closed_on_day", branch_name=branch.name,
                                     day=date_text(day, english(tracker)))
            return {"appointment_date": None}
        return {"appointment_date": day.isoformat()}

    def validate_time_slot(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> Dict[Text, Any]:
        slot = str(value or "")
        if slot not in open_slots(tracker):
            dispatcher.utter_message(response="utter_time_slot_unavailable")
            return {"time_slot": None}
        return {"time_slot": slot}

    def amount_problem(self, amount: Decimal, tracker: Tracker) -> Optional[Dict[Text, Any]]:
        day = tracker.get_slot("appointment_date")
        if amount < LARGE_CASH:  # only large cash is booked; smaller sums are served without waiting
            return reply("utter_small_cash_no_booking")
        if day and dt.date.fromisoformat(day) <= today():
            return reply("utter_large_cash_needs_notice")
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
        en = english(tracker)
        found = backend().branches(tracker.get_slot("city"), tracker.get_slot("district")) \
            or backend().branches(tracker.get_slot("city"))
        dispatcher.utter_message(
            response="utter_appointment_which_branch",
            buttons=buttons((f"{b.name} ({b.district})" if en else f"{b.name}（{b.district}）",
                             inform_payload("branch_id", b.id)) for b in found[:8]))
        return []


class ActionAskService(Action):
    def name(self) -> Text:
        return "action_ask_appointment_form_service"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        en = english(tracker)
        dispatcher.utter_message(
            response="utter_appointment_which_service",
            buttons=buttons((capitalised(service_name(s, en)), inform_payload("service", s))
                            for s in SERVICES))
        return []


class ActionAskTimeSlot(Action):
    def name(self) -> Text:
        return "action_ask_appointment_form_time_slot"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(
            response="utter_appointment_which_time",
            buttons=buttons((s, inform_payload("time_slot", s)) for s in open_slots(tracker)))
        return []


class ActionAskAppointmentConfirm(ActionAskConfirm):
    def name(self) -> Text:
        return "action_ask_appointment_form_confirmed"

    def summary(self, tracker: Tracker) -> Dict[Text, Any]:
        en = english(tracker)
        branch = backend().branch(tracker.get_slot("branch_id"))
        day = dt.date.fromisoformat(tracker.get_slot("appointment_date"))
        details = dict(branch_name=branch.name, day=date_text(day, en),
                       time_slot=tracker.get_slot("time_slot"),
                       service_name=service_name(tracker.get_slot("service"), en))
        if tracker.get_slot("amount"):
            return reply("utter_confirm_appointment_with_amount", **details,
                         amount=money(tracker.get_slot("amount"), en))
        return reply("utter_confirm_appointment", **details)


class ActionSubmitAppointment(TaskSubmit):
    def name(self) -> Text:
        return "action_submit_appointment"

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker, cid: Optional[Text]) -> None:
        amount = tracker.get_slot("amount")
        booking = backend().book_appointment(
            cid, tracker.get_slot("branch_id"), dt.date.fromisoformat(tracker.get_slot("appointment_date")),
            tracker.get_slot("time_slot"), tracker.get_slot("service"), Decimal(amount) if amount else None,
            request_key=request_key(tracker))
        branch = backend().branch(booking.branch_id)
        en = english(tracker)
        dispatcher.utter_message(response="utter_appointment_booked", operation_reference=booking.reference,
                                 branch_name=branch.name, day=date_text(booking.day, en),
                                 time_slot=booking.slot, service_name=service_name(booking.service, en),
                                 address=branch.address)
