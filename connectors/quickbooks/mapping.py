"""QuickBooks Online records to normalised records: one mapper, over ``shapes`` Structs.

The read path decodes records straight into :mod:`shapes` (exact decimals, unused fields never
parsed); dicts (python-quickbooks answers on the write path, parsed with ``use_decimal``) are
converted to the same Structs first, so both go through the same field logic below.

Every function raises :class:`MappingError` with a human reason when a record cannot be
trusted; the connector turns that into a skipped record instead of stopping the sync.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
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

from . import shapes, trusted
from .fields import MAX_AMOUNT as MAX_AMOUNT
from .fields import MAX_DECIMALS as MAX_DECIMALS
from .fields import UPDATED as _UPDATED
from .fields import ZERO as _ZERO
from .fields import MappingError as MappingError
from .fields import amount as _amount
from .fields import clean_text as clean_text
from .fields import date_of as _date
from .fields import money as _money
from .fields import parse_time as parse_time

#: Marks a line syncd added, so a late fee is recognisable after a crash or a replay.
FEE_TAG = TAG_RE
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Enum members read through their class cost 0.2 us each (the metaclass' attribute lookup);
# read once here, they are plain globals.
_OPEN, _PAID, _VOIDED = InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.VOIDED
_PAYMENT, _CREDIT_NOTE = PaymentKind.PAYMENT, PaymentKind.CREDIT_NOTE


def _ref(ref: shapes.Ref | None) -> str | None:
    if ref is not None and ref.value not in (None, ""):
        return str(ref.value)
    return None


def _id(rec: shapes.Record) -> str:
    if rec.Id in (None, ""):
        raise MappingError("Id is missing")
    return str(rec.Id)


def _updated(rec: shapes.Record) -> datetime:
    meta = rec.MetaData
    return parse_time(meta.LastUpdatedTime if meta is not None else None, _UPDATED)


@functools.cache
def _iso_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@functools.lru_cache(maxsize=256)
def _checked_currency(code: str) -> str:
    if not _CURRENCY.match(code) or code not in _iso_currencies():
        raise MappingError(f"CurrencyRef is not an ISO 4217 currency code: {code!r}")
    return code


def _currency(rec: shapes.Record, home_currency: str) -> str:
    ref = rec.CurrencyRef
    code = ref.value if ref is not None else None
    if code.__class__ is not str:  # absent, or a number (which _ref words as text)
        code = _ref(ref)
    return _checked_currency(code or home_currency)


def is_deleted(rec: shapes.Record) -> bool:
    return str(rec.status or "").lower() == "deleted"


def deletion(entity: EntityKind, rec: shapes.Record, kind: PaymentKind | None = None) -> Deletion:
    return Deletion(entity, _id(rec), _updated(rec), kind)


def sub(raw: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    """A nested object, or an empty one when the provider sent anything else."""
    value = raw.get(field)
    return value if isinstance(value, Mapping) else {}


_ADDRESS_FIELDS = tuple(shapes.Address.__struct_fields__)


def address_lines(addr: shapes.Address | Mapping[str, Any]) -> tuple[str, ...]:
    """Billing address lines, most specific first: street lines, then city, region, postcode.
    (A dict for CompanyInfo's addresses, a Struct for customers'.)"""
    if isinstance(addr, Mapping):
        values = [str(addr[k]) if addr.get(k) else None for k in _ADDRESS_FIELDS]
    else:
        values = [getattr(addr, k) for k in _ADDRESS_FIELDS]
    line1, line2, line3, line4, line5, city, region, postcode, country = values
    lines = [v.strip() for v in (line1, line2, line3, line4, line5) if v]
    locality = " ".join(v.strip() for v in (city, region, postcode) if v)
    if locality:
        lines.append(locality)
    if country:
        lines.append(country.strip())
    return tuple(line for line in lines if line)


def _groups(ref: shapes.Ref | None, types: Mapping[str, str]) -> tuple[str, ...]:
    """The customer's type by name (QBO sends ``CustomerTypeRef`` with an id only)."""
    type_id = _ref(ref)
    if ref is None or type_id is None:
        return ()
    name = types.get(type_id) or ref.name
    return (str(name),) if name else ()


def type_id(rec: shapes.Customer) -> str | None:
    """The customer's ``CustomerTypeRef`` id, if it has one."""
    return _ref(rec.CustomerTypeRef)


def is_business(raw: Mapping[str, Any] | shapes.Customer) -> bool | None:
    """QBO has no business/consumer flag. A non-blank ``CompanyName`` is the business signal;
    its absence proves nothing (many bookkeepers type only a display name), so: None."""
    company = raw.get("CompanyName") if isinstance(raw, Mapping) else raw.CompanyName
    return True if isinstance(company, str) and company.strip() else None


