"""What the bank returns to the assistant: plain frozen records, money as Decimal."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    phone: str
    id_number: str
    wechat_openid: Optional[str] = None


@dataclass(frozen=True)
class Account:
    id: str
    customer_id: str
    kind: str  # savings | credit
    currency: str
    balance: Decimal


@dataclass(frozen=True)
class Card:
    last4: str
    customer_id: str
    kind: str  # debit | credit
    product: str
    status: str  # active | frozen | lost
    account_id: str


@dataclass(frozen=True)
class Transaction:
    id: int
    card_last4: str
    booked_at: dt.datetime
    amount: Decimal  # negative = money out
    currency: str
    counterparty: str
    description: str


@dataclass(frozen=True)
class Payee:
    name: str
    bank: str
    account_masked: str


@dataclass(frozen=True)
class TransferLimits:
    per_transaction: Decimal
    daily: Decimal
    used_today: Decimal


@dataclass(frozen=True)
class PendingOperation:
    """A change the customer still has to approve in the bank app (never in the chat)."""

    reference: str
    kind: str
    summary: str
    created_at: dt.datetime
    status: str = "awaiting_secure_confirmation"


@dataclass(frozen=True)
class CardLossReceipt:
    reference: str
    card_last4: str
    frozen_at: dt.datetime


@dataclass(frozen=True)
class Statement:
    card_last4: str
    period_start: dt.date
    period_end: dt.date
    total_due: Decimal
    minimum_due: Decimal
    due_date: dt.date
    paid_amount: Decimal


@dataclass(frozen=True)
class Branch:
    id: str
    name: str
    city: str
    district: str
    address: str
    phone: str
    # weekday (0 = Monday) -> (opens, closes); closed days are absent
    weekday_hours: dict[int, tuple[dt.time, dt.time]] = field(hash=False)
    has_atm: bool = True
    foreign_exchange: bool = False


@dataclass(frozen=True)
class Appointment:
    reference: str
    branch_id: str
    day: dt.date
    slot: str
    service: str
    amount: Optional[Decimal]


@dataclass(frozen=True)
class ExchangeRate:
    currency: str
    name_zh: str
    buy: Decimal
    sell: Decimal
    cash_buy: Decimal
    cash_sell: Decimal
    as_of: dt.datetime


@dataclass(frozen=True)
class WealthProduct:
    code: str
    name: str
    risk_level: str  # R1 (lowest) .. R5
    term_days: int
    expected_yield_text: str
    min_amount: Decimal


@dataclass(frozen=True)
class LoanProduct:
    code: str
    loan_type: str  # mortgage | car | consumer | business
    name: str
    rate_text: str
    max_amount: Decimal
    max_term_months: int


@dataclass(frozen=True)
class Ticket:
    reference: str
    kind: str  # complaint | fraud | callback | message
    customer_id: Optional[str]
    summary: str
    priority: str  # normal | urgent
    created_at: dt.datetime
