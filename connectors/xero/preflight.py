"""Read-only checks that every write this connection is configured for would be accepted.

Xero refuses a fee line whose account is archived or is not a revenue account, and one whose
``TaxType`` is not an active rate of this organisation that applies to revenue (``NONE``
does not exist in an Australian organisation, ``OUTPUT2`` means different rates in NZ and
the UK). These are found here, from ``GET /Accounts``, ``GET /TaxRates`` and
``GET /Organisation``, before a fee is ever charged; every finding names the option to set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.base import FindingSeverity, PermanentError, PreflightFinding

from .company import read_organisation

if TYPE_CHECKING:
    from .client import XeroConnector

OK, WARNING, ERROR = FindingSeverity.OK, FindingSeverity.WARNING, FindingSeverity.ERROR
#: Account types Xero accepts on a sales line as income.
REVENUE_TYPES = frozenset({"REVENUE", "SALES", "OTHERINCOME"})


def _rows(body: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    return [r for r in body.get(key) or [] if isinstance(r, dict)]


def check_account(accounts: list[dict[str, Any]], code: str | None) -> PreflightFinding:
    name = "late_fee_account_code"
    if not code:
        return PreflightFinding(
            name,
            ERROR,
            "no late_fee_account_code is set in [orgs.options]; Xero needs a "
            "revenue account for every fee line (e.g. 260 Other Revenue)",
        )
    found = next((a for a in accounts if str(a.get("Code") or "") == code), None)
    revenue = sorted(
        f"{a.get('Code')} {a.get('Name')}"
        for a in accounts
        if str(a.get("Class")) == "REVENUE" and str(a.get("Status")) == "ACTIVE" and a.get("Code")
    )
    hint = f"; active revenue accounts: {', '.join(revenue)}" if revenue else ""
    if found is None:
        return PreflightFinding(
            name,
            ERROR,
            f"account {code} does not exist in this Xero organisation; "
            f"set late_fee_account_code to one that does{hint}",
        )
    label = f"account {code} {found.get('Name')}"
    if str(found.get("Status") or "") != "ACTIVE":
        return PreflightFinding(
            name,
            ERROR,
            f"{label} is {found.get('Status')}; Xero refuses lines on it. "
            f"Set late_fee_account_code to an active revenue account{hint}",
        )
    if str(found.get("Class")) != "REVENUE" or str(found.get("Type")) not in REVENUE_TYPES:
        return PreflightFinding(
            name,
            ERROR,
            f"{label} is a {found.get('Class')} account ({found.get('Type')}), not "
            f"revenue; set late_fee_account_code to a revenue account{hint}",
        )
    return PreflightFinding(name, OK, f"{label} is an active revenue account")


def check_tax_type(rates: list[dict[str, Any]], tax_type: str) -> PreflightFinding:
    name = "late_fee_tax_type"
    usable = sorted(
        f"{r.get('TaxType')} ({r.get('Name')})"
        for r in rates
        if str(r.get("Status")) == "ACTIVE" and r.get("CanApplyToRevenue") is not False
    )
    hint = f"; this organisation's sales tax rates: {', '.join(usable)}" if usable else ""
    found = next((r for r in rates if str(r.get("TaxType") or "") == tax_type), None)
    if found is None:
        return PreflightFinding(
            name,
            ERROR,
            f"tax type {tax_type} does not exist in this Xero organisation; set "
            f"late_fee_tax_type in [orgs.options]{hint}",
        )
    label = f"tax type {tax_type} ({found.get('Name')})"
    if str(found.get("Status") or "") != "ACTIVE":
        return PreflightFinding(
            name,
            ERROR,
            f"{label} is {found.get('Status')}; set late_fee_tax_type to an active rate{hint}",
        )
    if found.get("CanApplyToRevenue") is False:
        return PreflightFinding(
            name, ERROR, f"{label} cannot be used on sales; set late_fee_tax_type{hint}"
        )
    rate = found.get("EffectiveRate")
    return PreflightFinding(name, OK, f"{label} is active, at {rate}%")


def check_item(items: list[dict[str, Any]] | None, code: str | None) -> PreflightFinding | None:
    if not code or items is None:
        return None
    found = next((i for i in items if str(i.get("Code") or "") == code), None)
    if found is None:
        return PreflightFinding(
            "late_fee_item_code",
            ERROR,
            f"item {code} does not exist in this Xero organisation; "
            "set late_fee_item_code to an existing item or remove it",
        )
    return PreflightFinding("late_fee_item_code", OK, f"item {code} exists")


def run(connector: XeroConnector) -> list[PreflightFinding]:
    """Pre-flight findings; reads only (Organisation, Accounts, TaxRates, Items if used)."""
    api, tenant, opts = connector.api, connector.tenant_id, connector.options
    findings: list[PreflightFinding] = []
    org = read_organisation(connector)
    findings.append(
        PreflightFinding(
            "organisation",
            OK,
            f"connected to {org.info.name} ({org.info.country}, {org.info.base_currency})",
        )
    )
    accounts = _rows(
        connector._json(lambda: api.get_accounts(tenant, _preload_content=False)), "Accounts"
    )
    rates = _rows(
        connector._json(lambda: api.get_tax_rates(tenant, _preload_content=False)), "TaxRates"
    )
    findings.append(check_account(accounts, opts.late_fee_account_code))
    findings.append(check_tax_type(rates, opts.late_fee_tax_type))
    if opts.late_fee_item_code:
        try:
            body = connector._json(lambda: api.get_items(tenant, _preload_content=False))
        except PermanentError as exc:
            findings.append(
                PreflightFinding("late_fee_item_code", WARNING, f"items could not be read: {exc}")
            )
        else:
            item = check_item(_rows(body, "Items"), opts.late_fee_item_code)
            if item is not None:
                findings.append(item)
    if org.lock_date is not None:
        findings.append(
            PreflightFinding(
                "lock_date",
                WARNING if opts.late_fee_mode == "line" else OK,
                f"invoices dated on or before {org.lock_date.isoformat()} are locked in Xero; "
                "late fees on them go on a separate fee invoice",
            )
        )
    status = str(org.raw.get("OrganisationStatus") or "ACTIVE")
    if status != "ACTIVE" or org.raw.get("IsDemoCompany") is True:
        findings.append(
            PreflightFinding(
                "reminder_channel",
                ERROR,
                f"the organisation is {status}"
                f"{' (a demo company)' if org.raw.get('IsDemoCompany') else ''}; Xero will not "
                "email invoices from it. Remind customers by SMTP instead",
            )
        )
        return findings
    findings.append(
        PreflightFinding(
            "reminder_channel",
            OK,
            "a provider_email step has Xero email the invoice to the contact's own "
            "addresses (POST /Invoices/{id}/Email); syncd's reminder emails go by SMTP",
        )
    )
    return findings
