"""List pages as Xero sends them, assembled from each record's kept text.

The envelope is encoded on every request (its ``Id`` and ``DateTimeUTC`` are new each time);
the records in it come from :class:`.rendercache.RenderCache`, so a page read again before
any write costs a join instead of 1,000 renders.  The bytes are exactly those of
``dumps(envelope(now, key, items, pagination))``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from . import errors
from .errors import Reply, dumps
from .models import Contact, Invoice
from .organisation import Organisation
from .queries import Page
from .render import (
    InvoiceMode,
    contact_json,
    envelope,
    invoice_json,
)
from .render_text import invoice_list_text
from .render_text_docs import credit_note_text, payment_text


def envelope_text(
    now: datetime, key: str, texts: Iterable[bytes], pagination: Mapping[str, int] | None
) -> bytes:
    """Byte for byte ``dumps(envelope(now, key, items, pagination))``, from item texts."""
    head = dumps(envelope(now, key, [], pagination))  # ... ,"Invoices":[]}
    parts = list(texts)
    if not parts:
        return head
    # One copy of the page's megabytes (the join), not three (join, then two concatenations).
    parts[0] = head[:-2] + parts[0]
    parts[-1] += b"]}"
    return b",".join(parts)


def _reply(now: datetime, key: str, texts: list[bytes], page: Page) -> Reply:
    return Reply(200, envelope_text(now, key, texts, page.pagination), errors.JSON)


def balances(org: Organisation, today: date) -> dict[str, tuple[Decimal, Decimal]]:
    """Every customer's balances: kept, and re-summed for the invoices written since
    (:mod:`.balances`)."""
    return org.balance_book.balances(org.invoices, org.region, today)


def invoice_page(org: Organisation, page: Page, mode: InvoiceMode, now: datetime) -> Reply:
    renders = org.renders
    if mode == "list":  # a reader's pages: written straight to text (render_text.py)
        render: Callable[[Invoice], Any] = partial(invoice_list_text, org)
    else:
        render = partial(invoice_json, org, mode=mode)
    keyed = [(("Invoice", i.invoice_id, mode), i) for i in page.items]
    return _reply(now, "Invoices", renders.texts(renders.generation, keyed, render), page)


def contact_page(org: Organisation, page: Page, summary: bool, now: datetime) -> Reply:
    today = now.date()
    owed = balances(org, today)
    renders = org.renders

    def render(c: Contact) -> dict[str, Any]:
        return contact_json(c, owed.get(c.contact_id) if c.is_customer else None, summary=summary)

    keyed = [(("Contact", c.contact_id, summary, today), c) for c in page.items]
    return _reply(now, "Contacts", renders.texts(renders.generation, keyed, render), page)


def payment_page(org: Organisation, page: Page, now: datetime) -> Reply:
    keyed = [(("Payments", p.payment_id), p) for p in page.items]
    return _records_page(org, page, now, "Payments", keyed, payment_text)


def credit_note_page(org: Organisation, page: Page, now: datetime) -> Reply:
    keyed = [(("CreditNotes", n.credit_note_id), n) for n in page.items]
    return _records_page(org, page, now, "CreditNotes", keyed, credit_note_text)


def _records_page(
    org: Organisation,
    page: Page,
    now: datetime,
    collection: str,
    keyed: Iterable[tuple[Hashable, Any]],
    render: Callable[[Organisation, Any], bytes],
) -> Reply:
    """A page of records whose text depends on nothing but the organisation's state
    (written straight to text: render_text_docs.py)."""
    renders = org.renders
    texts = renders.texts(renders.generation, keyed, partial(render, org))
    return _reply(now, collection, texts, page)
