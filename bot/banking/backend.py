"""The interface between the assistant and the bank's systems.

The sandbox (bot/banking/sandbox.py) implements it on a demo database; a real
core-banking client implements the same methods. Operations that move money
only create a PendingOperation the customer approves in the bank app.
"""
from __future__ import annotations

import abc
import datetime as dt
from decimal import Decimal
from typing import Optional

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


class BankingBackend(abc.ABC):
    # customers and identity
    @abc.abstractmethod
    def customer(self, customer_id: str) -> Optional[Customer]: ...

    @abc.abstractmethod
    def customer_by_wechat(self, openid: str) -> Optional[Customer]: ...

    @abc.abstractmethod
    def bind_wechat(self, openid: str, customer_id: str) -> None: ...

    # accounts and cards
    @abc.abstractmethod
    def cards(self, customer_id: str) -> list[Card]: ...

    @abc.abstractmethod
    def accounts(self, customer_id: str) -> list[Account]: ...

    @abc.abstractmethod
    def balances(self, customer_id: str, card_last4: Optional[str] = None) -> list[tuple[Card, Account]]: ...

    @abc.abstractmethod
    def transactions(self, customer_id: str, start: dt.date, end: dt.date,
                     card_last4: Optional[str] = None, limit: int = 50) -> list[Transaction]:
        """Newest first, both days inclusive."""

    @abc.abstractmethod
    def report_card_loss(self, customer_id: str, card_last4: str) -> CardLossReceipt:
        """Marks the card lost (frozen at once); a second report returns the first receipt."""

    # transfers, repayments and card applications (all end in a secure confirmation in the app).
    # `request_key` (here, for appointments and for tickets) names the customer's message that asked:
    # a request with a key already used returns what that key created instead of creating a second
    # one (the same message, resent).
    @abc.abstractmethod
    def transfer_limits(self, customer_id: str) -> TransferLimits: ...

    @abc.abstractmethod
    def payees(self, customer_id: str) -> list[Payee]: ...

    @abc.abstractmethod
    def request_transfer(self, customer_id: str, from_last4: str, payee_name: str, amount: Decimal,
                         payee_account: Optional[str] = None, request_key: Optional[str] = None
                         ) -> PendingOperation: ...

    @abc.abstractmethod
    def credit_card_statement(self, customer_id: str, card_last4: Optional[str] = None) -> Statement: ...

    @abc.abstractmethod
    def request_credit_card_repayment(self, customer_id: str, card_last4: str, amount: Decimal,
                                      from_last4: str, request_key: Optional[str] = None) -> PendingOperation: ...

    @abc.abstractmethod
    def credit_card_products(self) -> list[str]: ...

    @abc.abstractmethod
    def apply_credit_card(self, customer_id: Optional[str], product: str,
                          request_key: Optional[str] = None) -> PendingOperation: ...

    # branches and appointments
    @abc.abstractmethod
    def branches(self, city: Optional[str] = None, district: Optional[str] = None) -> list[Branch]: ...

    @abc.abstractmethod
    def branch(self, branch_id: str) -> Optional[Branch]: ...

    def is_open(self, branch: Branch, day: dt.date) -> bool:
        return day.weekday() in branch.weekday_hours

    @abc.abstractmethod
    def book_appointment(self, customer_id: Optional[str], branch_id: str, day: dt.date, slot: str,
                         service: str, amount: Optional[Decimal] = None,
                         request_key: Optional[str] = None) -> Appointment: ...

    # public information
    @abc.abstractmethod
    def exchange_rates(self, currency: Optional[str] = None) -> list[ExchangeRate]: ...

    @abc.abstractmethod
    def wealth_products(self, max_risk: Optional[str] = None) -> list[WealthProduct]: ...

    @abc.abstractmethod
    def loan_products(self, loan_type: Optional[str] = None) -> list[LoanProduct]: ...

    # service tickets
    @abc.abstractmethod
    def create_ticket(self, kind: str, summary: str, customer_id: Optional[str] = None,
                      priority: str = "normal", request_key: Optional[str] = None) -> Ticket: ...

    @abc.abstractmethod
    def tickets(self, customer_id: Optional[str] = None) -> list[Ticket]: ...

    @abc.abstractmethod
    def add_ticket_details(self, reference: str, customer_id: Optional[str], details: str) -> Ticket:
        """Append what the customer added later; only the ticket's own customer may add to it."""
