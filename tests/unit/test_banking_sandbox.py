"""The sandbox bank enforces the rules a core banking system would (SQLite in a temp dir)."""
import datetime as dt
from decimal import Decimal

import pytest

from bot.banking import errors
from bot.banking.sandbox import SandboxBank

TODAY = dt.date(2026, 11, 24)  # a Tuesday


@pytest.fixture()
def bank(tmp_path):
    return SandboxBank(f"sqlite:///{tmp_path / 'bank.db'}", today=lambda: TODAY)


def test_seeding_is_idempotent_and_deterministic(tmp_path, bank):
    again = SandboxBank(f"sqlite:///{tmp_path / 'bank.db'}", today=lambda: TODAY)
    assert sorted(c.last4 for c in again.cards("C001")) == ["1024", "4872", "6688"]
    assert len(again.accounts("C001")) == 3
    other = SandboxBank(f"sqlite:///{tmp_path / 'other.db'}", today=lambda: TODAY)
    month = (TODAY - dt.timedelta(days=30), TODAY)
    assert [(t.booked_at, t.amount) for t in other.transactions("C001", *month)] == \
        [(t.booked_at, t.amount) for t in bank.transactions("C001", *month)]


def test_balances_of_debit_cards(bank):
    rows = bank.balances("C001")
    assert {card.last4 for card, _ in rows} == {"6688", "4872"}
    assert dict((c.last4, a.balance) for c, a in rows)["6688"] == Decimal("52380.50")
    with pytest.raises(errors.CardNotFound):
        bank.balances("C001", "0000")
    with pytest.raises(errors.UnknownCustomer):
        bank.cards("C999")


def test_transactions_are_filtered_by_date_and_newest_first(bank):
    start, end = TODAY - dt.timedelta(days=30), TODAY - dt.timedelta(days=10)
    items = bank.transactions("C001", start, end, card_last4="6688")
    assert items and all(start <= t.booked_at.date() <= end for t in items)
    assert [t.booked_at for t in items] == sorted((t.booked_at for t in items), reverse=True)
    assert {t.card_last4 for t in items} == {"6688"}


@pytest.mark.parametrize("amount, error", [
    (Decimal("0"), errors.InvalidAmount), (Decimal("-5"), errors.InvalidAmount),
    (Decimal("1.005"), errors.InvalidAmount), (Decimal("50000.01"), errors.LimitExceeded),
    (Decimal("9000"), errors.InsufficientFunds),  # card 4872 holds 8 120.00
])
def test_transfer_refusals(bank, amount, error):
    with pytest.raises(error):
        bank.request_transfer("C001", "4872", "张三", amount)


def test_daily_limit_counts_earlier_requests(bank):
    assert bank.transfer_limits("C001").used_today == 0
    bank.request_transfer("C001", "6688", "张三", Decimal("40000"))
    assert bank.transfer_limits("C001").used_today == Decimal("40000")


def test_a_valid_transfer_waits_for_secure_confirmation_and_moves_no_money(bank):
    before = {a.id: a.balance for a in bank.accounts("C001")}
    operation = bank.request_transfer("C001", "6688", "张三", Decimal("500"))
    assert operation.status == "awaiting_secure_confirmation" and operation.reference.startswith("OP")
    assert {a.id: a.balance for a in bank.accounts("C001")} == before


def test_unknown_payee_and_inactive_cards_are_refused(bank):
    with pytest.raises(errors.BankingError, match="unknown payee"):
        bank.request_transfer("C001", "6688", "陌生人", Decimal("10"))
    bank.report_card_loss("C001", "6688")
    with pytest.raises(errors.CardNotActive):
        bank.request_transfer("C001", "6688", "张三", Decimal("10"))


def test_card_loss_is_idempotent(bank):
    first = bank.report_card_loss("C001", "4872")
    second = bank.report_card_loss("C001", "4872")
    assert first.reference == second.reference
    assert {c.last4: c.status for c in bank.cards("C001")}["4872"] == "lost"


def test_credit_card_statement_and_repayment_bounds(bank):
    statement = bank.credit_card_statement("C001")
    assert statement.card_last4 == "1024" and statement.total_due > 0
    assert statement.minimum_due < statement.total_due and statement.due_date > statement.period_end
    with pytest.raises(errors.InvalidAmount):
        bank.request_credit_card_repayment("C001", "1024", statement.total_due + 1, "6688")
    op = bank.request_credit_card_repayment("C001", "1024", statement.minimum_due, "6688")
    assert op.kind == "credit_card_repayment"


