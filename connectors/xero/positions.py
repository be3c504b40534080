"""Where a keyset pull stands, and what one list call brought back.

Kept apart from the connector so that the paging, prepayment and incremental modules can
build and read positions and listings without importing the connector class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.kit import decode_cursor, encode_cursor

from . import mapping, wire

#: Re-read this much before the newest change seen: If-Modified-Since is strictly-after,
#: two changes can share a second, and Xero may commit a change a little after stamping it.
OVERLAP = timedelta(seconds=60)
ORDER = "UpdatedDateUTC ASC"


def second(ts: datetime) -> datetime:
    return ts.replace(microsecond=0)


def fmt(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_cursor_time(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("cursor time without offset")
    return parsed.astimezone(UTC)


def newest(rows: Sequence[wire.Row]) -> datetime | None:
    """The latest readable ``UpdatedDateUTC`` of ``rows``; rows without one are passed over."""
    stamps: list[datetime] = []
    for row in rows:
        try:
            stamps.append(mapping.parse_datetime(row.stamp))
        except mapping.MappingError:
            continue
    return max(stamps) if stamps else None


@dataclass(frozen=True)
class Position:
    """Where a keyset pull of one stream stands: records modified after ``since``, page N."""

    stream: str
    since: datetime | None = None
    page: int = 1

    def dump(self) -> str:
        since = fmt(self.since) if self.since else None
        return encode_cursor({"stream": self.stream, "since": since, "page": self.page})

    @classmethod
    def load(cls, text: str | None, first: str, allowed: tuple[str, ...]) -> Position:
        """An unreadable cursor restarts the stream (logged by the kit): never a crash."""

        def parse(data: dict[str, Any]) -> Position:
            stream, page = str(data["stream"]), int(data.get("page", 1))
            if stream not in allowed or page < 1:
                raise ValueError(f"no stream {stream!r} at page {page}")
            return cls(stream, parse_cursor_time(data.get("since")), page)

        return decode_cursor(text, parse, provider="Xero") or cls(first)

    def after(self, rows: Sequence[wire.Row]) -> Position:
        """The position that resumes after ``rows`` (a full page, in UpdatedDateUTC order)."""
        latest = newest(rows)
        if latest is not None:
            candidate = second(latest) - timedelta(seconds=1)
            if self.since is None or candidate > self.since:
                return Position(self.stream, candidate, 1)
        # The whole page shares the boundary second (or has no usable stamp): page on.
        return Position(self.stream, self.since, self.page + 1)


@dataclass(frozen=True)
class Listing:
    rows: list[wire.Row]
    last_page: bool
    server_time: datetime | None


def listing_of(body: wire.Body, page: int, page_size: int) -> Listing:
    """A paged list response: last when Xero's ``pagination`` says so (else a short page)."""
    pagination = body.pagination
    if pagination is not None and pagination.get("pageCount") is not None:
        last = int(pagination.get("page", page)) >= int(pagination["pageCount"])
    else:
        last = len(body.rows) < page_size
    return Listing(body.rows, last or not body.rows, server_time(body.server_time))


def server_time(value: Any) -> datetime | None:
    """Xero's clock as a response's ``DateTimeUTC`` states it, or None if unreadable."""
    try:
        return mapping.parse_datetime(value, "DateTimeUTC")
    except mapping.MappingError:
        return None
