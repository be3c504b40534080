"""The organisation's records, held the way Xero holds them.

Plain dataclasses with Decimal money and aware datetimes; derived figures
(``amount_due``) are properties so they can never drift from their inputs.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar, cast

from .money import ZERO, cents

# Records have a field called ``date``; this alias keeps annotations unambiguous.
Day = date


class _StampWrites:
    """How many times any record's ``updated`` has been assigned (only ever grows)."""

    count = 0


def stamp_writes() -> int:
    return _StampWrites.count


class Stamped:
    """A record with an ``UpdatedDateUTC``: every assignment to ``updated`` is counted.

    The cached list order (ordercache.py) depends on every record's stamp; with the count
    unchanged it knows no stamp moved without reading 100,000 records on every page. The
    count goes up after the new stamp is in place, so a reader that saw the old count can
    only have read the old stamps.
    """

    __slots__ = ()

    #: The set of ids an invoice table keeps of the invoices written (balances.py); an
    #: invoice in such a table notes its id there when a field a balance reads is assigned.
    _owed_by: ClassVar[set[str] | None] = None

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if name == "updated":
            _StampWrites.count += 1
        elif name in OWED_FIELDS:
            owner = self._owed_by
            if owner is not None:
                owner.add(self.invoice_id)  # type: ignore[attr-defined]  # only invoices own one


_S = TypeVar("_S", bound=type[Stamped])
_FACTORY: Any = object()  # "no argument given" for a field with a default factory


