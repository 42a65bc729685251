"""Tables of the sandbox bank (SQLAlchemy 1.4 ORM). Money is stored in integer cents."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class CustomerRow(Base):
    __tablename__ = "customers"
    id = Column(String(16), primary_key=True)
    name = Column(String(64), nullable=False)
    phone = Column(String(20), nullable=False)
    id_number = Column(String(18), nullable=False)
    wechat_openid = Column(String(64), unique=True)


class AccountRow(Base):
    __tablename__ = "accounts"
    id = Column(String(32), primary_key=True)
    customer_id = Column(String(16), ForeignKey("customers.id"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)
    currency = Column(String(3), nullable=False, default="CNY")
    balance_cents = Column(BigInteger, nullable=False)


class CardRow(Base):
    __tablename__ = "cards"
    __table_args__ = (UniqueConstraint("customer_id", "last4"),)
    number = Column(String(19), primary_key=True)
    last4 = Column(String(4), nullable=False)
    customer_id = Column(String(16), ForeignKey("customers.id"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)
    product = Column(String(64), nullable=False)
    status = Column(String(16), nullable=False, default="active")
    account_id = Column(String(32), ForeignKey("accounts.id"), nullable=False)
    loss_reference = Column(String(32))
    lost_at = Column(DateTime)


class TransactionRow(Base):
    __tablename__ = "transactions"
    id = Column(Integer, primary_key=True, autoincrement=True)
    card_number = Column(String(19), ForeignKey("cards.number"), nullable=False, index=True)
    booked_at = Column(DateTime, nullable=False, index=True)
    amount_cents = Column(BigInteger, nullable=False)
    currency = Column(String(3), nullable=False, default="CNY")
    counterparty = Column(String(64), nullable=False)
    description = Column(String(128), nullable=False)
    channel = Column(String(16), nullable=False, default="pos")


class PayeeRow(Base):
    __tablename__ = "payees"
    id = Column(Integer, primary_key=True, autoincrement=True)
    customer_id = Column(String(16), ForeignKey("customers.id"), nullable=False, index=True)
    name = Column(String(64), nullable=False)
    bank = Column(String(64), nullable=False)
    account_number = Column(String(32), nullable=False)


class LimitRow(Base):
    __tablename__ = "transfer_limits"
    customer_id = Column(String(16), ForeignKey("customers.id"), primary_key=True)
    per_transaction_cents = Column(BigInteger, nullable=False)
    daily_cents = Column(BigInteger, nullable=False)


class StatementRow(Base):
    __tablename__ = "statements"
    id = Column(Integer, primary_key=True, autoincrement=True)
    card_number = Column(String(19), ForeignKey("cards.number"), nullable=False, index=True)
    period_start = Column(Date, nullable=False)
    period_end = Column(Date, nullable=False)
    total_due_cents = Column(BigInteger, nullable=False)
    minimum_due_cents = Column(BigInteger, nullable=False)
    due_date = Column(Date, nullable=False)
    paid_cents = Column(BigInteger, nullable=False, default=0)


class OperationRow(Base):
    __tablename__ = "operations"
    reference = Column(String(32), primary_key=True)
    customer_id = Column(String(16), index=True)
    kind = Column(String(32), nullable=False)
    summary = Column(Text, nullable=False)
    amount_cents = Column(BigInteger)
    channel = Column(String(16), nullable=False, default="chat")
    status = Column(String(32), nullable=False)
    created_at = Column(DateTime, nullable=False)
    request_key = Column(String(64), unique=True, index=True)  # the confirming message; see BankingBackend


class BranchRow(Base):
    __tablename__ = "branches"
    id = Column(String(16), primary_key=True)
    name = Column(String(64), nullable=False)
    city = Column(String(16), nullable=False, index=True)
    district = Column(String(16), nullable=False)
    address = Column(String(128), nullable=False)
    phone = Column(String(20), nullable=False)
    hours_json = Column(Text, nullable=False)  # {"0": ["09:00", "17:00"], ...}
    has_atm = Column(Boolean, nullable=False, default=True)
    foreign_exchange = Column(Boolean, nullable=False, default=False)


class AppointmentRow(Base):
    __tablename__ = "appointments"
    reference = Column(String(32), primary_key=True)
    customer_id = Column(String(16), index=True)
    branch_id = Column(String(16), ForeignKey("branches.id"), nullable=False)
    day = Column(Date, nullable=False)
    slot = Column(String(16), nullable=False)
    service = Column(String(32), nullable=False)
    amount_cents = Column(BigInteger)
    created_at = Column(DateTime, nullable=False)
    request_key = Column(String(64), unique=True, index=True)  # the confirming message; see BankingBackend


class RateRow(Base):
    __tablename__ = "exchange_rates"
    currency = Column(String(3), primary_key=True)
    name_zh = Column(String(16), nullable=False)
    buy = Column(String(16), nullable=False)  # kept as published text, e.g. "713.52"
    sell = Column(String(16), nullable=False)
    cash_buy = Column(String(16), nullable=False)
    cash_sell = Column(String(16), nullable=False)
    as_of = Column(DateTime, nullable=False)


class WealthRow(Base):
    __tablename__ = "wealth_products"
    code = Column(String(16), primary_key=True)
    name = Column(String(64), nullable=False)
    risk_level = Column(String(2), nullable=False)
    term_days = Column(Integer, nullable=False)
    expected_yield_text = Column(String(128), nullable=False)
    min_amount_cents = Column(BigInteger, nullable=False)


class LoanRow(Base):
    __tablename__ = "loan_products"
    code = Column(String(16), primary_key=True)
    loan_type = Column(String(16), nullable=False)
    name = Column(String(64), nullable=False)
    rate_text = Column(String(128), nullable=False)
    max_amount_cents = Column(BigInteger, nullable=False)
    max_term_months = Column(Integer, nullable=False)


class TicketRow(Base):
    __tablename__ = "tickets"
    reference = Column(String(32), primary_key=True)
    kind = Column(String(16), nullable=False)
    customer_id = Column(String(16), index=True)
    summary = Column(Text, nullable=False)
    priority = Column(String(8), nullable=False)
    created_at = Column(DateTime, nullable=False)
    request_key = Column(String(64), unique=True, index=True)  # the message that asked; see BankingBackend
