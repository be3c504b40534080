"""Issue 14, "statutory interest", end to end on the UK companies of both sandboxes (Xero's UK
edition, a QuickBooks company in GB): under the ``uk-statutory`` preset only GBP debts of
business customers (a group listed in ``business_groups``, or the provider's own sign of a
business) get interest and compensation; a customer nobody marks is held for review; a debt in
another currency gets none. The 30 June / 1 July boundary too."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from connectors.quickbooks.sandbox.sandbox import LATE_FEE_TAX_CODES
from syncd.cli.app import app
from syncd.config import load_config
from syncd.letters.statement import charge_kind
from syncd.store.models import Customer, Invoice, InvoiceLine, OutboxAction
from tests.connectors.quickbooks import conftest as qbo
from tests.connectors.xero import conftest as xero
from tests.support.smtp import smtp_server

# In force on 31 December 2024: 5.00; on 30 June 2025: 4.25 (the dates the Order looks at).
RATES = (
    '\n[dunning.rates]\nboe_base = [{ since = 2022-01-01, percent = "4.00" }, '
    '{ since = 2024-08-01, percent = "5.00" }, { since = 2025-05-08, percent = "4.25" }]\n'
)


#: Per provider: a business group its UK seed uses (Xero contact group, QuickBooks type).
GROUPS = {"xero": "Key accounts", "quickbooks": "Commercial"}


def uk_statutory(bench: Any, group: str) -> Any:
    text = bench.config.path.read_text(encoding="utf-8")
    text = text.replace('policy = "standard"', 'policy = "uk-statutory"')
    text = text.replace('review = "off"\n', f'review = "off"\nbusiness_groups = ["{group}"]\n')
    bench.config.path.write_text(text + RATES, encoding="utf-8")
    bench.config = load_config(bench.config.path)
    bench.syncer().backfill()
    return bench


@pytest.fixture(params=sorted(GROUPS))
def uk_company(
    request: pytest.FixtureRequest, tmp_path: Path, store_url: str
) -> Iterator[tuple[Any, str]]:
    group = GROUPS[request.param]
    if request.param == "xero":
        benches = xero.make_bench(tmp_path, store_url, invoices=120, region="UK", minute_limit=5000)
    else:
        # The VAT code late-fee lines carry, as `syncd sandbox --print-config` gives it.
        benches = qbo.make_bench(
            tmp_path,
            store_url,
            invoices=120,
            sandbox_options={"country": "GB"},
            late_fee_tax_code_id=LATE_FEE_TAX_CODES["GB"],
        )
    for bench in benches:
        if request.param == "quickbooks":
            overdue_abroad(bench)
        yield uk_statutory(bench, group), group


def overdue_abroad(bench: qbo.Bench) -> None:
    """A foreign-currency customer's overdue debt, so that the currency rule is exercised."""
    control = bench.sandbox.control
    truth = control.truth()
    abroad = next(c for c in truth["customers"] if c["currency"] != truth["home_currency"])
    today = bench.clock.now().date()
    control.create_invoice(
        abroad["id"],
        [{"amount": "800.00", "description": "Export order"}],
        txn_date=(today - timedelta(days=90)).isoformat(),
        due_date=(today - timedelta(days=60)).isoformat(),
    )


def plan(uk: Any) -> list[dict[str, Any]]:
    now = uk.clock.now().isoformat()
    result = CliRunner().invoke(
        app, ["--config", str(uk.config.path), "--now", now, "plan", "--json"]
    )
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def due_on(uk: Any, customer: str, due: str) -> str:
    """A GBP 1,000 invoice issued 1 June 2025 and due ``due``, made in the provider."""
    if isinstance(uk, xero.Bench):
        line = {
            "description": "Work",
            "quantity": "1",
            "unit_amount": "1000.00",
            "account_code": "200",
        }
        made = uk.control.create_invoice(
            contact_id=customer,
            status="AUTHORISED",
            date="2025-06-01",
            due_date=due,
            currency="GBP",
            lines=[line],
        )
        return str(made["invoice_id"])
    made = uk.sandbox.control.create_invoice(
        customer,
        [{"amount": "1000.00", "description": "Work"}],
        txn_date="2025-06-01",
        due_date=due,
    )
    return str(made["Id"])


def test_rate_follows_the_day_interest_starts_30_june_1_july(
    uk_company: tuple[Any, str],
) -> None:
    uk, group = uk_company
    with uk.store.sessions() as s:
        customer = next(
            c.provider_id
            for c in s.scalars(select(Customer))
            if group in (c.groups or []) and c.currency in (None, "GBP")
        )
    numbers = {due_on(uk, customer, due): due for due in ("2025-06-29", "2025-06-30", "2025-07-01")}
    uk.syncer().sync()
    rates = {}
    for a in plan(uk):
        invoice = (a["invoice"] or {}).get("provider_id")
        if a["action"] == "interest" and invoice in numbers:
            rates[numbers[invoice]] = a["reason"].rsplit(" at ", 1)[1]
    # Due 29 June: interest runs from 30 June, in the first half-year (rate on 31 December);
    # due 30 June or 1 July: from 1 July on, the second half-year (rate on 30 June).
    assert rates == {"2025-06-29": "13.00%", "2025-06-30": "12.25%", "2025-07-01": "12.25%"}


