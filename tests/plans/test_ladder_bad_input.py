"""Every bad input to ``payment-plan create`` and ``settle`` is one clear line on stderr,
exit status 2, no traceback, and nothing changes: no plan, settlement, hold or outbox row."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from syncd.store.models import Customer, Invoice
from tests.plans.conftest import LadderWorld, days_from


def _refused(ladder: LadderWorld, args: list[str], message: str) -> None:
    before = ladder.counts()
    result = ladder.cli(*args, ok=False)
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert ladder.counts() == before


def test_bad_plans_and_settlements_change_nothing(ladder: LadderWorld) -> None:
    customer, (invoice,) = ladder.debtor()
    today = ladder.today()
    with ladder.w.store.sessions() as s:
        paid = s.scalars(select(Invoice).where(Invoice.status == "paid")).first()
        other = s.scalars(
            select(Invoice).where(
                Invoice.status == "open",
                Invoice.customer_provider_id != customer.provider_id,
            )
        ).first()
        assert paid is not None and other is not None
        owner = s.scalar(
            select(Customer.name).where(Customer.provider_id == other.customer_provider_id)
        )
        s.expunge_all()
    plan = ["payment-plan", "create", "--org", ladder.org, "--customer", customer.provider_id]
    when = ["--every", "month", "--first", days_from(today, 7)]
    number = str(invoice.number)
    balance = invoice.balance

    _refused(ladder, [*plan, "--invoice", "NO-SUCH-1", "--instalments", "3", *when],
             "no invoice 'NO-SUCH-1'")  # fmt: skip
    _refused(ladder, [*plan, "--invoice", paid.provider_id, "--instalments", "2", *when],
             "belongs to " if paid.customer_provider_id != customer.provider_id
             else "nothing left to pay")  # fmt: skip
    # Whose it is, by name, and whose it is not (so the right customer can be given).
    _refused(ladder, [*plan, "--invoice", number, "--invoice", other.provider_id,
                      "--instalments", "2", *when],
             f"invoice {other.number} belongs to {owner}, not to {customer.name}")  # fmt: skip
    _refused(ladder, [*plan, "--invoice", number, "--instalments", "3", *when,
                      "--deposit", str(balance + 1)], "not below the covered balance")  # fmt: skip
    cents = int(balance * 100) + 1  # more instalments than there are cents to split
    _refused(ladder, [*plan, "--invoice", number, "--instalments", "120", "--every", "week",
                      "--first", days_from(today, 7), "--deposit", str(balance - Decimal("0.01"))],
             "cannot be split into 120 instalments")  # fmt: skip
    assert cents > 120
    _refused(ladder, [*plan, "--invoice", number, "--instalments", "3", "--every", "fortnight",
                      "--first", days_from(today, 7)], "--every must be")  # fmt: skip
    _refused(ladder, [*plan, "--invoice", number, "--instalments", "3", "--every", "month",
                      "--first", days_from(today, -1)], "is in the past")  # fmt: skip
    unknown = ["payment-plan", "create", "--org", ladder.org, "--customer", "nobody-here"]
    _refused(ladder, [*unknown, "--invoice", number, "--instalments", "2", *when],
             "no customer 'nobody-here'")  # fmt: skip

    settle = ["settle", "--org", ladder.org, "--pay-by", days_from(today, 10)]
    # Amounts as a bookkeeper writes them (stored ones carry six decimal places).
    shown = f"{balance.quantize(Decimal('0.01'))} {invoice.currency}"
    _refused(ladder, [*settle, "--invoice", number, "--amount", str(balance + Decimal("0.01"))],
             f"is above the invoice's balance {shown}")  # fmt: skip
    _refused(ladder, [*settle, "--invoice", paid.provider_id, "--amount", "1.00"],
             "nothing left to settle")  # fmt: skip
    _refused(ladder, [*settle, "--invoice", "NO-SUCH-1", "--amount", "1.00"],
             "no invoice 'NO-SUCH-1'")  # fmt: skip
    _refused(ladder, [*settle, "--invoice", number, "--amount", "lots"], "--amount expects")
    _refused(ladder, ["settle", "--org", ladder.org, "--invoice", number], "--amount, --pay-by")

    # The same invoice cannot be under two agreements at once.
    ladder.cli(
        *settle, "--invoice", number, "--amount", str((balance / 2).quantize(Decimal("0.01")))
    )
    _refused(ladder, [*plan, "--invoice", number, "--instalments", "2", *when],
             "is already under settlement/")  # fmt: skip
    with ladder.w.store.sessions() as s:
        assert s.scalar(select(Customer.email).where(Customer.id == customer.id))
    # With one org configured, --org may be left out, as for plan and review.
    listed = [(r["invoice"], r["invoice_number"]) for r in ladder.cli_json("settle", "list")]
    assert listed == [(invoice.provider_id, invoice.number)]
    assert ladder.cli_json("payment-plan", "list") == []
    _refused(ladder, ["settle", "list", "--org", "nope"], "no org named 'nope'")