def direct_init(cls: _S) -> _S:
    """Replace the dataclass ``__init__`` with one that stores each field straight in the
    instance, not through :meth:`Stamped.__setattr__`.

    Seeding 100,000 invoices builds some 350,000 stamped records, and calling the Python
    ``__setattr__`` for each of their fields cost about a second of the sandbox's start.  A
    record being built is in no table yet (no ``_owed_by`` to tell), so the only effect
    skipped would be the count of ``updated`` writes: it goes up once, as before.  Same
    signature, defaults and default factories as the dataclass's own ``__init__``.
    """
    declared = fields(cast(Any, cls))
    names = [f.name for f in declared]
    env: dict[str, Any] = {"_set": object.__setattr__, "_writes": _StampWrites, "_F": _FACTORY}
    params, body = [], []
    for f in declared:
        value = f.name
        if f.default is not MISSING:
            env[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not MISSING:
            env[f"_f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_F")
            value = f"_f_{f.name}() if {f.name} is _F else {f.name}"
        else:
            params.append(f.name)
        body.append(f"    _set(self, {f.name!r}, {value})\n")
    if "updated" in names:
        body.append("    _writes.count += 1\n")
    source = f"def __init__(self, {', '.join(params)}):\n{''.join(body)}"
    exec(source, env)  # noqa: S102  # generated from the class's own fields, as dataclasses does
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


#: The invoice fields a receivable balance reads (``amount_due`` derives from the money).
OWED_FIELDS = frozenset(
    {"type", "status", "contact_id", "currency", "due_date", "total", "amount_paid",
     "amount_credited"}
)  # fmt: skip


INVOICE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED")
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")


@dataclass
class ContactPerson:
    first_name: str
    last_name: str
    email: str
    include_in_emails: bool


@direct_init
@dataclass
class Contact(Stamped):
    contact_id: str
    name: str
    first_name: str
    last_name: str
    email: str
    status: str  # ACTIVE | ARCHIVED
    is_customer: bool
    is_supplier: bool
    updated: datetime
    persons: list[ContactPerson] = field(default_factory=list)
    default_currency: str | None = None
    account_number: str = ""
    phone: str = ""
    #: Names of the contact groups the contact belongs to (Xero's ContactGroups).
    groups: list[str] = field(default_factory=list)
    #: POBOX (billing) address: lines, city, region, postal code, country name as typed.
    address: tuple[str, ...] = ()
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    phone_country: str = ""
    tax_number: str = ""
    company_number: str = ""

    def email_recipients(self) -> list[str]:
        """Who Xero would email: the primary address plus opted-in persons."""
        out = [self.email] if self.email else []
        out += [p.email for p in self.persons if p.include_in_emails and p.email]
        return out


@dataclass
class LineItem:
    line_item_id: str
    description: str
    quantity: Decimal
    unit_amount: Decimal
    account_code: str
    tax_type: str
    line_amount: Decimal = ZERO
    tax_amount: Decimal = ZERO
    item_code: str | None = None
    discount_rate: Decimal | None = None


@dataclass
class HistoryRecord:
    changes: str
    details: str
    user: str
    at: datetime


@direct_init
@dataclass
class Payment(Stamped):
    payment_id: str
    invoice_id: str
    date: Day
    amount: Decimal
    currency_rate: Decimal
    reference: str
    status: str  # AUTHORISED | DELETED
    updated: datetime
    is_reconciled: bool = False


@dataclass
class Allocation:
    allocation_id: str
    credit_note_id: str
    invoice_id: str
    amount: Decimal
    date: Day


@direct_init
@dataclass
class CreditNote(Stamped):
    credit_note_id: str
    number: str
    type: str  # ACCRECCREDIT | ACCPAYCREDIT
    contact_id: str
    date: Day
    status: str
    line_amount_types: str
    line_items: list[LineItem]
    currency: str
    currency_rate: Decimal
    updated: datetime
    reference: str = ""
    sub_total: Decimal = ZERO
    total_tax: Decimal = ZERO
    total: Decimal = ZERO
    allocations: list[Allocation] = field(default_factory=list)

    @property
    def remaining_credit(self) -> Decimal:
        return cents(self.total - sum((a.amount for a in self.allocations), ZERO))


@direct_init
@dataclass
class Prepaid(Stamped):
    """A prepayment or overpayment received from a customer (RECEIVE-PREPAYMENT /
    RECEIVE-OVERPAYMENT), spent by allocating it to that customer's invoices."""

    prepaid_id: str
    kind: str  # "prepayment" | "overpayment"
    contact_id: str
    date: Day
    total: Decimal
    currency: str
    currency_rate: Decimal
    updated: datetime
    reference: str = ""
    status: str = "AUTHORISED"  # AUTHORISED | PAID (fully allocated) | VOIDED
    allocations: list[Allocation] = field(default_factory=list)

    @property
    def remaining_credit(self) -> Decimal:
        if self.status == "VOIDED":
            return ZERO
        return cents(self.total - sum((a.amount for a in self.allocations), ZERO))


@direct_init
@dataclass
class Invoice(Stamped):
    invoice_id: str
    type: str  # ACCREC | ACCPAY
    number: str
    reference: str
    contact_id: str
    date: Day
    due_date: Day | None
    status: str
    line_amount_types: str
    line_items: list[LineItem]
    currency: str
    currency_rate: Decimal
    created: datetime
    updated: datetime
    sub_total: Decimal = ZERO
    total_tax: Decimal = ZERO
    total: Decimal = ZERO
    amount_paid: Decimal = ZERO
    amount_credited: Decimal = ZERO
    sent_to_contact: bool = False
    fully_paid_on: Day | None = None
    payment_ids: list[str] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    #: Prepayments and overpayments allocated to this invoice (their ids in credit_note_id).
    prepaid: list[Allocation] = field(default_factory=list)
    history: list[HistoryRecord] = field(default_factory=list)
    created_by_app: bool = False
    expected_payment_date: Day | None = None

    @property
    def amount_due(self) -> Decimal:
        # Recorded VOIDED/DELETED invoices show AmountDue 0 but keep Total.
        if self.status in ("VOIDED", "DELETED"):
            return ZERO
        return cents(self.total - self.amount_paid - self.amount_credited)

    @property
    def prepaid_total(self) -> Decimal:
        return cents(sum((a.amount for a in self.prepaid), ZERO))

    @property
    def has_allocations(self) -> bool:
        return self.amount_paid > 0 or self.amount_credited > 0
