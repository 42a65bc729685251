"""Banking entities found in customer text, with normalised values: the one place values are parsed.

Rule-based on purpose: amounts, dates and card digits must be exact, and the
rules are easy to test. Chinese numerals go through cn2an. Each finder returns
spans; ``extract_all`` resolves overlaps (longest first) into Rasa entity dicts.
Bare numbers ("5000", "6688") are ambiguous between an amount and a card's
last four digits; forms decide those from the question they just asked
(``parse_bare_amount``), the extractor does not guess.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Optional

EXTRACTOR = "BankingEntityExtractor"
CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
_NUM = rf"(?:\d+(?:,\d{{3}})*(?:\.\d+)?|[{CN_DIGITS}]+(?:点[{CN_DIGITS}]+)?)"


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int
    value: Any


# amounts ---------------------------------------------------------------------------------------------
_MAGNITUDE = {"万": 10_000, "w": 10_000, "W": 10_000, "千": 1_000, "k": 1_000, "K": 1_000}
_AMOUNT = re.compile(
    rf"(?P<sym>[￥¥]\s*)?(?P<num>{_NUM})\s*(?P<mag>万|千|[wWkK](?![a-zA-Z]))?\s*(?P<unit>元|块钱|块|圆|rmb|RMB|人民币|yuan|CNY|cny)?")
_MONEY_VERB = re.compile(r"转|汇|还|取|存|贷|借|付|打|充值|金额|额度|transfer|send|pay|repay|withdraw|deposit",
                         re.IGNORECASE)


def cn_number(text: str) -> Optional[Decimal]:
    """'三千五' -> 3500, '1.5' -> 1.5, '两万' -> 20000; None if not a number."""
    text = text.replace(",", "")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return Decimal(text)
    try:
        import cn2an

        return Decimal(str(cn2an.cn2an(text, "smart")))
    except (ValueError, KeyError, InvalidOperation, TypeError):
        return None


def _amount_value(m: re.Match) -> Optional[Decimal]:
    number = cn_number(m.group("num"))
    if number is None:
        return None
    if m.group("mag"):
        number *= _MAGNITUDE[m.group("mag")]
    return number.quantize(Decimal("0.01")).normalize() if number > 0 else None


def _fmt(amount: Decimal) -> str:
    return format(amount.normalize(), "f")


def find_amounts(text: str, taken: set[int]) -> list[Span]:
    """Amounts outside the ``taken`` positions (card digits, dates, names found before)."""
    masked = "".join("\0" if i in taken else ch for i, ch in enumerate(text))
    spans = []
    for m in _AMOUNT.finditer(masked):
        if not m.group("num"):
            continue
        digits_only = bool(re.fullmatch(r"[\d,.]+", m.group("num")))
        marked = m.group("sym") or m.group("mag") or m.group("unit")
        cn_magnitude = not digits_only and re.search(r"[十百千万亿]", m.group("num"))
        context = _MONEY_VERB.search(text[max(0, m.start() - 12):m.start()])
        if not (marked or cn_magnitude or (context and digits_only)):
            continue
        if digits_only and len(m.group("num").replace(",", "").split(".")[0]) > 10:
            continue  # a card or account number, not an amount
        value = _amount_value(m)
        if value is not None:
            end = m.end() if m.group("unit") or m.group("mag") else m.end("num")
            spans.append(Span("amount", m.start(), end, _fmt(value)))
    return spans


def parse_bare_amount(text: str) -> Optional[str]:
    """A message that is only an amount ("5000", "三千五", "2w") -> "5000"; else None."""
    m = _AMOUNT.fullmatch(text.strip().rstrip("。.!！"))
    value = _amount_value(m) if m else None
    return _fmt(value) if value is not None else None


# card last four --------------------------------------------------------------------------------------
_CARD = re.compile(r"(?:尾号|末四位|后四位|后4位|末4位|卡号后四位|尾数|ending(?: in| with)?|ends? (?:in|with)|"
                   r"last (?:four|4)(?: digits)?(?: are| is)?)(?:是|为|:|：)?\s*(\d{4})(?!\d)"
                   r"|(?<!\d)(\d{4})(?!\d)\s*(?:那张|这张|的卡|的那张|结尾|的储蓄卡|的信用卡|的借记卡)"
                   r"|(?:用|从)(\d{4})(?![\d.,万千百块元wWkK])")


def find_card_last4(text: str) -> list[Span]:
    spans = []
    for m in _CARD.finditer(text):
        group = next(i for i in (1, 2, 3) if m.group(i))
        spans.append(Span("card_last4", m.start(group), m.end(group), m.group(group)))
    return spans


# dates -----------------------------------------------------------------------------------------------
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "1": 0, "2": 1, "3": 2,
            "4": 3, "5": 4, "6": 5, "7": 6}
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3, "昨天": -1, "昨日": -1,
                  "前天": -2}
_DATE_PATTERNS: list[tuple[re.Pattern, Callable[[re.Match, dt.date], Optional[tuple[dt.date, dt.date]]]]] = []


def _date_rule(pattern: str):
    def register(fn):
        _DATE_PATTERNS.append((re.compile(pattern), fn))
        return fn
    return register


def _day(day: dt.date) -> tuple[dt.date, dt.date]:
    return day, day


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, nxt - dt.timedelta(days=1)


def _shift_month(today: dt.date, months: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 + months
    return index // 12, index % 12 + 1


def weekday_in_week(today: dt.date, weekday: int, week_offset: int) -> dt.date:
    """The given weekday in this week (offset 0), next week (1) or last week (-1); weeks start Monday."""
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=week_offset)
    return monday + dt.timedelta(days=weekday)


@_date_rule(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})[日号]?")
def _iso(m, today):
    return _day(dt.date(int(m[1]), int(m[2]), int(m[3])))


@_date_rule(rf"(?:(下个?月|这个?月|本月)的?)?([\d{CN_DIGITS}]{{1,3}})月([\d{CN_DIGITS}]{{1,3}})[日号]")
def _month_day(m, today):
    month, day = cn_number(m[2]), cn_number(m[3])
    if month is None or day is None:
        return None
    candidate = dt.date(today.year, int(month), int(day))
    return _day(candidate if candidate >= today - dt.timedelta(days=180) else candidate.replace(year=today.year + 1))


@_date_rule(rf"(下个?月|这个?月|本月)([\d{CN_DIGITS}]{{1,3}})[日号]")
def _day_of_month(m, today):
    year, month = _shift_month(today, 1 if m[1].startswith("下") else 0)
    day = cn_number(m[2])
    return _day(dt.date(year, month, int(day))) if day else None


@_date_rule(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")
def _slash(m, today):
    return _month_day_value(today, int(m[1]), int(m[2]))


def _month_day_value(today: dt.date, month: int, day: int):
    candidate = dt.date(today.year, month, day)
    return _day(candidate if candidate >= today - dt.timedelta(days=180) else candidate.replace(year=today.year + 1))


@_date_rule(r"大后天|今天|今日|明天|明日|后天|昨天|昨日|前天")
def _relative(m, today):
    return _day(today + dt.timedelta(days=_RELATIVE_DAYS[m[0]]))


@_date_rule(r"(下下|下个?|这个?|本|上个?)?(?:周|星期|礼拜)([一二三四五六日天1-7])")
def _weekday(m, today):
    prefix = m[1] or ""
    offset = 2 if prefix == "下下" else 1 if prefix.startswith("下") else -1 if prefix.startswith("上") else 0
    day = weekday_in_week(today, _WEEKDAY[m[2]], offset)
    if not prefix and day < today:  # a bare "周三" means the next one
        day += dt.timedelta(weeks=1)
    return _day(day)


@_date_rule(r"(上上|上个?|下个?|这个?|本)(?:周|星期|礼拜)(?![一二三四五六日天1-7])")
def _week(m, today):
    offset = -2 if m[1] == "上上" else -1 if m[1].startswith("上") else 1 if m[1].startswith("下") else 0
    start = weekday_in_week(today, 0, offset)
    return start, start + dt.timedelta(days=6)


@_date_rule(r"(上上|上个?|下个?|这个?|本)月(?![\d一二三四五六七八九十]+[日号])")
def _month(m, today):
    offset = -2 if m[1] == "上上" else -1 if m[1].startswith("上") else 1 if m[1].startswith("下") else 0
    return _month_range(*_shift_month(today, offset))


@_date_rule(rf"(?:最近|近|过去)\s*([\d{CN_DIGITS}半]+)\s*(?:个)?(天|日|周|星期|个?月|年)")
def _recent(m, today):
    amount = Decimal("0.5") if m[1] == "半" else cn_number(m[1])
    if amount is None:
        return None
    unit = m[2]
    days = {"天": 1, "日": 1, "周": 7, "星期": 7, "年": 365}.get(unit, 30)
    return today - dt.timedelta(days=int(amount * days) - 1), today


@_date_rule(r"去年|今年")
def _year(m, today):
    year = today.year - (m[0] == "去年")
    return dt.date(year, 1, 1), min(dt.date(year, 12, 31), today) if m[0] == "今年" else dt.date(year, 12, 31)


def find_dates(text: str, today: dt.date) -> list[Span]:
    spans = []
    for pattern, parse in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            try:
                found = parse(m, today)
            except (ValueError, KeyError, TypeError):
                found = None  # "2月30日" and the like
            if found:
                start, end = found
                spans.append(Span("date", m.start(), m.end(), {"start": start.isoformat(), "end": end.isoformat()}))
    return spans


# time slots ------------------------------------------------------------------------------------------
_TIME = re.compile(rf"(上午|早上|中午|下午|晚上)?\s*(?:([\d{CN_DIGITS}]{{1,3}})\s*[点:：时](半|[\d{CN_DIGITS}]{{1,2}}分?)?)?")


def find_time_slots(text: str) -> list[Span]:
    spans = []
    for m in _TIME.finditer(text):
        if not m.group(0).strip() or (not m[2] and not m[1]):
            continue
        if m[2]:
            hour = cn_number(m[2])
            if hour is None or hour > 24:
                continue
            hour = int(hour) + (12 if m[1] in ("下午", "晚上") and hour < 12 else 0)
            if not 7 <= hour <= 20:
                continue  # "快一点" is no appointment time
        else:
            hour = 9 if m[1] in ("上午", "早上") else 14 if m[1] == "下午" else 12 if m[1] == "中午" else None
            if hour is None:
                continue
        spans.append(Span("time_slot", m.start(), m.end(), f"{hour:02d}:00-{hour + 1:02d}:00"))
    return spans


# lookups ---------------------------------------------------------------------------------------------
CURRENCIES = {"美元": "USD", "美金": "USD", "美刀": "USD", "刀": "USD", "usd": "USD", "dollar": "USD",
              "欧元": "EUR", "eur": "EUR", "euro": "EUR", "日元": "JPY", "日币": "JPY", "jpy": "JPY", "yen": "JPY",
              "港币": "HKD", "港元": "HKD", "港纸": "HKD", "hkd": "HKD", "英镑": "GBP", "gbp": "GBP",
              "pound": "GBP", "澳元": "AUD", "澳币": "AUD", "aud": "AUD", "加元": "CAD", "加币": "CAD",
              "cad": "CAD", "新加坡元": "SGD", "新币": "SGD", "sgd": "SGD", "人民币": "CNY", "rmb": "CNY",
              "cny": "CNY"}
DISTRICTS = {"朝阳区": "北京", "海淀区": "北京", "东城区": "北京", "西城区": "北京", "丰台区": "北京",
             "浦东新区": "上海", "浦东": "上海", "徐汇区": "上海", "黄浦区": "上海", "静安区": "上海",
             "天河区": "广州", "越秀区": "广州", "海珠区": "广州", "福田区": "深圳", "南山区": "深圳",
             "罗湖区": "深圳", "西湖区": "杭州", "上城区": "杭州", "滨江区": "杭州"}
DISTRICT_NAMES = {"浦东": "浦东新区"}
CITIES = {"北京": "北京", "上海": "上海", "广州": "广州", "深圳": "深圳", "杭州": "杭州", "beijing": "北京",
          "shanghai": "上海", "guangzhou": "广州", "shenzhen": "深圳", "hangzhou": "杭州"}
LOAN_TYPES = {"房贷": "mortgage", "住房贷款": "mortgage", "按揭": "mortgage", "买房": "mortgage",
              "mortgage": "mortgage", "车贷": "car", "汽车贷款": "car", "买车": "car", "消费贷": "consumer",
              "装修贷": "consumer", "信用贷": "consumer", "e贷": "consumer", "经营贷": "business",
              "生意": "business", "周转": "business"}
CARD_TYPES = {"借记卡": "debit", "储蓄卡": "debit", "一卡通": "debit", "工资卡": "debit", "debit": "debit",
              "信用卡": "credit", "xyk": "credit", "credit card": "credit"}
RISK_LEVELS = {"r1": "R1", "r2": "R2", "r3": "R3", "r4": "R4", "r5": "R5", "保本": "R1", "稳健": "R2",
               "保守": "R1", "低风险": "R2", "中风险": "R3", "平衡": "R3", "高风险": "R4", "激进": "R4"}


def _lookup(entity: str, table: dict[str, str], text: str) -> list[Span]:
    lowered = text.lower()
    spans = []
    for key in sorted(table, key=len, reverse=True):
        pattern = rf"(?<![a-z]){re.escape(key)}(?![a-z])" if key.isascii() else re.escape(key)
        for m in re.finditer(pattern, lowered):
            spans.append(Span(entity, m.start(), m.end(), table[key]))
    return spans


def find_places(text: str) -> list[Span]:
    spans = _lookup("city", CITIES, text)
    for m in re.finditer("|".join(sorted(map(re.escape, DISTRICTS), key=len, reverse=True)), text):
        spans.append(Span("district", m.start(), m.end(), DISTRICT_NAMES.get(m[0], m[0])))
    return spans


def find_currency(text: str) -> list[Span]:
    # a lone "刀" only counts after a number ("100刀"), not inside other words
    return [s for s in _lookup("currency", CURRENCIES, text)
            if text[s.start:s.end] != "刀" or (s.start > 0 and text[s.start - 1].isdigit())]


# payee -----------------------------------------------------------------------------------------------
_NOT_NAME_START = set("我你他她它您们的了吗呢吧啊钱块元转账汇款给到卡里这那个一")
_NAME_END = re.compile(r"[转汇打还付的了吗呢吧啊钱块元]|[零一二两三四五六七八九十]+[十百千万块元]")
_PAYEE = re.compile(r"(?:给|转给|转账给|汇给|打给|收款人(?:是|为|:|：))\s*([\u4e00-\u9fa5]{2,5}|[A-Z][a-z]+(?: [A-Z][a-z]+)?)"
                    r"|\b(?:to|pay)\s+([\u4e00-\u9fa5]{2,4}(?![\u4e00-\u9fa5])|(?!(?:My|The|A|An|Another|Other)\b)"
                    r"[A-Z][a-z]+(?: [A-Z][a-z]+)?\b)")


def find_payees(text: str) -> list[Span]:
    spans = []
    for m in _PAYEE.finditer(text):
        group = 1 if m.group(1) else 2
        name = m.group(group)
        if not name.isascii():
            stop = _NAME_END.search(name)
            # a name may end in a numeral character (张三, 李四): keep at least two characters
            name = name[:max(stop.start(), 2)] if stop else name[:4]
            if len(name) < 2 or name[0] in _NOT_NAME_START:
                continue
        spans.append(Span("payee", m.start(group), m.start(group) + len(name), name))
    return spans


# all together ----------------------------------------------------------------------------------------
def _resolve(spans: Iterable[Span]) -> list[Span]:
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def extract(text: str, today: dt.date) -> list[Span]:
    if not text:
        return []
    fixed = _resolve([*find_card_last4(text), *find_dates(text, today), *find_time_slots(text),
                      *find_payees(text)])
    taken = {i for s in fixed for i in range(s.start, s.end)}
    rest = [*find_amounts(text, taken), *_lookup("loan_type", LOAN_TYPES, text),
            *_lookup("card_type", CARD_TYPES, text), *_lookup("risk_level", RISK_LEVELS, text),
            *find_currency(text), *find_places(text)]
    return _resolve([*fixed, *rest])


def extract_all(text: str, today: dt.date) -> list[dict]:
    """Rasa-style entity dicts for ``text``."""
    return [{"entity": s.entity, "start": s.start, "end": s.end, "value": s.value, "extractor": EXTRACTOR,
             "text": text[s.start:s.end]} for s in extract(text, today)]
