"""The dict mapper as it was before the fast read path (main 576a427), kept verbatim as the
oracle of ``test_qbo_fast_equivalence``; nothing outside the tests imports it.

QuickBooks Online JSON (as python-quickbooks returns it, parsed with ``use_decimal``) to
normalised records.

Every function raises :class:`MappingError` with a human reason when a record cannot be
trusted; the connector turns that into a skipped record instead of stopping the sync.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from babel.numbers import list_currencies

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
from connectors.kit import TAG_RE, countries

#: Marks a line syncd added, so a late fee is recognisable after a crash or a replay.
FEE_TAG = TAG_RE
_CURRENCY = re.compile(r"^[A-Z]{3}$")
#: Amounts at or beyond this are corrupt data, and would not fit the store's money columns.
MAX_AMOUNT = Decimal(10) ** 12
#: The store keeps six decimal places; QBO money has two.
MAX_DECIMALS = 6


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
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise MappingError(f"{field} is not a number: {value!r}") from None
    if not amount.is_finite():
        raise MappingError(f"{field} is not a finite number: {value!r}")
    if abs(amount) >= MAX_AMOUNT:
        raise MappingError(f"{field} {amount} is beyond any real invoice (10^12 or more)")
    if amount != amount.quantize(Decimal(1).scaleb(-MAX_DECIMALS), rounding=ROUND_DOWN):
        raise MappingError(f"{field} {amount} has more than {MAX_DECIMALS} decimal places")
    return amount


def _not_negative(amount: Decimal, field: str) -> Decimal:
    if amount < 0:
        raise MappingError(f"{field} is negative ({amount}); QuickBooks never sends that")
    return amount


def clean_text(value: Any) -> str:
    """Names and numbers as sent, minus control characters (a NUL byte breaks PostgreSQL).
    HTML and Unicode stay: escaping is the email renderer's job, not the mapper's."""
    text = str(value)
    if text.isprintable():  # no control character at all: the common case, decided in C
        return text.strip()
    return "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch) != "Cc").strip()


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


@functools.cache
def _iso_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def _currency(raw: Mapping[str, Any], home_currency: str) -> str:
    code = _ref(raw, "CurrencyRef") or home_currency
    if not _CURRENCY.match(code) or code not in _iso_currencies():
        raise MappingError(f"CurrencyRef is not an ISO 4217 currency code: {code!r}")
    return code


def is_deleted(raw: Mapping[str, Any]) -> bool:
    return str(raw.get("status", "")).lower() == "deleted"


def deletion(
    entity: EntityKind, raw: Mapping[str, Any], kind: PaymentKind | None = None
) -> Deletion:
    meta = raw.get("MetaData") or {}
    return Deletion(entity, _id(raw), parse_time(meta.get("LastUpdatedTime")), kind)


def sub(raw: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    """A nested object, or an empty one when the provider sent anything else."""
    value = raw.get(field)
    return value if isinstance(value, Mapping) else {}


def address_lines(addr: Mapping[str, Any]) -> tuple[str, ...]:
    """Billing address lines, most specific first: street lines, then city, region, postcode."""
    lines = [
        str(addr[k]).strip() for k in ("Line1", "Line2", "Line3", "Line4", "Line5") if addr.get(k)
    ]
    locality = " ".join(
        str(addr[k]).strip()
        for k in ("City", "CountrySubDivisionCode", "PostalCode")
        if addr.get(k)
    )
    if locality:
        lines.append(locality)
    if addr.get("Country"):
        lines.append(str(addr["Country"]).strip())
    return tuple(line for line in lines if line)


def _groups(raw: Mapping[str, Any], types: Mapping[str, str]) -> tuple[str, ...]:
    """The customer's type by name (QBO sends ``CustomerTypeRef`` with an id only)."""
    ref = raw.get("CustomerTypeRef")
    if not isinstance(ref, Mapping) or ref.get("value") in (None, ""):
        return ()
    name = types.get(str(ref["value"])) or ref.get("name")
    return (str(name),) if name else ()


def is_business(raw: Mapping[str, Any]) -> bool | None:
    """QBO has no business/consumer flag. A non-blank ``CompanyName`` is the business signal;
    its absence proves nothing (many bookkeepers type only a display name), so: None."""
    company = raw.get("CompanyName")
    return True if isinstance(company, str) and company.strip() else None


def customer(
    raw: Mapping[str, Any], home_currency: str, types: Mapping[str, str] | None = None
) -> CustomerRecord:
    name = raw.get("DisplayName") or raw.get("CompanyName") or raw.get("FullyQualifiedName")
    if not name or not clean_text(name):
        raise MappingError("customer has no DisplayName")
    email = (raw.get("PrimaryEmailAddr") or {}).get("Address") or None
    addr = sub(raw, "BillAddr")
    phone = (raw.get("PrimaryPhone") or {}).get("FreeFormNumber") or None
    return CustomerRecord(
        provider_id=_id(raw),
        name=clean_text(name),
        email=str(email).strip() if email else None,
        currency=_currency(raw, home_currency),
        updated_at=parse_time((raw.get("MetaData") or {}).get("LastUpdatedTime")),
        active=bool(raw.get("Active", True)),
        groups=_groups(raw, types or {}),
        country=countries.to_alpha2(addr.get("Country")),
        is_business=is_business(raw),
        phone=str(phone).strip() or None if phone else None,
        address=address_lines(addr),
        raw=raw,
    )