def test_uk_interest_only_for_gbp_debts_of_business_customers(
    uk_company: tuple[Any, str],
) -> None:
    uk, group = uk_company
    actions = plan(uk)
    with uk.store.sessions() as s:
        customers = list(s.scalars(select(Customer)))
        groups = {c.provider_id: c.groups or [] for c in customers}
        flagged = {c.provider_id for c in customers if c.is_business}  # a VAT / company number
        currency = {i.provider_id: i.currency for i in s.scalars(select(Invoice))}
    claims = [a for a in actions if a["action"] in ("interest", "compensation")]
    business = [a for a in claims if group in groups[a["customer"]] and not a["review"]]
    assert any(a["action"] == "interest" for a in business), "a GBP business debt is overdue"
    assert any(a["action"] == "compensation" for a in business)
    for a in claims:
        invoice = a["invoice"]["provider_id"]
        assert currency[invoice] == "GBP", (a, currency[invoice])  # USD/EUR debts: none
        assert a["currency"] == "GBP"
        if group not in groups[a["customer"]] and a["customer"] not in flagged:
            assert a["review"], a["reason"]  # not known to be a business: never automatic
    unmarked = [a for a in claims if group not in groups[a["customer"]]]
    unmarked = [a for a in unmarked if a["customer"] not in flagged]
    assert unmarked, "the seed has GBP debts of customers nobody marked as a business"
    # Non-GBP overdue debts are in the ledger, and got no claim.
    overdue = {i["provider_id"] for a in actions for i in a["invoices"] if i["days_overdue"] > 14}
    assert any(currency[i] != "GBP" for i in overdue)


def test_what_the_customer_reads_of_a_statutory_claim(
    uk_company: tuple[Any, str],
) -> None:
    """The interest and compensation lines are on the customer's invoice and in a demand
    letter's statement: they say what is charged and how it was worked out, not the policy,
    the step or what the engine skipped, and they are whole (not cut before syncd's tag).
    The email of a step that claims reaches only customers whose claim was made; for the
    others (not known to be a business) it waits for review with the claim."""
    uk, _group = uk_company
    now = uk.clock.now().isoformat()
    with smtp_server() as (inbox, port):
        with uk.config.path.open("a", encoding="utf-8") as f:
            f.write(
                f'\n[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
                'from_address = "Accounts <accounts@example.com>"\n'
            )
        result = CliRunner().invoke(
            app, ["--config", str(uk.config.path), "--now", now, "run-once", "--json"]
        )
    assert result.exit_code == 0, result.output
    assert inbox.messages, "the claims' emails went out with them"
    uk.syncer().sync()
    with uk.store.sessions() as s:
        lines = [ln.description or "" for ln in s.scalars(select(InvoiceLine))]
    charges = [d for d in lines if charge_kind(d) is not None]
    assert {charge_kind(d) for d in charges} == {"interest", "compensation"}, charges
    for d in charges:
        assert "uk-statutory" not in d and "step '" not in d and "missed" not in d, d
        assert "go-live" not in d and d.rstrip().endswith("]") and "[syncd:" in d, d
    head = r"Statutory interest: UK Late Payment Act interest, simple, 365-day year: \d+ day"
    assert any(re.match(head, d) for d in charges), charges
    head = r"Fixed-sum compensation: UK fixed compensation for a debt of \d+\.\d\d GBP \["
    assert any(re.match(head, d) for d in charges), charges
    with uk.store.sessions() as s:
        email_of = {c.provider_id: c.email or "" for c in s.scalars(select(Customer))}
        queued = list(s.scalars(select(OutboxAction)))
    claims = [a for a in queued if a.kind in ("interest", "compensation")]
    waiting = {a.customer_provider_id for a in claims if a.status == "awaiting_review"}
    made = {a.customer_provider_id for a in claims if a.status == "done"}
    sent_to = {r for m in inbox.messages for r in m.rcpt_tos}
    assert any(r in email_of[str(c)] for c in made for r in sent_to), "claims made: emailed"
    # Held with the claim (whatever else holds it too: a missing address releases it only
    # into review, since the reason is the plan's own).
    held = [a for a in queued if a.kind == "email" and a.customer_provider_id in waiting - made]
    assert held, "the seed has GBP debts of customers nobody marked as a business"
    for a in held:
        assert a.status == "awaiting_review", a.payload
        assert "a statutory claim that waits for review" in a.payload["review"], a.payload
        assert not any(r in email_of[str(a.customer_provider_id)] for r in sent_to)
