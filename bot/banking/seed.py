"""Demo data for the sandbox bank: fictional customers, cards, six months of transactions,
branches, rates and products. Deterministic for a given ``today``."""
from __future__ import annotations

import datetime as dt
import json
import random

from sqlalchemy.orm import Session

from bot.banking.schema import (
    AccountRow,
    BranchRow,
    CardRow,
    CustomerRow,
    LimitRow,
    LoanRow,
    PayeeRow,
    RateRow,
    StatementRow,
    TransactionRow,
    WealthRow,
)

# id, name, phone, id number (all fictional), cards: (number, kind, product, account id, balance yuan)
CUSTOMERS = [
    ("C001", "张伟", "13800000001", "110101199001010011", [
        ("6217000000016688", "debit", "示例银行借记卡", "A001-1", 52_380.50),
        ("6217000000024872", "debit", "示例银行工资卡", "A001-2", 8_120.00),
        ("6258000000031024", "credit", "示例银行白金信用卡", "A001-C", 0)]),
    ("C002", "李娜", "13800000002", "310101198805050022", [
        ("6217000000043579", "debit", "示例银行借记卡", "A002-1", 126_004.18),
        ("6258000000058866", "credit", "示例银行标准信用卡", "A002-C", 0)]),
    ("C003", "王芳", "13800000003", "440101199512120033", [
        ("6217000000062468", "debit", "示例银行借记卡", "A003-1", 3_560.72),
        ("6258000000071357", "credit", "示例银行青春信用卡", "A003-C", 0)]),
]
PAYEES = {"C001": [("张三", "示例银行", "6217000000091111"), ("李四", "中国工商银行", "6222000000092222"),
                   ("王小明", "招商银行", "6225000000093333")],
          "C002": [("赵六", "示例银行", "6217000000094444"), ("孙七", "中国建设银行", "6227000000095555")],
          "C003": [("周八", "中国银行", "6216000000096666"), ("吴九", "示例银行", "6217000000097777")]}
MERCHANTS = [("美团外卖", "餐饮", 25, 120), ("京东商城", "网购", 50, 900), ("滴滴出行", "交通", 12, 80),
             ("盒马鲜生", "超市", 40, 400), ("中国石化", "加油", 200, 500), ("星巴克", "餐饮", 30, 90),
             ("国家电网", "电费", 80, 300), ("中国移动", "话费", 50, 200)]
WEEKDAYS_9_17 = {d: ("09:00", "17:00") for d in range(5)}
BRANCHES = [
    ("BJ01", "示例银行北京朝阳支行", "北京", "朝阳区", "北京市朝阳区建国路 88 号", "010-80000001",
     {**WEEKDAYS_9_17, 5: ("09:00", "16:00"), 6: ("10:00", "15:00")}, True, True),
    ("BJ02", "示例银行北京海淀支行", "北京", "海淀区", "北京市海淀区中关村大街 12 号", "010-80000002",
     {**WEEKDAYS_9_17, 5: ("09:00", "16:00")}, True, False),
    ("BJ03", "示例银行北京东城支行", "北京", "东城区", "北京市东城区王府井大街 66 号", "010-80000003",
     dict(WEEKDAYS_9_17), True, True),
    ("SH01", "示例银行上海浦东支行", "上海", "浦东新区", "上海市浦东新区世纪大道 100 号", "021-80000001",
     {**WEEKDAYS_9_17, 5: ("09:00", "16:00"), 6: ("10:00", "15:00")}, True, True),
    ("SH02", "示例银行上海徐汇支行", "上海", "徐汇区", "上海市徐汇区漕溪北路 28 号", "021-80000002",
     dict(WEEKDAYS_9_17), True, False),
    ("SH03", "示例银行上海黄浦自助银行", "上海", "黄浦区", "上海市黄浦区南京东路 300 号", "021-80000003",
     {}, True, False),
    ("GZ01", "示例银行广州天河支行", "广州", "天河区", "广州市天河区天河路 208 号", "020-80000001",
     {**WEEKDAYS_9_17, 5: ("09:00", "16:00")}, True, True),
    ("GZ02", "示例银行广州越秀支行", "广州", "越秀区", "广州市越秀区中山五路 33 号", "020-80000002",
     dict(WEEKDAYS_9_17), True, False),
    ("SZ01", "示例银行深圳福田支行", "深圳", "福田区", "深圳市福田区深南大道 6008 号", "0755-80000001",
     {**WEEKDAYS_9_17, 5: ("09:00", "16:00"), 6: ("10:00", "15:00")}, True, True),
    ("SZ02", "示例银行深圳南山支行", "深圳", "南山区", "深圳市南山区科技园南路 18 号", "0755-80000002",
     dict(WEEKDAYS_9_17), True, False),
    ("HZ01", "示例银行杭州西湖支行", "杭州", "西湖区", "杭州市西湖区文三路 90 号", "0571-80000001",
     {**WEEKDAYS_9_17, 5: ("09:00", "16:00")}, True, True),
    ("HZ02", "示例银行杭州滨江支行", "杭州", "滨江区", "杭州市滨江区江南大道 588 号", "0571-80000002",
     dict(WEEKDAYS_9_17), True, False),
]
# currency, name, buy, sell, cash buy, cash sell (yuan per 100 units, illustrative)
RATES = [("USD", "美元", "713.52", "716.54", "707.72", "716.54"), ("EUR", "欧元", "772.10", "777.80", "748.12", "780.31"),
         ("JPY", "日元", "4.7285", "4.7653", "4.5817", "4.7822"), ("HKD", "港币", "91.55", "91.92", "90.83", "91.92"),
         ("GBP", "英镑", "903.36", "909.99", "875.28", "913.02"), ("AUD", "澳元", "463.62", "466.91", "449.21", "468.70"),
         ("CAD", "加元", "512.40", "516.01", "496.45", "517.93"), ("SGD", "新加坡元", "548.90", "552.75", "531.96", "555.52")]