_NO_ADDRESS = shapes.Address()
#: Country as typed -> alpha-2: a company's customers share a handful of spellings, and
#: resolving one (Babel's territory names, Unicode folding) costs several microseconds.
_COUNTRIES: dict[str | None, str | None] = {}


def _country(typed: str | None) -> str | None:
    # One lookup, never ``in`` then ``[]``: streams map in parallel threads, and another
    # thread may empty the cache between the two.
    found = _COUNTRIES.get(typed, _UNKNOWN)
    if found is not _UNKNOWN:
        return found  # type: ignore[return-value]  # a str or None once stored
    if len(_COUNTRIES) >= 1024:
        _COUNTRIES.clear()
    resolved = _COUNTRIES[typed] = countries.to_alpha2(typed)
    return resolved


_UNKNOWN = object()


def customer_of(
    rec: shapes.Customer,
    home_currency: str,
    types: Mapping[str, str],
    raw: Mapping[str, Any],
    raw_json: str | None = None,
) -> CustomerRecord:
    name = rec.DisplayName or rec.CompanyName or rec.FullyQualifiedName
    if not name or not clean_text(name):
        raise MappingError("customer has no DisplayName")
    email = rec.PrimaryEmailAddr.Address if rec.PrimaryEmailAddr else None
    addr = rec.BillAddr or _NO_ADDRESS
    phone = rec.PrimaryPhone.FreeFormNumber if rec.PrimaryPhone else None
    return trusted.customer_record(
        provider_id=_id(rec),
        name=clean_text(name),
        email=email.strip() if email else None,
        currency=_currency(rec, home_currency),
        updated_at=_updated(rec),
        active=bool(rec.Active),
        groups=_groups(rec.CustomerTypeRef, types),
        country=_country(addr.Country),
        is_business=is_business(rec),
        phone=phone.strip() or None if phone else None,
        address=address_lines(addr),
        raw=raw,
        raw_json=raw_json,
    )


def _is_voided(rec: shapes.Invoice, total: Decimal, balance: Decimal) -> bool:
    # QuickBooks keeps a voided invoice with zeroed amounts and "Voided" in its private note;
    # CDC may also flag it with a status.
    if str(rec.status or "").lower() == "voided":
        return True
    note = rec.PrivateNote or ""
    return total.is_zero() and balance.is_zero() and note.lstrip().lower().startswith("voided")


def _status(rec: shapes.Invoice, total: Decimal, balance: Decimal) -> InvoiceStatus:
    if rec.status is None and not balance.is_zero():  # the common case: open, not voided
        return _OPEN
    if _is_voided(rec, total, balance):
        return _VOIDED
    return _PAID if balance.is_zero() else _OPEN


def _line_amount(line: shapes.InvoiceLine) -> Decimal:
    """What a line contributes. Description-only lines carry no Amount; discounts reduce the
    total; a group (bundle) line may carry no Amount of its own, only its inner lines."""
    kind = line.DetailType
    if kind == "DiscountLineDetail":
        return -_money(line.Amount, "Amount", _ZERO)
    if kind == "GroupLineDetail" and line.Amount is None:
        group = line.GroupLineDetail
        inner = (group.lines if group else None) or []
        return sum((_money(x.Amount, "Amount", _ZERO) for x in inner), _ZERO)
    if kind == "SalesItemLineDetail":
        return _money(line.Amount, "Amount")
    return _money(line.Amount, "Amount", _ZERO)


def _line_item(line: shapes.InvoiceLine) -> str | None:
    detail = line.SalesItemLineDetail
    item = _ref(detail.ItemRef) if detail is not None else None
    if item is None and line.GroupLineDetail is not None:
        item = _ref(line.GroupLineDetail.GroupItemRef)
    return item


def invoice_lines(rec: shapes.Invoice) -> tuple[InvoiceLine, ...]:
    lines: list[InvoiceLine] = []
    append, new_line, money = lines.append, trusted.invoice_line, _money
    for line in rec.lines or ():
        kind = line.DetailType
        if kind == "SubTotalLineDetail":
            continue  # derived by QuickBooks, never sent back
        description = line.Description
        tag = None
        if description is not None:
            # Most lines carry no tag: a substring test spares them the regex.
            tag = FEE_TAG.search(description) if "[syncd:" in description else None
            # clean_text's common case inline: no control character, only the strip.
            description = (
                description.strip() if description.isprintable() else clean_text(description)
            )
        # A sales line with an item id as text is most lines: read inline, the rest in full.
        detail, value = line.SalesItemLineDetail, None
        if detail is not None and (ref := detail.ItemRef) is not None:
            value = ref.value
        item = value if value.__class__ is str and value else _line_item(line)
        line_id = line.Id
        append(
            new_line(  # positional, in InvoiceLine's field order
                line_id if line_id.__class__ is str or line_id is None else str(line_id),
                description,
                money(line.Amount, "Amount")
                if kind == "SalesItemLineDetail"
                else _line_amount(line),
                item,
                tag.group(1) if tag else None,
            )
        )
    return tuple(lines)


