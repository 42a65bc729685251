"""The sandbox bank: BankingBackend on SQLAlchemy (SQLite by default, PostgreSQL by URL).

Seeded with fictional demo data on first use. Business rules a real core
system would enforce (limits, balances, card status, booking rules) are
enforced here too, so the assistant's flows meet realistic refusals.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Callable, Iterator, Optional

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.banking import errors
from bot.banking.backend import BankingBackend
from bot.banking.masking import mask_card
from bot.banking.models import (
    Account,
    Appointment,
    Branch,
    Card,
    CardLossReceipt,
    Customer,
    ExchangeRate,
    LoanProduct,
    Payee,
    PendingOperation,
    Statement,
    Ticket,
    Transaction,
    TransferLimits,
    WealthProduct,
)
from bot.banking.schema import (
    AccountRow,
    AppointmentRow,
    Base,
    BranchRow,
    CardRow,
    CustomerRow,
    LimitRow,
    LoanRow,
    OperationRow,
    PayeeRow,
    RateRow,
    StatementRow,
    TicketRow,
    TransactionRow,
    WealthRow,
)
from bot.banking.seed import seed
from bot.private_db import private_engine

TICKET_SUMMARY_MAX = 4000
RISK_ORDER = ("R1", "R2", "R3", "R4", "R5")
LARGE_CASH = Decimal(50_000)
CREDIT_CARD_PRODUCTS = ["示例银行标准信用卡", "示例银行白金信用卡", "示例银行青春信用卡", "示例银行车主信用卡"]


def _yuan(cents: Optional[int]) -> Decimal:
    return (Decimal(cents or 0) / 100).quantize(Decimal("0.01"))


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _reference(prefix: str) -> str:
    return f"{prefix}{dt.datetime.now():%Y%m%d}{secrets.token_hex(3).upper()}"


def _mask_account(number: str) -> str:
    return mask_card(number)


def valid_amount(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0 \
            or amount != amount.quantize(Decimal("0.01")):
        raise errors.InvalidAmount(f"invalid amount {amount!r}")
    return amount


class SandboxBank(BankingBackend):
    def __init__(self, url: str, today: Callable[[], dt.date] = dt.date.today) -> None:
        connect_args = {"check_same_thread": False, "timeout": 15} if url.startswith("sqlite") else {}
        self._engine = private_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)
        self._sessions = sessionmaker(self._engine, future=True, expire_on_commit=False)
        self._today = today
        Base.metadata.create_all(self._engine)
        _add_request_keys(self._engine)
        self._seed_once()

    def _seed_once(self) -> None:
        try:
            with self._tx() as session:
                if not session.scalar(select(func.count()).select_from(CustomerRow)):
                    seed(session, self._today())
        except IntegrityError:  # another process seeded at the same moment
            pass

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # customers -------------------------------------------------------------------------------------
    def customer(self, customer_id: str) -> Optional[Customer]:
        with self._tx() as s:
            row = s.get(CustomerRow, customer_id)
            return _customer(row) if row else None

    def customer_by_wechat(self, openid: str) -> Optional[Customer]:
        with self._tx() as s:
            row = s.scalar(select(CustomerRow).where(CustomerRow.wechat_openid == openid))
            return _customer(row) if row else None

    def bind_wechat(self, openid: str, customer_id: str) -> None:
        with self._tx() as s:
            row = self._customer_row(s, customer_id)
            for other in s.scalars(select(CustomerRow).where(CustomerRow.wechat_openid == openid)):
                other.wechat_openid = None
            row.wechat_openid = openid

    @staticmethod
    def _customer_row(s: Session, customer_id: str) -> CustomerRow:
        row = s.get(CustomerRow, customer_id) if customer_id else None
        if row is None:
            raise errors.UnknownCustomer(f"unknown customer {customer_id!r}")
        return row

    # cards and accounts ----------------------------------------------------------------------------
    def cards(self, customer_id: str) -> list[Card]:
        with self._tx() as s:
            self._customer_row(s, customer_id)
            return [_card(r) for r in s.scalars(select(CardRow).where(CardRow.customer_id == customer_id)
                                                .order_by(CardRow.kind.desc(), CardRow.last4))]

    def accounts(self, customer_id: str) -> list[Account]:
        with self._tx() as s:
            self._customer_row(s, customer_id)
            return [_account(r) for r in s.scalars(select(AccountRow).where(AccountRow.customer_id == customer_id)
                                                   .order_by(AccountRow.id))]

    @staticmethod
    def _card_row(s: Session, customer_id: str, last4: Optional[str]) -> CardRow:
        row = s.scalar(select(CardRow).where(CardRow.customer_id == customer_id, CardRow.last4 == str(last4)))
        if row is None:
            raise errors.CardNotFound(f"customer {customer_id} has no card ending {last4}")
        return row

    def balances(self, customer_id: str, card_last4: Optional[str] = None) -> list[tuple[Card, Account]]:
        with self._tx() as s:
            self._customer_row(s, customer_id)
            rows = ([self._card_row(s, customer_id, card_last4)] if card_last4 else
                    list(s.scalars(select(CardRow).where(CardRow.customer_id == customer_id, CardRow.kind == "debit")
                                   .order_by(CardRow.last4))))
            return [(_card(r), _account(s.get(AccountRow, r.account_id))) for r in rows]

    def transactions(self, customer_id: str, start: dt.date, end: dt.date,
                     card_last4: Optional[str] = None, limit: int = 50) -> list[Transaction]:
        with self._tx() as s:
            self._customer_row(s, customer_id)
            cards = ([self._card_row(s, customer_id, card_last4)] if card_last4 else
                     list(s.scalars(select(CardRow).where(CardRow.customer_id == customer_id))))
            last4 = {c.number: c.last4 for c in cards}
            rows = s.scalars(select(TransactionRow)
                             .where(TransactionRow.card_number.in_(list(last4)),
                                    TransactionRow.booked_at >= dt.datetime.combine(start, dt.time.min),
                                    TransactionRow.booked_at <= dt.datetime.combine(end, dt.time.max))
                             .order_by(TransactionRow.booked_at.desc(), TransactionRow.id.desc()).limit(limit))
            return [Transaction(r.id, last4[r.card_number], r.booked_at, _yuan(r.amount_cents), r.currency,
                                r.counterparty, r.description) for r in rows]

    def report_card_loss(self, customer_id: str, card_last4: str) -> CardLossReceipt:
        with self._tx() as s:
            self._customer_row(s, customer_id)
            card = self._card_row(s, customer_id, card_last4)
            if card.status != "lost":
                card.status, card.loss_reference, card.lost_at = "lost", _reference("GS"), dt.datetime.now()
            return CardLossReceipt(card.loss_reference, card.last4, card.lost_at)

    # transfers and repayments ----------------------------------------------------------------------
    def transfer_limits(self, customer_id: str) -> TransferLimits:
        with self._tx() as s:
            self._customer_row(s, customer_id)
            return self._limits(s, customer_id)

    def _limits(self, s: Session, customer_id: str) -> TransferLimits:
        row = s.get(LimitRow, customer_id)
        start = dt.datetime.combine(self._today(), dt.time.min)
        used = s.scalar(select(func.coalesce(func.sum(OperationRow.amount_cents), 0))
                        .where(OperationRow.customer_id == customer_id, OperationRow.kind == "transfer",
                               OperationRow.created_at >= start))
        return TransferLimits(_yuan(row.per_transaction_cents), _yuan(row.daily_cents), _yuan(used))

    def payees(self, customer_id: str) -> list[Payee]:
        with self._tx() as s:
            self._customer_row(s, customer_id)
            return [Payee(r.name, r.bank, _mask_account(r.account_number))
                    for r in s.scalars(select(PayeeRow).where(PayeeRow.customer_id == customer_id)
                                       .order_by(PayeeRow.id))]

    def request_transfer(self, customer_id: str, from_last4: str, payee_name: str, amount: Decimal,
                         payee_account: Optional[str] = None, request_key: Optional[str] = None
                         ) -> PendingOperation:
        amount = valid_amount(amount)
        with self._tx() as s:
            if (earlier := self._requested(s, customer_id, request_key)) is not None:
                return earlier  # before the limit checks: the first copy already counts against them
            self._customer_row(s, customer_id)
            card = self._active_card(s, customer_id, from_last4)
            limits = self._limits(s, customer_id)
            if amount > limits.per_transaction or limits.used_today + amount > limits.daily:
                raise errors.LimitExceeded(f"{amount} over limits {limits}")
            if _yuan(s.get(AccountRow, card.account_id).balance_cents) < amount:
                raise errors.InsufficientFunds(f"balance below {amount}")
            known = {p.name for p in s.scalars(select(PayeeRow).where(PayeeRow.customer_id == customer_id))}
            if payee_name not in known and not payee_account:
                raise errors.BankingError("unknown payee", "新收款人需要在示例银行App中填写收款账户后转账。")
            return self._pending(s, customer_id, "transfer", f"尾号{card.last4} 转账给 {payee_name} {amount} 元",
                                 amount, request_key)

    def _active_card(self, s: Session, customer_id: str, last4: str) -> CardRow:
        card = self._card_row(s, customer_id, last4)
        if card.status != "active":
            raise errors.CardNotActive(f"card {last4} is {card.status}")
        return card

    @staticmethod
    def _requested(s: Session, customer_id: Optional[str], request_key: Optional[str]) -> Optional[PendingOperation]:
        """The operation an earlier copy of the same confirming message created, if any (the customer's own)."""
        row = _earlier(s, OperationRow, customer_id, request_key)
        return PendingOperation(row.reference, row.kind, row.summary, row.created_at, row.status) if row else None

    @staticmethod
    def _pending(s: Session, customer_id: Optional[str], kind: str, summary: str,
                 amount: Optional[Decimal] = None, request_key: Optional[str] = None) -> PendingOperation:
        row = OperationRow(reference=_reference("OP"), customer_id=customer_id, kind=kind, summary=summary,
                           amount_cents=_cents(amount) if amount is not None else None,
                           status="awaiting_secure_confirmation", created_at=dt.datetime.now(),
                           request_key=request_key or None)
        s.add(row)
        s.flush()  # a concurrent copy with the same key fails here (unique), not after we answered
        return PendingOperation(row.reference, kind, summary, row.created_at, row.status)

    def credit_card_statement(self, customer_id: str, card_last4: Optional[str] = None) -> Statement:
        with self._tx() as s:
            self._customer_row(s, customer_id)
            if card_last4:
                card = self._card_row(s, customer_id, card_last4)
            else:
                card = s.scalar(select(CardRow).where(CardRow.customer_id == customer_id, CardRow.kind == "credit")
                                .order_by(CardRow.last4))
            if card is None or card.kind != "credit":
                raise errors.CardNotFound("no credit card", "没有找到您名下的这张信用卡，请核对卡号后四位。")
            row = s.scalar(select(StatementRow).where(StatementRow.card_number == card.number)
                           .order_by(StatementRow.period_end.desc()))
            return Statement(card.last4, row.period_start, row.period_end, _yuan(row.total_due_cents),
                             _yuan(row.minimum_due_cents), row.due_date, _yuan(row.paid_cents))

    def request_credit_card_repayment(self, customer_id: str, card_last4: str, amount: Decimal,
                                      from_last4: str, request_key: Optional[str] = None) -> PendingOperation:
        amount = valid_amount(amount)
        with self._tx() as s:
            if (earlier := self._requested(s, customer_id, request_key)) is not None:
                return earlier
        statement = self.credit_card_statement(customer_id, card_last4)
        if amount > statement.total_due - statement.paid_amount:
            raise errors.InvalidAmount("over the amount due", "还款金额不能超过本期待还金额。")
        with self._tx() as s:
            source = self._active_card(s, customer_id, from_last4)
            if _yuan(s.get(AccountRow, source.account_id).balance_cents) < amount:
                raise errors.InsufficientFunds("balance")
            return self._pending(s, customer_id, "credit_card_repayment",
                                 f"尾号{source.last4} 还款信用卡尾号{card_last4} {amount} 元", amount, request_key)

    def credit_card_products(self) -> list[str]:
        return list(CREDIT_CARD_PRODUCTS)

    def apply_credit_card(self, customer_id: Optional[str], product: str,
                          request_key: Optional[str] = None) -> PendingOperation:
        if product not in CREDIT_CARD_PRODUCTS:
            raise errors.BankingError(f"unknown product {product!r}", "暂不支持这个卡种，请从列表中选择。")
        with self._tx() as s:
            if (earlier := self._requested(s, customer_id, request_key)) is not None:
                return earlier
            return self._pending(s, customer_id, "credit_card_application", f"申请{product}", None, request_key)

    # branches and appointments ---------------------------------------------------------------------
    def branches(self, city: Optional[str] = None, district: Optional[str] = None) -> list[Branch]:
        with self._tx() as s:
            query = select(BranchRow).order_by(BranchRow.id)
            if city:
                query = query.where(BranchRow.city == city)
            if district:
                query = query.where(BranchRow.district == district)
            return [_branch(r) for r in s.scalars(query)]

    def branch(self, branch_id: str) -> Optional[Branch]:
        with self._tx() as s:
            row = s.get(BranchRow, str(branch_id))
            return _branch(row) if row else None

    def book_appointment(self, customer_id: Optional[str], branch_id: str, day: dt.date, slot: str,
                         service: str, amount: Optional[Decimal] = None,
                         request_key: Optional[str] = None) -> Appointment:
        with self._tx() as s:
            if (row := _earlier(s, AppointmentRow, customer_id, request_key)) is not None:
                return Appointment(row.reference, row.branch_id, row.day, row.slot, row.service,
                                   _yuan(row.amount_cents) if row.amount_cents is not None else None)
        branch = self.branch(branch_id)
        if branch is None:
            raise errors.UnknownBranch(branch_id)
        if day < self._today():
            raise errors.DateInPast(str(day))
        if not self.is_open(branch, day):
            raise errors.BranchClosed(f"{branch_id} closed on {day}")
        opens, closes = branch.weekday_hours[day.weekday()]
        try:
            start, end = (dt.time.fromisoformat(t) for t in slot.split("-"))
        except ValueError:
            raise errors.BankingError(f"bad slot {slot!r}", "预约时段不正确，请重新选择。") from None
        if not (opens <= start < end <= closes):
            raise errors.BankingError(f"slot {slot} outside hours", "这个时段网点不营业，请重新选择。")
        if amount is not None:
            amount = valid_amount(amount)
            if service == "大额取现" and amount >= LARGE_CASH and day <= self._today():
                raise errors.BookingTooLate(f"{amount} on {day}")
        with self._tx() as s:
            row = AppointmentRow(reference=_reference("YY"), customer_id=customer_id, branch_id=branch.id, day=day,
                                 slot=slot, service=service, amount_cents=_cents(amount) if amount else None,
                                 created_at=dt.datetime.now(), request_key=request_key or None)
            s.add(row)
            return Appointment(row.reference, branch.id, day, slot, service, amount)

    # public information ----------------------------------------------------------------------------
    def exchange_rates(self, currency: Optional[str] = None) -> list[ExchangeRate]:
        with self._tx() as s:
            query = select(RateRow).order_by(RateRow.currency)
            if currency:
                query = query.where(RateRow.currency == currency.upper())
            rates = [ExchangeRate(r.currency, r.name_zh, Decimal(r.buy), Decimal(r.sell), Decimal(r.cash_buy),
                                  Decimal(r.cash_sell), r.as_of) for r in s.scalars(query)]
        if currency and not rates:
            raise errors.UnknownCurrency(currency)
        return rates

    def wealth_products(self, max_risk: Optional[str] = None) -> list[WealthProduct]:
        allowed = RISK_ORDER[:RISK_ORDER.index(max_risk) + 1] if max_risk in RISK_ORDER else RISK_ORDER
        with self._tx() as s:
            return [WealthProduct(r.code, r.name, r.risk_level, r.term_days, r.expected_yield_text,
                                  _yuan(r.min_amount_cents))
                    for r in s.scalars(select(WealthRow).where(WealthRow.risk_level.in_(allowed))
                                       .order_by(WealthRow.risk_level, WealthRow.term_days))]

    def loan_products(self, loan_type: Optional[str] = None) -> list[LoanProduct]:
        with self._tx() as s:
            query = select(LoanRow).order_by(LoanRow.code)
            if loan_type:
                query = query.where(LoanRow.loan_type == loan_type)
            return [LoanProduct(r.code, r.loan_type, r.name, r.rate_text, _yuan(r.max_amount_cents),
                                r.max_term_months) for r in s.scalars(query)]

    # tickets ---------------------------------------------------------------------------------------
    def create_ticket(self, kind: str, summary: str, customer_id: Optional[str] = None,
                      priority: str = "normal", request_key: Optional[str] = None) -> Ticket:
        if priority not in ("normal", "urgent"):
            raise ValueError(f"priority must be normal or urgent, not {priority!r}")
        with self._tx() as s:
            if (earlier := _earlier(s, TicketRow, customer_id, request_key)) is not None:
                return _ticket(earlier)
            row = TicketRow(reference=_reference("GD"), kind=kind, customer_id=customer_id, summary=summary,
                            priority=priority, created_at=dt.datetime.now(), request_key=request_key or None)
            s.add(row)
            return _ticket(row)

    def add_ticket_details(self, reference: str, customer_id: Optional[str], details: str) -> Ticket:
        with self._tx() as s:
            row = s.get(TicketRow, reference)
            if row is None or row.customer_id != customer_id:
                raise errors.TicketNotFound(f"ticket {reference} not found")
            row.summary = f"{row.summary}\n补充：{details}"[:TICKET_SUMMARY_MAX]
            return _ticket(row)

    def tickets(self, customer_id: Optional[str] = None) -> list[Ticket]:
        with self._tx() as s:
            query = select(TicketRow).order_by(TicketRow.created_at)
            if customer_id:
                query = query.where(TicketRow.customer_id == customer_id)
            return [_ticket(r) for r in s.scalars(query)]


KEYED_TABLES = ("operations", "appointments", "tickets")


def _earlier(s: Session, row_class: type, customer_id: Optional[str], request_key: Optional[str]) -> Any:
    """The row an earlier request with this key created, if it is this customer's."""
    if not request_key:
        return None
    row = s.scalar(select(row_class).where(row_class.request_key == request_key))
    return row if row is not None and row.customer_id == customer_id else None


def _add_request_keys(engine: Engine) -> None:
    """Databases made before request keys get the column and its unique index."""
    for table in KEYED_TABLES:
        if "request_key" in {c["name"] for c in inspect(engine).get_columns(table)}:
            continue
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN request_key VARCHAR(64)"))
                conn.execute(text(f"CREATE UNIQUE INDEX IF NOT EXISTS ix_{table}_request_key ON {table} (request_key)"))
        except Exception:  # noqa: BLE001 - another process added it at the same moment
            if "request_key" not in {c["name"] for c in inspect(engine).get_columns(table)}:
                raise


def _customer(r: CustomerRow) -> Customer:
    return Customer(r.id, r.name, r.phone, r.id_number, r.wechat_openid)


def _card(r: CardRow) -> Card:
    return Card(r.last4, r.customer_id, r.kind, r.product, r.status, r.account_id)


def _account(r: AccountRow) -> Account:
    return Account(r.id, r.customer_id, r.kind, r.currency, _yuan(r.balance_cents))


def _branch(r: BranchRow) -> Branch:
    hours = {int(k): (dt.time.fromisoformat(v[0]), dt.time.fromisoformat(v[1]))
             for k, v in json.loads(r.hours_json).items()}
    return Branch(r.id, r.name, r.city, r.district, r.address, r.phone, hours, r.has_atm, r.foreign_exchange)


def _ticket(r: TicketRow) -> Ticket:
    return Ticket(r.reference, r.kind, r.customer_id, r.summary, r.priority, r.created_at)
