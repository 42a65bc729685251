"""Banking entities and their normalised values (fixed 'today': Tuesday 2026-11-24)."""
import datetime as dt

import pytest

from bot.nlu.entity_values import extract_all, parse_bare_amount, weekday_in_week

TODAY = dt.date(2026, 11, 24)


def found(text):
    return {e["entity"]: e["value"] for e in extract_all(text, TODAY)}


@pytest.mark.parametrize("text, amount", [
    ("给张三转5000", "5000"), ("转给李四三千五", "3500"), ("给王小明转两万块", "20000"), ("取2w", "20000"),
    ("1.5万", "15000"), ("还3k", "3000"), ("五千块", "5000"), ("我想贷款二十万装修", "200000"),
    ("￥300", "300"), ("5,000元", "5000"), ("一百二十万", "1200000"), ("预约明天取五万现金", "50000"),
])
def test_amounts(text, amount):
    assert found(text)["amount"] == amount


@pytest.mark.parametrize("text", ["尾号6688", "手机13800000001", "2026年的账单", "卡号6217000000016688",
                                  "下周三下午3点", "6688"])
def test_things_that_are_not_amounts(text):
    assert "amount" not in found(text)


@pytest.mark.parametrize("text, last4", [
    ("我的卡丢了，尾号6688", "6688"), ("后四位是4872", "4872"), ("末四位 1024", "1024"),
    ("帮我查下6688那张卡的余额", "6688"), ("是3579那张", "3579")])
def test_card_last_four(text, last4):
    assert found(text)["card_last4"] == last4


@pytest.mark.parametrize("text, start, end", [
    ("今天", "2026-11-24", "2026-11-24"), ("明天上午", "2026-11-25", "2026-11-25"),
    ("后天", "2026-11-26", "2026-11-26"), ("昨天的交易", "2026-11-23", "2026-11-23"),
    ("下周三", "2026-12-02", "2026-12-02"), ("这周五", "2026-11-27", "2026-11-27"),
    ("周一", "2026-11-30", "2026-11-30"), ("上周", "2026-11-16", "2026-11-22"),
    ("上个月", "2026-10-01", "2026-10-31"), ("这个月", "2026-11-01", "2026-11-30"),
    ("最近三个月", "2026-08-27", "2026-11-24"), ("近一周", "2026-11-18", "2026-11-24"),
    ("最近30天", "2026-10-26", "2026-11-24"), ("12月3日", "2026-12-03", "2026-12-03"),
    ("2026-12-03", "2026-12-03", "2026-12-03"), ("下个月5号", "2026-12-05", "2026-12-05"),
    ("去年", "2025-01-01", "2025-12-31"), ("1月5日", "2027-01-05", "2027-01-05"),
])
def test_dates(text, start, end):
    assert found(text)["date"] == {"start": start, "end": end}


def test_impossible_dates_are_ignored():
    assert "date" not in found("2月30日")


def test_weekday_helper_weeks_start_on_monday():
    assert weekday_in_week(TODAY, 0, 0) == dt.date(2026, 11, 23)
    assert weekday_in_week(TODAY, 6, -1) == dt.date(2026, 11, 22)


@pytest.mark.parametrize("text, code", [("今天美元汇率", "USD"), ("100刀", "USD"), ("USD rate", "USD"),
                                        ("欧元", "EUR"), ("日币", "JPY"), ("港币", "HKD"), ("英镑", "GBP"),
                                        ("新加坡元", "SGD"), ("人民币", "CNY")])
def test_currency(text, code):
    assert found(text)["currency"] == code


def test_a_knife_is_not_a_dollar():
    assert "currency" not in found("刀片")


@pytest.mark.parametrize("text, expected", [
    ("上海浦东有网点吗", {"city": "上海", "district": "浦东新区"}),
    ("北京朝阳区", {"city": "北京", "district": "朝阳区"}), ("我在杭州", {"city": "杭州"}),
])
def test_places(text, expected):
    assert {k: v for k, v in found(text).items() if k in ("city", "district")} == expected


@pytest.mark.parametrize("text, payee", [("给张三转5000", "张三"), ("转给李四三千五", "李四"),
                                         ("收款人是赵六", "赵六"), ("转账给张三丰", "张三丰"),
                                         ("send 300 to Tom Lee, and also", "Tom Lee"), ("pay Alice 50", "Alice")])
def test_payee(text, payee):
    assert found(text)["payee"] == payee


@pytest.mark.parametrize("text", ["我要给我妈转钱", "给您添麻烦了", "transfer 200 to My Savings"])
def test_no_payee(text):
    assert "payee" not in found(text)


@pytest.mark.parametrize("text, entity, value", [
    ("我想办房贷", "loan_type", "mortgage"), ("车贷利率", "loan_type", "car"), ("消费贷", "loan_type", "consumer"),
    ("经营贷", "loan_type", "business"), ("储蓄卡", "card_type", "debit"), ("xyk", "card_type", "credit"),
    ("稳健一点的理财", "risk_level", "R2"), ("下午两点", "time_slot", "14:00-15:00"),
    ("上午", "time_slot", "09:00-10:00"), ("十点半", "time_slot", "10:00-11:00")])
def test_lookups_and_time_slots(text, entity, value):
    assert found(text)[entity] == value


def test_spans_do_not_overlap_and_point_at_the_text():
    text = "预约明天上午去朝阳区网点取五万现金"
    entities = extract_all(text, TODAY)
    for e in entities:
        assert text[e["start"]:e["end"]] == e["text"] and e["extractor"] == "BankingEntityExtractor"
    spans = sorted((e["start"], e["end"]) for e in entities)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


@pytest.mark.parametrize("text, amount", [("5000", "5000"), ("三千五", "3500"), ("2w", "20000"),
                                          ("五千块", "5000"), ("abc", None), ("", None)])
def test_bare_amounts(text, amount):
    assert parse_bare_amount(text) == amount


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂", "x" * 10_000, "\x00\x01", "尾号", "转给"])
def test_odd_input_never_raises(text):
    assert isinstance(extract_all(text, TODAY), list)
