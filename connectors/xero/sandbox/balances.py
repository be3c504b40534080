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


def _share(inv: Invoice, today: date, rates: dict[str, Decimal], rate_of: Any) -> Any:
    """``(contact id, outstanding, overdue)`` the invoice adds, or None."""
    if inv.status != "AUTHORISED" or inv.type != "ACCREC":
        return None
    rate = rates.get(inv.currency)
    if rate is None:
        rate = rates[inv.currency] = rate_of(inv.currency)
    due = cents(inv.amount_due / rate)
    late = inv.due_date is not None and inv.due_date < today
    return (inv.contact_id, due, due if late else ZERO)


class BalanceBook:
    """One organisation's sums: contact id -> [outstanding, overdue, invoices counted]."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._shares: dict[str, tuple[str, Decimal, Decimal]] = {}
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
                    self._redo(ident, table.get(ident), region, today)
            return {c: (s[0], s[1]) for c, s in self._sums.items()}

    def _rebuild(self, table: Records[Invoice], region: Any, today: date) -> None:
        self._shares, self._sums, self._rates = {}, {}, {}
        if isinstance(table, Owed):
            table.touched.clear()
        for ident, inv in list(table.items()):
            self._redo(ident, inv, region, today)

    def _redo(self, ident: str, inv: Invoice | None, region: Any, today: date) -> None:
        old = self._shares.pop(ident, None)
        if old is not None:
            sums = self._sums[old[0]]
            sums[0] -= old[1]
            sums[1] -= old[2]
            sums[2] -= 1
            if not sums[2]:
                del self._sums[old[0]]
        new = None if inv is None else _share(inv, today, self._rates, region.currency_rate)
        if new is not None:
            self._shares[ident] = new
            sums = self._sums.setdefault(new[0], [ZERO, ZERO, 0])
            sums[0] += new[1]
            sums[1] += new[2]
            sums[2] += 1