WEALTH = [("W101", "示例银行天天盈现金管理", "R1", 1, "业绩比较基准 1.6%–1.9%（不代表实际收益）", 1),
          ("W102", "示例银行稳享 90 天", "R2", 90, "业绩比较基准 2.3%–2.8%（不代表实际收益）", 10_000),
          ("W103", "示例银行稳享 180 天", "R2", 180, "业绩比较基准 2.5%–3.0%（不代表实际收益）", 10_000),
          ("W104", "示例银行安盈一年定开", "R2", 365, "业绩比较基准 2.8%–3.3%（不代表实际收益）", 10_000),
          ("W201", "示例银行固收+ 优选", "R3", 270, "业绩比较基准 3.0%–4.0%（不代表实际收益）", 10_000),
          ("W202", "示例银行多元配置", "R3", 365, "业绩比较基准 3.2%–4.5%（不代表实际收益）", 10_000),
          ("W301", "示例银行权益精选", "R4", 365, "无业绩比较基准，净值随市场波动", 10_000),
          ("W302", "示例银行指数增强", "R4", 730, "无业绩比较基准，净值随市场波动", 50_000)]
LOANS = [("L01", "mortgage", "示例银行个人住房贷款", "参考 LPR 加点定价，首套房利率以审批为准", 10_000_000, 360),
         ("L02", "car", "示例银行汽车消费贷款", "年化利率（单利）参考 3.2% 起", 500_000, 60),
         ("L03", "consumer", "示例银行e贷（消费贷）", "年化利率（单利）参考 3.5% 起，按日计息", 300_000, 36),
         ("L04", "business", "示例银行个人经营贷款", "年化利率（单利）参考 3.3% 起，需提供经营证明", 3_000_000, 60)]


def cents(yuan: float) -> int:
    return int(round(yuan * 100))


def seed(session: Session, today: dt.date) -> None:
    rng = random.Random(20261124)
    for cid, name, phone, id_number, cards in CUSTOMERS:
        session.add(CustomerRow(id=cid, name=name, phone=phone, id_number=id_number))
        session.add(LimitRow(customer_id=cid, per_transaction_cents=cents(50_000), daily_cents=cents(200_000)))
        for payee, bank, number in PAYEES[cid]:
            session.add(PayeeRow(customer_id=cid, name=payee, bank=bank, account_number=number))
        for number, kind, product, account_id, balance in cards:
            session.add(AccountRow(id=account_id, customer_id=cid, kind="credit" if kind == "credit" else "savings",
                                   currency="CNY", balance_cents=cents(balance)))
            session.add(CardRow(number=number, last4=number[-4:], customer_id=cid, kind=kind, product=product,
                                status="active", account_id=account_id))
            _seed_transactions(session, rng, number, kind, today)
            if kind == "credit":
                _seed_statement(session, rng, number, today)
    for bid, name, city, district, address, phone, hours, atm, fx in BRANCHES:
        session.add(BranchRow(id=bid, name=name, city=city, district=district, address=address, phone=phone,
                              hours_json=json.dumps({str(k): v for k, v in hours.items()}), has_atm=atm,
                              foreign_exchange=fx))
    as_of = dt.datetime.combine(today, dt.time(9, 30))
    for code, name_zh, buy, sell, cash_buy, cash_sell in RATES:
        session.add(RateRow(currency=code, name_zh=name_zh, buy=buy, sell=sell, cash_buy=cash_buy,
                            cash_sell=cash_sell, as_of=as_of))
    for code, name, risk, term, yield_text, minimum in WEALTH:
        session.add(WealthRow(code=code, name=name, risk_level=risk, term_days=term,
                              expected_yield_text=yield_text, min_amount_cents=cents(minimum)))
    for code, loan_type, name, rate_text, max_amount, months in LOANS:
        session.add(LoanRow(code=code, loan_type=loan_type, name=name, rate_text=rate_text,
                            max_amount_cents=cents(max_amount), max_term_months=months))


def _seed_transactions(session: Session, rng: random.Random, card: str, kind: str, today: dt.date) -> None:
    for days_ago in range(180, -1, -3):
        day = today - dt.timedelta(days=days_ago)
        booked = dt.datetime.combine(day, dt.time(rng.randint(8, 21), rng.randint(0, 59)))
        if kind == "debit" and day.day in (10, 11, 12) and days_ago % 2 == 0:
            session.add(TransactionRow(card_number=card, booked_at=booked, amount_cents=cents(15_000),
                                       counterparty="示例科技有限公司", description="工资", channel="transfer"))
            continue
        merchant, what, low, high = rng.choice(MERCHANTS)
        session.add(TransactionRow(card_number=card, booked_at=booked, amount_cents=-cents(rng.uniform(low, high)),
                                   counterparty=merchant, description=what))


def _seed_statement(session: Session, rng: random.Random, card: str, today: dt.date) -> None:
    period_end = (today.replace(day=1) - dt.timedelta(days=1))
    total = cents(rng.uniform(2_000, 9_000))
    session.add(StatementRow(card_number=card, period_start=period_end.replace(day=1), period_end=period_end,
                             total_due_cents=total, minimum_due_cents=total // 10,
                             due_date=period_end + dt.timedelta(days=25), paid_cents=0))
