"""Writes whose answer was lost are checked, not blindly repeated.

A timeout, a dropped connection or a 5xx after a write leaves the client not knowing whether
Xero carried it out. Resending under the same ``Idempotency-Key`` is safe only while Xero
still remembers the key, and Xero documents neither how long that is nor whether every
endpoint honours it (the sandbox's unkind modes take the worst answers: keys expire, and
``/Email`` ignores them). So an ambiguous failure of a write is not retried by the generic
retry loop: :func:`write_once` first asks Xero whether the write is there (a tagged history
note, a tagged fee line, a fee invoice with the tagged reference, a "sent" history record
after our marker) and only resends when it is not. Throttling (429) is not ambiguous: Xero
refused the request before doing anything, and it is retried as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from connectors.base import ConnectorError, PermanentError, TransientError

from .limits import DayLimitReached
from .transport import RawResponse, Throttled

if TYPE_CHECKING:
    from .client import XeroConnector

T = TypeVar("T")
_log = structlog.get_logger("syncd.connectors.xero")
#: Checks-then-resends before giving up (the action is retried later, checked again first).
ATTEMPTS = 4


class Ambiguous(PermanentError):
    """The write may or may not have happened; not retried by the generic retry loop."""


def _unambiguous(write: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        try:
            return write()
        except (Throttled, DayLimitReached):
            raise
        except TransientError as exc:
            raise Ambiguous(str(exc)) from None

    return run


def write_once(
    connector: XeroConnector,
    write: Callable[[], T],
    applied: Callable[[], bool],
    *,
    what: str,
) -> T | None:
    """Run ``write``; after an ambiguous failure, resend only if ``applied()`` says it is not
    there. Returns the write's result, or ``None`` when it turned out to have happened."""
    last = ""
    for attempt in range(ATTEMPTS):
        try:
            return connector._call(_unambiguous(write))
        except Ambiguous as exc:
            last = str(exc)
        if applied():
            _log.info("xero write was carried out; its answer was lost", what=what, reason=last)
            return None
        delay = min(2.0**attempt, 30.0)
        _log.warning(
            "xero write not carried out; resending",
            what=what,
            reason=last,
            attempt=attempt + 1,
            delay_seconds=delay,
        )
        connector.sleep(delay)
    raise TransientError(
        f"{what}: Xero did not answer ({last}); it is not there yet and will be checked "
        "again before the next attempt"
    )


def write_json_once(
    connector: XeroConnector,
    fn: Callable[[], Any],
    applied: Callable[[], bool],
    *,
    what: str,
) -> dict[str, Any] | None:
    """:func:`write_once` for an SDK call whose JSON answer syncd reads."""

    def call() -> dict[str, Any]:
        result = fn()
        if not isinstance(result, RawResponse):
            raise ConnectorError(f"unexpected xero-python result {type(result).__name__}")
        body = result.json()
        if not isinstance(body, dict):
            raise TransientError("Xero answered with something other than a JSON object")
        return body

    return write_once(connector, call, applied, what=what)
