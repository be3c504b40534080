"""Constructors for :mod:`connectors.base` records whose values a mapper has already checked.

A frozen slots dataclass pays, per field, a global lookup and an ``object.__setattr__`` call,
then ``__post_init__`` re-checks what the mapper has just established (``Decimal`` money,
timezone-aware UTC times). On a 1,000-invoice page that is a fifth of the mapping's CPU. The
constructors here set each slot through its member descriptor and skip the re-check: the
records are the same class, equal field for field, and as immutable to their readers as
ever. They are for a connector mapper's own output only, where that connector's equivalence
tests against its legacy mapper hold them to the checked constructors' result; both
connectors use these (they were QuickBooks' own before Xero needed the same).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from connectors.base import (
    Allocation,
    CustomerRecord,
    Deletion,
    InvoiceLine,
    InvoiceRecord,
    PaymentRecord,
)

_T = TypeVar("_T")
_MISSING = object()


def _constructor(cls: type[_T]) -> Callable[..., _T]:
    """A keyword-or-positional constructor of ``cls`` in field order, defaults as declared."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # every caller passes a dataclass
    scope: dict[str, Any] = {"_cls": cls, "_new": object.__new__, "_MISSING": _MISSING}
    params: list[str] = []
    body: list[str] = []
    for i, f in enumerate(fields):
        scope[f"_set{i}"] = getattr(cls, f.name).__set__
        if f.default is not dataclasses.MISSING:
            scope[f"_d{i}"] = f.default
            params.append(f"{f.name}=_d{i}")
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"_f{i}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            body.append(f" if {f.name} is _MISSING: {f.name} = _f{i}()")
        else:
            params.append(f.name)
        body.append(f" _set{i}(self, {f.name})")
    source = f"def new({', '.join(params)}):\n self = _new(_cls)\n" + "\n".join(body)
    exec(source + "\n return self\n", scope)  # noqa: S102 - source built from field names only
    new: Callable[..., _T] = scope["new"]
    new.__qualname__ = new.__name__ = f"trusted_{cls.__name__}"
    return new


customer_record = _constructor(CustomerRecord)
invoice_line = _constructor(InvoiceLine)
invoice_record = _constructor(InvoiceRecord)
allocation = _constructor(Allocation)
payment_record = _constructor(PaymentRecord)
deletion = _constructor(Deletion)
