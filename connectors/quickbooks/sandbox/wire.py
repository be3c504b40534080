"""What goes on the wire: responses and QBO's timestamp formats.

QBO renders entity timestamps in the company's timezone at second precision
(``2026-05-05T02:11:27-07:00``) and the envelope ``time`` at millisecond precision
(``2026-05-05T03:20:11.171-07:00``); both are reproduced here so that parsers in the connector
meet the real formats.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from .money import dumps


@dataclass(frozen=True)
class Response:
    """A complete HTTP answer, kept as bytes so that requestid replays are byte-identical."""

    status: int
    body: bytes
    content_type: str = "application/json;charset=UTF-8"
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def json_response(
    status: int, payload: Any, *, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    return Response(status, dumps(payload).encode("utf-8"), headers=headers)


#: The last (moment, tz, text) formatted: one write stamps the same moment on several entities
#: (the invoice, its payment, the customer), so most calls repeat the previous one.
_last_entity_time: tuple[datetime, tzinfo, str] | None = None


def entity_time(moment: datetime, tz: tzinfo) -> str:
    """MetaData timestamp: company-local, whole seconds, numeric offset."""
    global _last_entity_time  # a one-entry cache; swapping the tuple is atomic
    last = _last_entity_time
    if last is not None and last[0] is moment and last[1] is tz:
        return last[2]
    local = moment.astimezone(tz)
    text = (local.replace(microsecond=0) if local.microsecond else local).isoformat()
    _last_entity_time = (moment, tz, text)
    return text


def envelope_time(moment: datetime, tz: tzinfo) -> str:
    """Envelope ``time``: company-local with milliseconds."""
    return moment.astimezone(tz).isoformat(timespec="milliseconds")


def local_date(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).date().isoformat()


@functools.lru_cache(maxsize=1 << 16)
def parse_datetime(text: str, tz: tzinfo) -> datetime:
    """Parse a QBO datetime literal; a value without offset is taken as company-local time.

    The SDK's ``qb_datetime_format`` drops the offset, so naive values do reach QBO; treating them
    as company-local is our reading of Intuit's docs (unconfirmed).
    """
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def parse_date(text: str) -> date:
    return date.fromisoformat(text.strip()[:10])
