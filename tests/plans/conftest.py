"""Plans and settlements end to end: a provider sandbox (QuickBooks or Xero), a real SMTP
server, a backfilled store and the CLI. The org reviews nothing by default (``review =
"off"``) so that what waits for approval is exactly what always needs it: a plan's
confirmation and a settlement's credit note."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import get_currency_precision
from pypdf import PdfReader
from sqlalchemy import func, select

from syncd.config import load_config
from syncd.store.models import (
    Customer,
    Hold,
    Invoice,
    OutboxAction,
    PaymentPlan,
    Settlement,
)
from tests.review.conftest import World, make_world
from tests.support.smtp import smtp_server

SETTLEMENT_OPTIONS = {
    "quickbooks": 'settlement_item_id = "1"\n',
    "xero": 'settlement_account_code = "200"\n',
}


class LadderWorld:
    """The review world plus what plan and settlement tests do to the sandbox."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.provider = world.provider
        self.org = world.org
        if self.provider == "quickbooks":
            # Credits applied to the oldest invoice would not land on the settled one.
            world.bench.sandbox.control.settings(auto_apply_credit=False)

    def cli(self, *args: str, ok: bool = True) -> Any:
        return self.w.cli(*args, ok=ok)

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json").stdout)

    def today(self) -> date:
        tz = self.w.config.settings.org(self.org).timezone
        return self.w.now().astimezone(ZoneInfo(tz)).date()

    def advance_days(self, days: float) -> None:
        seconds = days * 86400
        if self.provider == "quickbooks":
            self.w.bench.sandbox.control.advance_clock(seconds=seconds)
        else:
            self.w.bench.control.advance(seconds)

    def pay(self, invoice_id: str, amount: Decimal) -> None:
        if self.provider == "quickbooks":
            self.w.bench.sandbox.control.add_payment(
                [{"invoice_id": invoice_id, "amount": str(amount)}]
            )
        else:
            self.w.bench.control.add_payment(invoice_id, str(amount))

    def truth_invoice(self, invoice_id: str) -> dict[str, Any]:
        truth = self._truth()
        key = "id" if self.provider == "quickbooks" else "invoice_id"
        return next(i for i in truth["invoices"] if i[key] == invoice_id)

    def _truth(self) -> dict[str, Any]:
        if self.provider == "quickbooks":
            return dict(self.w.bench.sandbox.control.truth())
        return dict(self.w.bench.control.truth())

    def truth_balance(self, invoice_id: str) -> Decimal:
        inv = self.truth_invoice(invoice_id)
        return Decimal(str(inv["balance"] if "balance" in inv else inv["amount_due"]))

    def credit_documents(self) -> list[dict[str, Any]]:
        truth = self._truth()
        if self.provider == "quickbooks":
            return list(truth["credit_memos"])
        return list(truth["credit_notes"])

    def debtor(self, *, invoices: int = 1) -> tuple[Customer, list[Invoice]]:
        """A customer with an email address and at least ``invoices`` overdue open invoices
        of one currency, each with a balance equal to its total and a plan action today."""
        planned = self.planned_invoices()
        with self.w.store.sessions() as s:
            for cust in s.scalars(select(Customer).order_by(Customer.provider_id)):
                if not cust.email:
                    continue
                rows = [
                    inv
                    for inv in s.scalars(
                        select(Invoice).where(
                            Invoice.customer_provider_id == cust.provider_id,
                            Invoice.status == "open",
                            Invoice.balance > 5,
                            Invoice.balance == Invoice.total,
                        )
                    )
                    if inv.provider_id in planned and inv.number
                ]
                currencies = {r.currency for r in rows}
                if len(rows) >= invoices and len(currencies) == 1:
                    s.expunge_all()
                    return cust, rows[:invoices]
        raise AssertionError("no suitable customer in the seeded company")

    def planned_invoices(self) -> set[str]:
        """Invoices the next cycle would act on (ordinary dunning)."""
        actions = json.loads(self.cli("plan", "--org", self.org, "--json").stdout)
        found: set[str] = set()
        for a in actions:
            if a["invoice"]:
                found.add(a["invoice"]["provider_id"])
            found.update(i["provider_id"] for i in a["invoices"])
        return found

    def outbox(self) -> list[OutboxAction]:
        return self.w.outbox()

    def use_plan_settings(self, settings: str) -> None:
        """Switch the org to a policy ``plans`` extending ``standard`` whose
        ``[payment_plan]`` table holds ``settings`` (TOML lines)."""
        path = self.w.config.path
        text = path.read_text(encoding="utf-8")
        text = text.replace('policy = "standard"\n', 'policy = "plans"\n')
        text += (
            '\n[policies.plans]\nextends = "standard"\n\n[policies.plans.payment_plan]\n' + settings
        )
        path.write_text(text, encoding="utf-8")
        self.w.config = load_config(path)

    def counts(self) -> tuple[int, ...]:
        with self.w.store.sessions() as s:
            return tuple(
                int(s.scalar(select(func.count()).select_from(m)) or 0)
                for m in (PaymentPlan, Settlement, Hold, OutboxAction)
            )


def with_settlement_options(world: World) -> World:
    path = world.config.path
    text = path.read_text(encoding="utf-8")
    text = text.replace("[orgs.options]\n", "[orgs.options]\n" + SETTLEMENT_OPTIONS[world.provider])
    path.write_text(text, encoding="utf-8")
    world.config = load_config(path)
    return world


@pytest.fixture(params=["quickbooks", "xero"])
def ladder(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[LadderWorld]:
    with smtp_server() as (inbox, port):
        for world in make_world(
            request.param, tmp_path, store_url, port, inbox, invoices=40, review='"off"'
        ):
            yield LadderWorld(with_settlement_options(world))


def overprecise(text: str, currency: str) -> list[str]:
    """Amounts in ``text`` with more decimals than ``currency`` has (as "765.810000")."""
    return re.findall(rf"\d\.\d{{{get_currency_precision(currency) + 1},}}", text)


def days_from(day: date, n: int) -> str:
    return (day + timedelta(days=n)).isoformat()


def pdf_text(message: Message) -> str:
    """The text of the one PDF ``message`` carries (the plan's schedule)."""
    parts = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1, "the confirmation carries the schedule as one PDF"
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(payload)).pages)
