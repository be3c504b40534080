"""What syncd asks a connector to write, what comes back, and what a pre-flight check finds."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connectors.base.checks import require_decimal
from connectors.base.records import InvoiceRecord


@dataclass(frozen=True, slots=True)
class Charge:
    """A line of money added to the customer's invoice (late fee, interest, compensation)."""

    amount: Decimal
    currency: str
    description: str

    def __post_init__(self) -> None:
        require_decimal("amount", self.amount)


LateFee = Charge
"""The name ``Charge`` had before the generic write capabilities; kept for callers."""


@dataclass(frozen=True, slots=True)
class Credit:
    """A credit note for ``amount`` applied to one invoice (a settlement's write-off).

    ``reference`` names why (the settlement) and appears on the provider's document;
    ``on`` is the credit's date in the business's calendar (the connector's "today" if None).
    """

    amount: Decimal
    currency: str
    reference: str
    on: date | None = None

    def __post_init__(self) -> None:
        require_decimal("amount", self.amount)
        if self.amount <= 0:
            raise ValueError(f"a credit must be positive, got {self.amount}")


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What the provider did; ``remote_id`` names what was written (note, fee line, invoice)."""

    remote_id: str | None = None
    detail: str | None = None
    invoice: InvoiceRecord | None = None


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    """The business syncd speaks for: its name signs every email and heads every letter."""

    name: str
    legal_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: tuple[str, ...] = ()
    country: str | None = None
    base_currency: str | None = None


class FindingSeverity(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    #: Something that would make an action fail at execution time.
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PreflightFinding:
    """One pre-flight check a connector ran against the live provider (``syncd check``)."""

    check: str
    severity: FindingSeverity
    detail: str