def _is_voided(raw: Mapping[str, Any], total: Decimal, balance: Decimal) -> bool:
    # QuickBooks keeps a voided invoice with zeroed amounts and "Voided" in its private note;
    # CDC may also flag it with a status.
    if str(raw.get("status", "")).lower() == "voided":
        return True
    note = str(raw.get("PrivateNote") or "")
    return total == 0 and balance == 0 and note.lstrip().lower().startswith("voided")


def _line_amount(line: Mapping[str, Any]) -> Decimal:
    """What a line contributes. Description-only lines carry no Amount; discounts reduce the
    total; a group (bundle) line may carry no Amount of its own, only its inner lines."""
    kind = line.get("DetailType")
    if kind == "DiscountLineDetail":
        return -_money(line, "Amount", Decimal(0))
    if kind == "GroupLineDetail" and line.get("Amount") is None:
        inner = sub(line, "GroupLineDetail").get("Line") or []
        return sum(
            (_money(x, "Amount", Decimal(0)) for x in inner if isinstance(x, Mapping)), Decimal(0)
        )
    if kind == "SalesItemLineDetail":
        return _money(line, "Amount")
    return _money(line, "Amount", Decimal(0))


def invoice_lines(raw: Mapping[str, Any]) -> tuple[InvoiceLine, ...]:
    lines: list[InvoiceLine] = []
    for line in raw.get("Line") or []:
        if not isinstance(line, Mapping) or line.get("DetailType") == "SubTotalLineDetail":
            continue  # derived by QuickBooks, never sent back
        description = line.get("Description")
        tag = FEE_TAG.search(description or "")
        item = _ref(sub(line, "SalesItemLineDetail"), "ItemRef") or _ref(
            sub(line, "GroupLineDetail"), "GroupItemRef"
        )
        lines.append(
            InvoiceLine(
                provider_line_id=str(line["Id"]) if line.get("Id") is not None else None,
                description=clean_text(description) if description is not None else None,
                amount=_line_amount(line),
                item_ref=item,
                fee_key=tag.group(1) if tag else None,
            )
        )
    return tuple(lines)


def invoice(raw: Mapping[str, Any], home_currency: str) -> InvoiceRecord:
    total = _not_negative(_money(raw, "TotalAmt"), "TotalAmt")
    balance = _not_negative(_money(raw, "Balance"), "Balance")
    if balance > total:
        raise MappingError(f"Balance {balance} exceeds TotalAmt {total}")
    customer_id = _ref(raw, "CustomerRef")
    if customer_id is None:
        raise MappingError("CustomerRef is missing: the invoice belongs to no customer")
    if _is_voided(raw, total, balance):
        status = InvoiceStatus.VOIDED
    elif balance > 0:
        status = InvoiceStatus.OPEN
    else:
        status = InvoiceStatus.PAID
    issue = _date(raw, "TxnDate")
    due = _date(raw, "DueDate") or issue  # no DueDate: due on receipt, as QBO's default term
    if due is None and status is InvoiceStatus.OPEN:
        raise MappingError("neither DueDate nor TxnDate: nobody can say when it falls due")
    return InvoiceRecord(
        provider_id=_id(raw),
        number=clean_text(raw["DocNumber"]) or None if raw.get("DocNumber") else None,
        customer_provider_id=customer_id,
        issue_date=issue,
        due_date=due,
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
    total = _not_negative(_money(raw, "TotalAmt"), "TotalAmt")
    return PaymentRecord(
        provider_id=_id(raw),
        kind=PaymentKind.PAYMENT,
        customer_provider_id=_ref(raw, "CustomerRef"),
        date=_date(raw, "TxnDate"),
        currency=_currency(raw, home_currency),
        amount=total,
        unapplied=_not_negative(_money(raw, "UnappliedAmt", Decimal(0)), "UnappliedAmt"),
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


def map_row(
    entity: str, raw: Any, home: str, type_names: Any
) -> CustomerRecord | InvoiceRecord | PaymentRecord | Deletion | None:
    """The old ``pages._map`` with its skip rule: None where the old builder skipped."""
    from decimal import InvalidOperation as _Invalid

    kinds = {
        "Customer": EntityKind.CUSTOMERS,
        "Invoice": EntityKind.INVOICES,
        "Payment": EntityKind.PAYMENTS,
        "CreditMemo": EntityKind.PAYMENTS,
    }
    try:
        if not isinstance(raw, Mapping):
            return None
        if is_deleted(raw):
            pk = {"CreditMemo": PaymentKind.CREDIT_NOTE, "Payment": PaymentKind.PAYMENT}
            return deletion(kinds[entity], raw, pk.get(entity))
        if entity == "Customer":
            return customer(raw, home, type_names(raw))
        if entity == "Invoice":
            return invoice(raw, home)
        if entity == "Payment":
            return payment(raw, home)
        return credit_memo(raw, home)
    except (MappingError, TypeError, ValueError, AttributeError, KeyError, _Invalid):
        return None