def invoice_of(
    rec: shapes.Invoice, home_currency: str, raw: Mapping[str, Any], raw_json: str | None = None
) -> InvoiceRecord:
    total = _amount(rec.TotalAmt, "TotalAmt")
    balance = _amount(rec.Balance, "Balance")
    if balance > total:
        raise MappingError(f"Balance {balance} exceeds TotalAmt {total}")
    customer_id = _ref(rec.CustomerRef)
    if customer_id is None:
        raise MappingError("CustomerRef is missing: the invoice belongs to no customer")
    status = _status(rec, total, balance)
    issue = _date(rec.TxnDate, "TxnDate")
    due = _date(rec.DueDate, "DueDate") or issue  # no DueDate: due on receipt, QBO's default
    if due is None and status is _OPEN:
        raise MappingError("neither DueDate nor TxnDate: nobody can say when it falls due")
    number, token = rec.DocNumber, rec.SyncToken
    return trusted.invoice_record(  # keywords evaluated in order: the first error is reported
        provider_id=_id(rec),
        number=clean_text(number) or None if number else None,
        customer_provider_id=customer_id,
        issue_date=issue,
        due_date=due,
        currency=_currency(rec, home_currency),
        total=total,
        balance=balance,
        status=status,
        updated_at=_updated(rec),
        version=str(token) if token is not None else None,
        lines=invoice_lines(rec),
        pay_url=rec.InvoiceLink or None,
        raw=raw,
        raw_json=raw_json,
    )


def payment_of(
    rec: shapes.Payment, home_currency: str, raw: Mapping[str, Any], raw_json: str | None = None
) -> PaymentRecord:
    allocations: list[Allocation] = []
    for line in rec.lines or ():
        amount = _money(line.Amount, "Amount", _ZERO)
        for linked in line.LinkedTxn or ():
            # A payment line can also consume a credit memo; only invoice links reduce balances.
            if linked.TxnType == "Invoice" and linked.TxnId:
                allocations.append(trusted.allocation(str(linked.TxnId), amount))
    total = _amount(rec.TotalAmt, "TotalAmt")
    return trusted.payment_record(
        provider_id=_id(rec),
        kind=_PAYMENT,
        customer_provider_id=_ref(rec.CustomerRef),
        date=_date(rec.TxnDate, "TxnDate"),
        currency=_currency(rec, home_currency),
        amount=total,
        unapplied=_amount(rec.UnappliedAmt, "UnappliedAmt", _ZERO),
        updated_at=_updated(rec),
        allocations=tuple(allocations),
        raw=raw,
        raw_json=raw_json,
    )


def credit_memo_of(
    rec: shapes.CreditMemo, home_currency: str, raw: Mapping[str, Any], raw_json: str | None = None
) -> PaymentRecord:
    """A credit memo's remaining credit is its ``Balance``; it reaches invoices through payments."""
    total = _money(rec.TotalAmt, "TotalAmt")
    return trusted.payment_record(
        provider_id=_id(rec),
        kind=_CREDIT_NOTE,
        customer_provider_id=_ref(rec.CustomerRef),
        date=_date(rec.TxnDate, "TxnDate"),
        currency=_currency(rec, home_currency),
        amount=total,
        unapplied=_money(rec.Balance, "Balance", total),
        updated_at=_updated(rec),
        raw=raw,
        raw_json=raw_json,
    )


# -- dicts (python-quickbooks answers) through the same mapper (via shapes.shape_of) -----


def customer(
    raw: Mapping[str, Any], home_currency: str, types: Mapping[str, str] | None = None
) -> CustomerRecord:
    return customer_of(shapes.shape_of(raw, shapes.Customer), home_currency, types or {}, raw)


def invoice(raw: Mapping[str, Any], home_currency: str) -> InvoiceRecord:
    return invoice_of(shapes.shape_of(raw, shapes.Invoice), home_currency, raw)


def payment(raw: Mapping[str, Any], home_currency: str) -> PaymentRecord:
    return payment_of(shapes.shape_of(raw, shapes.Payment), home_currency, raw)


def credit_memo(raw: Mapping[str, Any], home_currency: str) -> PaymentRecord:
    return credit_memo_of(shapes.shape_of(raw, shapes.CreditMemo), home_currency, raw)
