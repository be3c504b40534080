"""Every customer's receivable balances, kept across writes and re-summed per invoice written.

A contacts page shows each customer's outstanding and overdue amounts, which depend on every
approved sale.  Summing 100,000 invoices again after each write (reading their scattered
fields costs 30-40 ms however it is done) cost the sandbox three times what the client spends
on the whole page.  So the sums are kept, with each invoice's share of them, and after a write
only the invoices it touched are taken out and put back.  Which ones it touched is not left to
the writers to say: the invoice table (:class:`Owed`) notes every id it adds, replaces or
drops, and every assignment to a field a balance reads (:data:`.models.OWED_FIELDS`, in
:class:`.models.Stamped`) notes the invoice's id too.  A new table, another day or another
region starts the sums afresh; so does anything the table cannot follow id by id.
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

from .models import Invoice
from .money import ZERO, cents
from .records import Records

#: Noted in place of an id when the whole table must be summed again.
EVERYTHING = ""


class Touched(set[str]):
    """The ids written since the sums were last brought up to date.  An invoice refers to it
    (``_owed_by``), so a copy of the invoice (``copy.deepcopy`` of an edit's candidate) refers
    to the same set rather than copying it."""

    def __copy__(self) -> Touched:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Touched:
        return self


class Owed(Records[Invoice]):
    """The invoice table: a :class:`.records.Records` that also notes which ids changed."""

    def __init__(self) -> None:
        super().__init__()
        self.touched = Touched()

    def _own(self, key: str, value: Invoice) -> None:
        object.__setattr__(value, "_owed_by", self.touched)
        self.touched.add(key)

    def __setitem__(self, key: str, value: Invoice) -> None:
        super().__setitem__(key, value)
        self._own(key, value)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.touched.add(key)

    def pop(self, *args: Any) -> Any:
        self.touched.add(args[0])
        return super().pop(*args)

    def popitem(self) -> tuple[str, Invoice]:
        key, value = super().popitem()
        self.touched.add(key)
        return key, value

    def clear(self) -> None:
        super().clear()
        self.touched.add(EVERYTHING)

    def update(self, *args: Any, **kwargs: Invoice) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def __ior__(self, other: Any) -> Owed:  # type: ignore[override,misc]
        self.update(other)
        return self


class BalanceBook:
    """One organisation's sums: contact id -> [outstanding, overdue, invoices counted], and
    each counted invoice's share (kept in flat dicts: no object per invoice to allocate)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._today = date.min
        self._rate_of: Any = None
        self._contact: dict[str, str] = {}
        self._due: dict[str, Decimal] = {}
        self._late: dict[str, Decimal] = {}
        self._sums: dict[str, list[Any]] = {}
        self._rates: dict[str, Decimal] = {}

    def balances(self, table: Records[Invoice], region: Any, today: date) -> dict[str, Any]:
        """Contact id -> (outstanding, overdue), as :func:`.render.receivable_balances` sums
        them (the same values; the tests compare them after writes of every kind)."""
        with self._lock:
            key = (table, region, today)
            touched = table.touched if isinstance(table, Owed) else None
            if touched is None or self._key is None or self._key[0] is not table:
                ids: set[str] = {EVERYTHING}
            else:
                ids = set(touched)
                touched.difference_update(ids)  # before reading: a later write notes it again
            if touched is None or EVERYTHING in ids or key != self._key:
                self._key = key
                self._rebuild(table, region, today)
            else:
                for ident in ids:
                    self._take(ident)
                    inv = table.get(ident)
                    if inv is not None and inv.status == "AUTHORISED" and inv.type == "ACCREC":
                        self._add(ident, inv)
            return {c: (s[0], s[1]) for c, s in self._sums.items()}

    def _rebuild(self, table: Records[Invoice], region: Any, today: date) -> None:
        self._contact, self._due, self._late, self._sums, self._rates = {}, {}, {}, {}, {}
        self._today, self._rate_of = today, region.currency_rate
        if isinstance(table, Owed):
            table.touched.clear()
        for inv in list(table.values()):  # keyed by their ids
            if inv.status == "AUTHORISED" and inv.type == "ACCREC":
                self._add(inv.invoice_id, inv)

    def _take(self, ident: str) -> None:
        contact = self._contact.pop(ident, None)
        if contact is None:
            return
        sums = self._sums[contact]
        sums[0] -= self._due.pop(ident)
        sums[1] -= self._late.pop(ident)
        sums[2] -= 1
        if not sums[2]:
            del self._sums[contact]

    def _add(self, ident: str, inv: Invoice) -> None:
        """An approved sale's share: its amount due in the home currency, overdue or not."""
        rate = self._rates.get(inv.currency)
        if rate is None:
            rate = self._rates[inv.currency] = self._rate_of(inv.currency)
        due = cents(inv.amount_due / rate)
        late = due if inv.due_date is not None and inv.due_date < self._today else ZERO
        contact = self._contact[ident] = inv.contact_id
        self._due[ident], self._late[ident] = due, late
        sums = self._sums.get(contact)
        if sums is None:
            sums = self._sums[contact] = [ZERO, ZERO, 0]
        sums[0] += due
        sums[1] += late
        sums[2] += 1
