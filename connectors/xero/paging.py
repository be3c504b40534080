"""Keyset paging on ``UpdatedDateUTC`` that does not depend on the order of tied rows.

Xero does not document how rows with the same ``UpdatedDateUTC`` are ordered, and a bulk
import stamps hundreds of records with one instant. Paging through such a run with
``page=2, 3, ...`` relies on every call ordering the tied rows the same way; when they come
back shuffled, page 2 repeats some rows of page 1 and never shows others.

So the cursor only ever moves by time. After a full page it resumes one second before the
newest row seen (re-reading the boundary second). When a whole page sits inside that
boundary (``since`` cannot move), the position becomes a *window*, written as ``page=0``:
one unpaged query for every row modified after ``since`` and before the second after next
(at most two seconds of changes, whatever their order), filtered with a ``where`` on
``UpdatedDateUTC``; invoices from it are then read in full by id (unpaged invoice lists
carry no line items). After the window the cursor moves past it, to the millisecond.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import prepaid, reads, wire
from .positions import Listing, Position, newest, second, server_time

if TYPE_CHECKING:
    from .client import XeroConnector

WINDOW = 0  # Position.page of a window position
_BASE_WHERE = {
    "invoices": 'Type=="ACCREC"',
    "payments": 'PaymentType=="ACCRECPAYMENT"',
    "credit_notes": 'Type=="ACCRECCREDIT"',
    "contacts": None,
    "prepayments": None,
    "overpayments": None,
}


def window_end(since: datetime) -> datetime:
    """The last instant a window starting after ``since`` covers (see module docstring)."""
    return second(since) + timedelta(seconds=2) - timedelta(milliseconds=1)


def after(pos: Position, rows: Sequence[wire.Row]) -> Position:
    """Where to resume after ``rows`` (a full page, in UpdatedDateUTC order, or a window)."""
    if pos.page == WINDOW:
        assert pos.since is not None
        return type(pos)(pos.stream, window_end(pos.since), 1)
    latest = newest(rows)
    if latest is None:
        # No usable stamp at all: nothing to key on, page on as a last resort.
        return type(pos)(pos.stream, pos.since, pos.page + 1)
    candidate = second(latest) - timedelta(seconds=1)
    if pos.since is None or candidate > pos.since:
        return type(pos)(pos.stream, candidate, 1)
    return type(pos)(pos.stream, pos.since, WINDOW)


def listing(connector: XeroConnector, stream: str, pos: Position) -> Listing:
    if pos.page != WINDOW:
        return connector._list(stream, pos.since, pos.page)
    assert pos.since is not None
    return _window(connector, stream, pos.since)


def _where_before(moment: datetime) -> str:
    m = moment
    return f"UpdatedDateUTC<DateTime({m.year},{m.month},{m.day},{m.hour},{m.minute},{m.second})"


def _window(connector: XeroConnector, stream: str, since: datetime) -> Listing:
    api, tenant = connector.api, connector.tenant_id
    before = second(since) + timedelta(seconds=2)
    where = " AND ".join(w for w in (_BASE_WHERE[stream], _where_before(before)) if w)
    kwargs: dict[str, Any] = {"if_modified_since": since, "where": where, "_preload_content": False}
    fetch: Callable[..., Any]
    if stream == "contacts":
        fetch = functools.partial(api.get_contacts, include_archived=True)
    elif stream == "invoices":
        fetch = functools.partial(api.get_invoices, statuses=reads.INVOICE_STATUSES)
    elif stream == "payments":
        fetch = api.get_payments
    elif stream == "credit_notes":
        fetch = api.get_credit_notes
    else:
        fetch = prepaid.getter(connector, stream)
    body = connector._body(lambda: fetch(tenant, **kwargs), reads.COLLECTION[stream])
    rows = body.rows
    if stream == "invoices" and rows:
        # Unpaged invoice lists carry no line items: read the same invoices in full, by id.
        ids = [str(r.field("InvoiceID") or "") for r in rows]
        rows = [
            row
            for chunk in reads.chunks([i for i in ids if i], reads.ID_CHUNK)
            for row in reads.query(connector, "invoices", chunk)
        ]
    return Listing(rows, False, server_time(body.server_time))
