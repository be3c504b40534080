"""Incremental pulls in three calls: contacts, invoices and payments every pass, the rest when
an invoice says they moved (or on a slower cadence).

What decides whether an invoice is open and what is owed is the invoice's own record:
``Status``, ``AmountDue``, ``AmountPaid``, ``AmountCredited``. Xero moves an invoice's
``UpdatedDateUTC`` whenever a payment, credit note, prepayment or overpayment is allocated to
it or taken off it, so the invoices stream alone (``If-Modified-Since``) carries every change
to an invoice's balance and status; invoices, contacts and payments (the common change) are
pulled on every pass, one call each when fewer than a page changed.

Credit notes, prepayments and overpayments are records of their own (what the customer was
credited, unapplied credit). They are pulled in a pass when a changed invoice names an
allocation of that kind dated on or after the day before that stream's mark (a new one), a
changed invoice that syncd skips as a misfit included (its allocations are read loosely),
and otherwise at least every :data:`SECONDARY_EVERY` by Xero's clock. Each keeps its own
``If-Modified-Since`` mark, which only moves when that stream is read, so a later pull returns
everything changed since the last one: skipping a stream in a pass delays its records and
loses none. A full pull (backfill) reads every stream whatever the cursor says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.base import CursorExpiredError, Page

from . import mapping, paging, positions, prepaid, wire
from .positions import OVERLAP, Position, fmt, parse_cursor_time, second

if TYPE_CHECKING:
    from .client import XeroConnector

EVERY_PASS = ("contacts", "invoices", "payments")
SECONDARY = ("credit_notes", *prepaid.STREAMS)
STREAMS = (*EVERY_PASS, *SECONDARY)
#: The longest a credit note, prepayment or overpayment waits when no invoice names it.
SECONDARY_EVERY = timedelta(minutes=15)
#: Cursor key: when (Xero's clock) every secondary stream was last read to its end.
SECONDARY_KEY = "secondary_at"
#: Cursor key: documents that invoices named and that were read since (the newest few).
KNOWN_KEY = "known"
KNOWN_LIMIT = 500
#: What an invoice calls its allocations of each secondary kind, and their id field.
_NAMED_IN_INVOICE = {
    "credit_notes": ("CreditNotes", "CreditNoteID"),
    "prepayments": ("Prepayments", "PrepaymentID"),
    "overpayments": ("Overpayments", "OverpaymentID"),
}


def dump(state: Mapping[str, datetime | None], known: Sequence[str] = ()) -> str:
    data: dict[str, Any] = {s: fmt(t) for s, t in state.items() if t is not None}
    if known:
        data[KNOWN_KEY] = list(known[-KNOWN_LIMIT:])
    return json.dumps(data)


def known_ids(cursor: str) -> list[str]:
    """The documents already read after an invoice named them (see :func:`named`)."""
    try:
        ids = json.loads(cursor).get(KNOWN_KEY) or []
    except (ValueError, AttributeError):
        return []
    return [str(i) for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def load(cursor: str) -> dict[str, datetime | None]:
    try:
        data = json.loads(cursor)
        # Cursors from before prepayments were pulled resume those from the payments mark.
        state = {s: parse_cursor_time(data.get(s, data["payments"])) for s in STREAMS}
        state[SECONDARY_KEY] = parse_cursor_time(data.get(SECONDARY_KEY))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CursorExpiredError(f"unreadable Xero change cursor {cursor[:80]!r}") from None
    return state


def named(
    rows: Sequence[wire.Row], state: Mapping[str, Any], known: Sequence[str] = ()
) -> dict[str, set[str]]:
    """Per secondary stream, the documents changed invoices name that may be new to us: not
    read since an invoice last named them, and dated on or after the day before the
    stream's mark (an entry without a readable date counts as new).

    Misfit invoices (skipped with a reason) count like any other: Xero moves an invoice's
    ``UpdatedDateUTC`` when a document is allocated to it, so the changed invoice is the
    only early sign that the document exists, whether or not syncd can map the invoice. A
    member that is there but cannot be read (not a list, an entry not an object) may name
    anything: its stream is read (an empty set of ids), as careful as an undated entry."""
    seen = set(known)
    out: dict[str, set[str]] = {}
    for stream, (field, id_field) in _NAMED_IN_INVOICE.items():
        mark: datetime | None = state.get(stream)
        since = (mark - timedelta(days=1)).date() if mark is not None else None
        for row in rows:
            entries = row.field(field)
            if entries is None:
                continue
            if not isinstance(entries, list):
                out.setdefault(stream, set())  # unreadable: it may name anything
                continue
            for entry in entries:
                if not isinstance(entry, Mapping):
                    out.setdefault(stream, set())
                    continue
                ident = str(entry.get(id_field) or entry.get("ID") or "").lower()
                if ident and ident in seen:
                    continue
                try:
                    when = mapping.parse_date(entry.get("Date"), "Date")
                except mapping.MappingError:
                    when = None
                if since is None or when is None or when >= since:
                    out.setdefault(stream, set()).add(ident)
    return out


def changes(connector: XeroConnector, cursor: str) -> Iterator[Page]:
    state = load(cursor)
    known = known_ids(cursor)
    wanted: dict[str, set[str]] = {}
    for stream in EVERY_PASS:
        for page, rows in _stream(connector, stream, state, known):
            if stream == "invoices":
                for kind, ids in named(rows, state, known).items():
                    wanted.setdefault(kind, set()).update(ids)
            yield page
    # The cadence is syncd's own schedule, not a data mark: the local clock is enough.
    began = connector._now()
    last = state[SECONDARY_KEY]
    due = last is None or began - last >= SECONDARY_EVERY
    for stream in SECONDARY:
        if due or stream in wanted:
            # Read from its mark: whatever the invoice named is in it, with all else new.
            known.extend(sorted(i for i in wanted.get(stream, ()) if i))
            for page, _ in _stream(connector, stream, state, known):
                yield page
    if due:
        state[SECONDARY_KEY] = began
        # No records: commits the new cadence mark with the streams' marks.
        yield connector._page("contacts", [], dump(state, known))


def _stream(
    connector: XeroConnector,
    stream: str,
    state: dict[str, datetime | None],
    known: Sequence[str],
) -> Iterator[tuple[Page, list[wire.Row]]]:
    """One stream from its mark: pages (with the cursor after each) and their rows. Moves
    ``state[stream]`` as it goes, never past the moment the pull started by Xero's clock."""
    start = state[stream]
    assert start is not None
    pos = Position(stream, start, 1)
    started: datetime | None = None
    newest: datetime | None = None
    while True:
        listing = paging.listing(connector, stream, pos)
        started = started or listing.server_time or connector._now()
        seen = positions.newest(listing.rows)
        if seen is not None:
            newest = max(newest, seen) if newest else seen
        following = (
            paging.after(pos, listing.rows) if listing.rows or pos.page == paging.WINDOW else pos
        )
        current = state[stream]
        assert current is not None
        if listing.last_page:
            mark = current
            if newest is not None:
                mark = max(current, second(min(newest, started)) - OVERLAP)
        else:
            mark = max(current, following.since or current)
        state[stream] = mark
        if listing.rows or mark != current:
            page = connector._page(stream, listing.rows, dump(state, known))
            yield page, listing.rows
        if listing.last_page:
            return
        pos = following
