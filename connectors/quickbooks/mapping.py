"""QuickBooks Online JSON (as python-quickbooks returns it, parsed with ``use_decimal``) to
normalised records.

Every function raises :class:`MappingError` with a human reason when a record cannot be
trusted; the connector turns that into a skipped record instead of stopping the sync.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import (
    Allocation,
    CustomerRecord,
    Deletion,
    EntityKind,
    InvoiceLine,
    InvoiceRecord,
    InvoiceStatus,
    PaymentKind,
    PaymentRecord,
)
from connectors.kit import TAG_RE

#: Marks a line syncd added, so a late fee is recognisable after a crash or a replay.
FEE_TAG = TAG_RE
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class MappingError(ValueError):
    pass


def parse_time(value: Any, field: str = "MetaData.LastUpdatedTime") -> datetime:
    """QuickBooks timestamps carry the company's offset (``2026-05-05T02:11:27-07:00``)."""
    if not isinstance(value, str) or not value:
        raise MappingError(f"{field} is missing")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"{field} is not an ISO timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise MappingError(f"{field} has no UTC offset: {value!r}")
    return parsed.astimezone(UTC)


def _date(raw: Mapping[str, Any], field: str) -> date | None:
    value = raw.get(field)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise MappingError(f"{field} is not a date: {value!r}") from None


def _money(raw: Mapping[str, Any], field: str, default: Decimal | None = None) -> Decimal:
    value = raw.get(field)
    if value is None:
        if default is not None:
            return default
        raise MappingError(f"{field} is missing")
    if isinstance(value, float):
        # python-quickbooks parses floats unless use_decimal is on; refuse rather than guess.
        raise MappingError(f"{field} arrived as a float; the client must parse decimals")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise MappingError(f"{field} is not a number: {value!r}") from None
    if not amount.is_finite():
        raise MappingError(f"{field} is not a finite number: {value!r}")
    return amount


def _ref(raw: Mapping[str, Any], field: str) -> str | None:
    ref = raw.get(field)
    if isinstance(ref, Mapping) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    return None


def _id(raw: Mapping[str, Any]) -> str:
    value = raw.get("Id")
    if value in (None, ""):
        raise MappingError("Id is missing")
    return str(value)


def _currency(raw: Mapping[str, Any], home_currency: str) -> str:
    code = _ref(raw, "CurrencyRef") or home_currency
    if not _CURRENCY.match(code):
        raise MappingError(f"CurrencyRef is not an ISO currency code: {code!r}")
    return code


def is_deleted(raw: Mapping[str, Any]) -> bool:
    return str(raw.get("status", "")).lower() == "deleted"


def deletion(
    entity: EntityKind, raw: Mapping[str, Any], kind: PaymentKind | None = None
) -> Deletion:
    meta = raw.get("MetaData") or {}
    return Deletion(entity, _id(raw), parse_time(meta.get("LastUpdatedTime")), kind)


def customer(raw: Mapping[str, Any], home_currency: str) -> CustomerRecord:
    name = raw.get("DisplayName") or raw.get("CompanyName") or raw.get("FullyQualifiedName")
    if not name:
        raise MappingError("customer has no DisplayName")
    email = (raw.get("PrimaryEmailAddr") or {}).get("Address") or None
    return CustomerRecord(
        provider_id=_id(raw),
        name=str(name),
        email=str(email).strip() if email else None,
        currency=_currency(raw, home_currency),
        updated_at=parse_time((raw.get("MetaData") or {}).get("LastUpdatedTime")),
        active=bool(raw.get("Active", True)),
        raw=raw,
    )


def _is_voided(raw: Mapping[str, Any], total: Decimal, balance: Decimal) -> bool:
    # QuickBooks keeps a voided invoice with zeroed amounts and "Voided" in its private note;
    # CDC may also flag it with a status.
    if str(raw.get("status", "")).lower() == "voided":
        return True
    note = str(raw.get("PrivateNote") or "")
    return total == 0 and balance == 0 and note.lstrip().lower().startswith("voided")


