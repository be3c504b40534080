"""Checks that read only the store: customers syncd could not email, and reference rates
that do not reach the dates a policy's interest needs."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import FindingSeverity
from policies import DunningInput, PolicyConfig, PolicySettings
from policies.interest import MissingRate, statutory_interest
from policies.rules import select_policy

from ..review.address import (
    NO_ADDRESS,
    address_problem,
    bill_emails,
    bill_field,
    email_addresses,
    read_email_field,
    unusable_entries,
)
from ..store.models import Customer, Invoice
from .model import Finding

_PROVIDER = {"quickbooks": "QuickBooks", "xero": "Xero"}


def _amounts(invoices: list[Invoice]) -> str:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for inv in invoices:
        sums[inv.currency] += inv.balance
    return ", ".join(f"{cur} {amount:,.2f}" for cur, amount in sorted(sums.items()))


def customers_without_email(
    session: Session, org: str, org_id: int, connector: str, *, dunned: set[str] | None = None
) -> list[Finding]:
    """Customers with open invoices and no address: listed, each with what will happen.

    ``dunned`` limits the list to customers a policy applies to (rules may exclude some)."""
    provider = _PROVIDER.get(connector, connector)
    open_invoices: dict[str, list[Invoice]] = defaultdict(list)
    for inv in session.scalars(
        select(Invoice).where(
            Invoice.org_id == org_id, Invoice.status == "open", Invoice.balance > 0
        )
    ):
        open_invoices[inv.customer_provider_id].append(inv)
    customers = {
        c.provider_id: c for c in session.scalars(select(Customer).where(Customer.org_id == org_id))
    }
    order = sorted(open_invoices, key=lambda c: (customers[c].name if c in customers else c, c))
    return [
        _no_email(org, cid, customers.get(cid), open_invoices[cid], provider)
        for cid in order
        if not (cid in customers and email_addresses(customers[cid].email))
        and (dunned is None or cid in dunned)
    ]


def _no_email(
    org: str, customer_id: str, cust: Customer | None, invoices: list[Invoice], provider: str
) -> Finding:
    invoices = sorted(invoices, key=lambda i: i.number or i.provider_id)
    name = cust.name if cust is not None else "(customer not synced)"
    numbers = ", ".join(i.number or i.provider_id for i in invoices[:8])
    if len(invoices) > 8:
        numbers += f" and {len(invoices) - 8} more"
    data = {
        "customer": customer_id,
        "customer_name": name,
        "open_invoices": len(invoices),
        "balance": _amounts(invoices),
    }
    where = (
        f"{name} (id {customer_id}), {len(invoices)} open invoice(s) {numbers}, {data['balance']}"
    )
    own = cust.email if cust is not None else None
    bad = list(read_email_field(own).bad)
    if bad:
        data["email_field"], data["unusable"] = str(own).strip(), bad
    entries = unusable_entries(own)
    # The mailer's own fallback: the first invoice that names billing addresses, all of them.
    fallback = next((found for inv in invoices if (found := bill_emails(inv.raw))), [])
    if fallback:
        plural = "es" if len(fallback) > 1 else ""
        on_customer = (
            f"the customer's email field is not usable ({entries})"
            if entries
            else "no email on the customer"
        )
        return Finding(
            org,
            "customer_email",
            FindingSeverity.WARNING,
            f"{where}: {on_customer}; reminders go to the invoice's billing "
            f"address{plural} {', '.join(fallback)}",
            {**data, "instead": "invoice billing email"},
        )
    problem = address_problem(own, (bill_field(inv.raw) for inv in invoices))
    fix = "Correct the address" if problem != NO_ADDRESS else "Add an address to the customer"
    return Finding(
        org,
        "customer_email",
        FindingSeverity.ERROR,
        f"{where}: {_unusable(problem)}, so no reminder email can be sent: each email action "
        f"for this customer is held for review with that reason (`syncd review`); fees and "
        f"notes still apply. {fix} in {provider}: the next sync releases the held emails.",
        {**data, "instead": "no reminder email; the action is held for review"},
    )


def _unusable(problem: str) -> str:
    """``address_problem``'s wording as the check has always said "no email address"."""
    return "no email address" if problem == NO_ADDRESS else problem.removeprefix("has ")


def dunned_customers(
    default_policy: str, settings: PolicySettings, inputs: list[DunningInput]
) -> set[str]:
    """Customers with at least one open invoice that no rule excludes from dunning."""
    return {
        item.invoice.customer_id
        for item in inputs
        if not select_policy(settings.rules, default_policy, item.invoice, item.customer).excluded
    }


def reference_rates(
    org: str,
    default_policy: str,
    policies: dict[str, PolicyConfig],
    settings: PolicySettings,
    inputs: list[DunningInput],
    today: date,
) -> list[Finding]:
    """Statutory interest needs a rate for every day it runs: try the engine's own
    calculation for each policy and due date the open invoices use, up to today."""
    missing: dict[tuple[str, str], list[str]] = defaultdict(list)
    tried: set[tuple[str, date]] = set()
    uses_interest = False
    for item in inputs:
        chosen = select_policy(settings.rules, default_policy, item.invoice, item.customer)
        policy = policies.get(chosen.policy or "")
        interest = policy.interest if policy is not None else None
        if interest is None or item.invoice.currency not in interest.applies_to():
            continue
        uses_interest = True
        key = (chosen.policy or "", item.invoice.due_date)
        if key in tried or item.invoice.due_date >= today:
            continue
        tried.add(key)
        try:
            statutory_interest(interest, settings.rates, item.invoice, item.invoice.due_date, today)
        except MissingRate as exc:
            missing[(chosen.policy or "", str(exc))].append(item.invoice.number)
    if not uses_interest:
        return []
    if not missing:
        return [
            Finding(
                org,
                "reference_rates",
                FindingSeverity.OK,
                "the reference-rate tables cover every day the open invoices' interest needs",
            )
        ]
    return [
        Finding(
            org,
            "reference_rates",
            FindingSeverity.ERROR,
            f"policy {policy!r}: {why} (needed by invoice(s) {', '.join(sorted(numbers)[:8])}"
            f"{' and more' if len(numbers) > 8 else ''}); add the rate to [dunning.rates]",
            {"policy": policy, "invoices": sorted(numbers)},
        )
        for (policy, why), numbers in sorted(missing.items())
    ]
