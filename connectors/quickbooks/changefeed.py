"""Incremental pulls through ChangeDataCapture, whatever a capped answer keeps.

Intuit caps a CDC answer at 1,000 objects and does not say which objects survive the cap
(oldest, newest, per entity or per response). CDC has no upper bound to narrow the window
with, so a capped answer cannot be completed from inside itself. When the combined answer is
capped the feed asks again one entity at a time; if one entity alone still reaches the cap,
the cursor is declared expired and the caller does a full pull, which sweeps deletions too.
Nothing relies on which objects a capped answer happened to keep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import structlog

from connectors.base import CursorExpiredError, Page

from . import mapping
from .wire import Received

CDC_MAX_AGE = timedelta(days=30)
CDC_CAP = 1000
#: The order rows go into a page: customers before the invoices that name them.
CDC_ORDER = ("Customer", "Invoice", "Payment", "CreditMemo")
CDC_ENTITIES = "Invoice,Payment,Customer,CreditMemo"
#: Re-read a little before the cursor: commit lag and clock skew on Intuit's side.
CDC_LOOKBACK = timedelta(minutes=2)

log = structlog.get_logger(__name__)

#: (entities, changed since) -> rows by entity, and the answer's server time.
Cdc = Callable[[str, str], tuple[dict[str, list[Received]], str | None]]
PageBuilder = Callable[[list[Received], str | None], Page]


def fmt(ts: datetime) -> str:
    return ts.isoformat(timespec="seconds")


def _server_time(stamp: str | None, now: Callable[[], datetime]) -> datetime:
    return mapping.parse_time(stamp, "time") if stamp else now()


def changes(
    cdc: Cdc, build_page: PageBuilder, cursor: str, *, now: Callable[[], datetime], cap: int
) -> Iterator[Page]:
    try:
        since = mapping.parse_time(cursor, "cursor")
    except mapping.MappingError:
        # A corrupt cursor cannot say what was missed: a full pull (with sweep) is safe.
        raise CursorExpiredError(f"unreadable QuickBooks change cursor {cursor[:80]!r}") from None
    if now() - since > CDC_MAX_AGE - timedelta(hours=1):
        raise CursorExpiredError(f"change cursor {cursor} is older than 30 days")
    by_entity, stamp = cdc(CDC_ENTITIES, fmt(since))
    started = _server_time(stamp, now)
    if sum(len(rows) for rows in by_entity.values()) >= cap:
        log.info("quickbooks.cdc_capped", since=cursor, cap=cap, retry="one entity at a time")
        by_entity = {}
        for index, entity in enumerate(CDC_ORDER):
            single, stamp = cdc(entity, fmt(since))
            if index == 0:
                started = _server_time(stamp, now)
            rows = single.get(entity, [])
            if len(rows) >= cap:
                raise CursorExpiredError(
                    f"{len(rows)} or more {entity} changes since {cursor} (the change feed "
                    f"caps at {cap} and does not say which it keeps): full pull needed"
                )
            by_entity[entity] = rows
    rows_in_order = [r for e in CDC_ORDER for r in by_entity.get(e, [])]
    yield build_page(rows_in_order, fmt(started - CDC_LOOKBACK))