def invoice_lines(raw: Mapping[str, Any]) -> tuple[InvoiceLine, ...]:
    lines: list[InvoiceLine] = []
    for line in raw.get("Line") or []:
        if line.get("DetailType") == "SubTotalLineDetail":
            continue  # derived by QuickBooks, never sent back
        description = line.get("Description")
        tag = FEE_TAG.search(description or "")
        detail = line.get("SalesItemLineDetail") or {}
        lines.append(
            InvoiceLine(
                provider_line_id=str(line["Id"]) if line.get("Id") is not None else None,
                description=description,
                amount=_money(line, "Amount"),
                item_ref=_ref(detail, "ItemRef"),
                fee_key=tag.group(1) if tag else None,
            )
        )
    return tuple(lines)


def invoice(raw: Mapping[str, Any], home_currency: str) -> InvoiceRecord:
    total = _money(raw, "TotalAmt")
    balance = _money(raw, "Balance")
    customer_id = _ref(raw, "CustomerRef")
    if customer_id is None:
        raise MappingError("CustomerRef is missing")
    if _is_voided(raw, total, balance):
        status = InvoiceStatus.VOIDED
    elif balance > 0:
        status = InvoiceStatus.OPEN
    else:
        status = InvoiceStatus.PAID
    issue = _date(raw, "TxnDate")
    return InvoiceRecord(
        provider_id=_id(raw),
        number=str(raw["DocNumber"]) if raw.get("DocNumber") else None,
        customer_provider_id=customer_id,
        issue_date=issue,
        due_date=_date(raw, "DueDate") or issue,
        currency=_currency(raw, home_currency),
        total=total,
        balance=balance,
        status=status,
        updated_at=parse_time((raw.get("MetaData") or {}).get("LastUpdatedTime")),
        version=str(raw.get("SyncToken")) if raw.get("SyncToken") is not None else None,
        lines=invoice_lines(raw),
        pay_url=raw.get("InvoiceLink") or None,
        raw=raw,
    )


def payment(raw: Mapping[str, Any], home_currency: str) -> PaymentRecord:
    allocations: list[Allocation] = []
    for line in raw.get("Line") or []:
        amount = _money(line, "Amount", Decimal(0))
        for linked in line.get("LinkedTxn") or []:
            # A payment line can also consume a credit memo; only invoice links reduce balances.
            if linked.get("TxnType") == "Invoice" and linked.get("TxnId"):
                allocations.append(Allocation(str(linked["TxnId"]), amount))
    total = _money(raw, "TotalAmt")
    return PaymentRecord(
        provider_id=_id(raw),
        kind=PaymentKind.PAYMENT,
        customer_provider_id=_ref(raw, "CustomerRef"),
        date=_date(raw, "TxnDate"),
        currency=_currency(raw, home_currency),
        amount=total,
        unapplied=_money(raw, "UnappliedAmt", Decimal(0)),
        updated_at=parse_time((raw.get("MetaData") or {}).get("LastUpdatedTime")),
        allocations=tuple(allocations),
        raw=raw,
    )


def credit_memo(raw: Mapping[str, Any], home_currency: str) -> PaymentRecord:
    """A credit memo's remaining credit is its ``Balance``; it reaches invoices through payments."""
    total = _money(raw, "TotalAmt")
    return PaymentRecord(
        provider_id=_id(raw),
        kind=PaymentKind.CREDIT_NOTE,
        customer_provider_id=_ref(raw, "CustomerRef"),
        date=_date(raw, "TxnDate"),
        currency=_currency(raw, home_currency),
        amount=total,
        unapplied=_money(raw, "Balance", total),
        updated_at=parse_time((raw.get("MetaData") or {}).get("LastUpdatedTime")),
        raw=raw,
    )
