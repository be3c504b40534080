"""Read-only checks that every write this org is configured for would be accepted.

Each finding names the ``[orgs.options]`` setting to change, so ``syncd check`` can tell the
owner exactly what to fix before the first fee or reminder fails at execution time. Nothing
here writes to QuickBooks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors.base import ConnectorError, FindingSeverity, PreflightFinding
from connectors.kit import countries

from .settings import QuickBooksOptions

#: Item types QBO accepts on a plain sales line with an income account.
FEE_ITEM_TYPES = ("Service", "NonInventory")
US_TAX_CODES = ("TAX", "NON")

Read = Callable[[str, str], Mapping[str, Any] | None]

OK, WARNING, ERROR = FindingSeverity.OK, FindingSeverity.WARNING, FindingSeverity.ERROR


def _finding(check: str, severity: FindingSeverity, detail: str) -> PreflightFinding:
    return PreflightFinding(check, severity, detail)


def findings(read: Read, options: QuickBooksOptions, company_id: str) -> list[PreflightFinding]:
    """The connection first, then every write check; a connection that fails is all there is."""
    try:
        info = read("CompanyInfo", company_id) or {}
        return [
            PreflightFinding(
                "connection",
                OK,
                f"connected to {info.get('CompanyName') or 'the company'} "
                f"(realm {company_id}, country {info.get('Country') or 'unknown'})",
            ),
            check_fee_item(read, options),
            check_tax_code(read, options, countries.to_alpha2(info.get("Country"))),
            check_reminders(info),
        ]
    except ConnectorError as exc:
        return [PreflightFinding("connection", ERROR, f"QuickBooks: {exc}")]


def check_fee_item(read: Read, options: QuickBooksOptions) -> PreflightFinding:
    check = "late_fee_item"
    item_id = options.late_fee_item_id
    if not item_id:
        return _finding(
            check,
            WARNING,
            "late_fee_item_id is not set in [orgs.options]: every late fee will fail. Set it to "
            "the Id of an active Service item booked to an income account (Sales > Products "
            "and services), or use a policy without fees.",
        )
    item = read("Item", item_id)
    if item is None:
        return _finding(
            check,
            ERROR,
            f'late_fee_item_id = "{item_id}" names no item in this QuickBooks company; set '
            "late_fee_item_id to the Id of an active Service item.",
        )
    name = item.get("Name") or item_id
    kind = item.get("Type")
    if not item.get("Active", True):
        return _finding(
            check,
            ERROR,
            f'late_fee_item_id = "{item_id}" ({name}) is inactive in QuickBooks; make it active '
            "again or set late_fee_item_id to an active Service item.",
        )
    if kind not in FEE_ITEM_TYPES:
        return _finding(
            check,
            ERROR,
            f'late_fee_item_id = "{item_id}" ({name}) is a {kind} item; late fees need a '
            "Service or Non-inventory item: set late_fee_item_id to one.",
        )
    account = item.get("IncomeAccountRef")
    if not isinstance(account, Mapping) or not account.get("value"):
        return _finding(
            check,
            ERROR,
            f'late_fee_item_id = "{item_id}" ({name}) has no income account; give the item '
            "an income account in QuickBooks.",
        )
    return _finding(
        check,
        OK,
        f'late-fee item "{name}" ({kind}, income account '
        f"{account.get('name') or account['value']})",
    )


def check_tax_code(read: Read, options: QuickBooksOptions, country: str | None) -> PreflightFinding:
    check = "late_fee_tax_code"
    code = options.late_fee_tax_code_id
    if country in (None, "US"):
        if code is None or code in US_TAX_CODES:
            return _finding(check, OK, f"late-fee lines are taxed as {code or 'NON'} (US company)")
        return _finding(
            check,
            ERROR,
            f'late_fee_tax_code_id = "{code}": a US company with automated sales tax accepts '
            'only "TAX" or "NON" on a line; set late_fee_tax_code_id to one of them.',
        )
    if not code:
        severity = ERROR if options.late_fee_item_id else WARNING
        return _finding(
            check,
            severity,
            f"late_fee_tax_code_id is not set in [orgs.options]: this {country} company refuses "
            "any invoice line without a tax code, so every late fee would fail. Set it to the "
            "Id of the tax code late fees carry (often the zero-rated or exempt code).",
        )
    tax = read("TaxCode", code)
    if tax is None:
        return _finding(
            check,
            ERROR,
            f'late_fee_tax_code_id = "{code}" names no tax code in this QuickBooks company.',
        )
    if not tax.get("Active", True):
        return _finding(
            check,
            ERROR,
            f'late_fee_tax_code_id = "{code}" ({tax.get("Name")}) is inactive; set '
            "late_fee_tax_code_id to an active tax code.",
        )
    return _finding(check, OK, f'late-fee lines carry tax code "{tax.get("Name") or code}"')


def check_reminders(info: Mapping[str, Any]) -> PreflightFinding:
    """QBO emails invoices from the company's own account, replying to its email address."""
    email = info.get("Email") if isinstance(info.get("Email"), Mapping) else {}
    if not email or not email.get("Address"):
        return _finding(
            "reminder_channel",
            WARNING,
            "the QuickBooks company has no email address (Settings > Company > Contact info): "
            "invoices sent through QuickBooks would carry no reply address.",
        )
    return _finding(
        "reminder_channel",
        OK,
        f"QuickBooks sends invoice emails for {info.get('CompanyName')} "
        f"(replies to {email['Address']})",
    )