def test_booking_rules(bank):
    with pytest.raises(errors.DateInPast):
        bank.book_appointment("C001", "BJ01", TODAY - dt.timedelta(days=1), "10:00-11:00", "开户")
    sunday = TODAY + dt.timedelta(days=5)
    with pytest.raises(errors.BranchClosed):
        bank.book_appointment("C001", "BJ02", sunday, "10:00-11:00", "开户")
    with pytest.raises(errors.BookingTooLate):
        bank.book_appointment("C001", "BJ01", TODAY, "10:00-11:00", "大额取现", Decimal("50000"))
    booked = bank.book_appointment("C001", "BJ01", TODAY + dt.timedelta(days=1), "10:00-11:00", "大额取现",
                                   Decimal("50000"))
    assert booked.reference.startswith("YY") and booked.amount == Decimal("50000")
    with pytest.raises(errors.BankingError):
        bank.book_appointment("C001", "BJ01", TODAY + dt.timedelta(days=1), "18:00-19:00", "开户")


def test_public_information(bank):
    assert {r.currency for r in bank.exchange_rates()} >= {"USD", "EUR", "JPY", "HKD"}
    assert bank.exchange_rates("usd")[0].name_zh == "美元"
    with pytest.raises(errors.UnknownCurrency):
        bank.exchange_rates("XYZ")
    assert {p.risk_level for p in bank.wealth_products(max_risk="R2")} == {"R1", "R2"}
    assert [p.loan_type for p in bank.loan_products("mortgage")] == ["mortgage"]
    assert {b.city for b in bank.branches("上海")} == {"上海"}


def test_tickets_and_wechat_binding(bank):
    ticket = bank.create_ticket("fraud", "冒充客服", "C001", "urgent")
    assert bank.tickets("C001") == [ticket]
    with pytest.raises(ValueError):
        bank.create_ticket("complaint", "x", priority="high")
    bank.bind_wechat("openid-1", "C002")
    assert bank.customer_by_wechat("openid-1").id == "C002"
    bank.bind_wechat("openid-1", "C003")
    assert bank.customer_by_wechat("openid-1").id == "C003" and bank.customer("C002").wechat_openid is None


def test_a_resent_confirmation_finds_its_operation_instead_of_creating_a_second(bank):
    first = bank.request_transfer("C001", "6688", "张三", Decimal("40000"), request_key="k" * 64)
    # the resend: the first copy's 40 000 already counts, so a new request would break the 50 000 limit
    again = bank.request_transfer("C001", "6688", "张三", Decimal("40000"), request_key="k" * 64)
    assert again.reference == first.reference
    assert bank.transfer_limits("C001").used_today == Decimal("40000")
    other = bank.request_transfer("C001", "6688", "张三", Decimal("10"), request_key="m" * 64)
    assert other.reference != first.reference  # another confirmation is another operation
    assert bank.apply_credit_card("C001", bank.credit_card_products()[0], request_key="c" * 64).reference == \
        bank.apply_credit_card("C001", bank.credit_card_products()[0], request_key="c" * 64).reference
    statement = bank.credit_card_statement("C001", "1024")
    repay = [bank.request_credit_card_repayment("C001", "1024", statement.minimum_due, "6688", request_key="r" * 64)
             for _ in range(2)]
    assert repay[0].reference == repay[1].reference
    branch = bank.branches("上海")[0]
    day = next(TODAY + dt.timedelta(days=d) for d in range(1, 8) if bank.is_open(branch, TODAY + dt.timedelta(days=d)))
    opens = branch.weekday_hours[day.weekday()][0]
    slot = f"{opens.strftime('%H:%M')}-{(dt.datetime.combine(day, opens) + dt.timedelta(hours=1)).strftime('%H:%M')}"
    bookings = [bank.book_appointment("C001", branch.id, day, slot, "开户", request_key="a" * 64) for _ in range(2)]
    assert bookings[0] == bookings[1]
    tickets = [bank.create_ticket("complaint", "多扣了手续费", "C001", request_key="t" * 64) for _ in range(2)]
    assert tickets[0].reference == tickets[1].reference and len(bank.tickets("C001")) == 1


def test_a_request_key_is_never_another_customers_operation(bank):
    from sqlalchemy.exc import IntegrityError

    bank.request_transfer("C001", "6688", "张三", Decimal("10"), request_key="k" * 64)
    with pytest.raises(IntegrityError):  # refused, never C001's operation handed to C002
        bank.apply_credit_card("C002", bank.credit_card_products()[0], request_key="k" * 64)


def test_banks_made_before_request_keys_are_upgraded(tmp_path):
    from sqlalchemy import create_engine, inspect, text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    SandboxBank(url, today=lambda: TODAY)
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        for table in ("operations", "appointments", "tickets"):
            conn.execute(text(f"DROP INDEX ix_{table}_request_key"))
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN request_key"))
    assert "request_key" not in {c["name"] for c in inspect(engine).get_columns("operations")}
    upgraded = SandboxBank(url, today=lambda: TODAY)
    first = upgraded.request_transfer("C001", "6688", "张三", Decimal("10"), request_key="k" * 64)
    assert upgraded.request_transfer("C001", "6688", "张三", Decimal("10"), request_key="k" * 64) == first
