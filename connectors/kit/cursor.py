"""Backfill resume cursors that can never stop a sync.

A resume cursor is only an optimisation: it saves re-reading pages already committed. When
one cannot be read (a corrupt row, a cursor from another connector version, hand-edited
state), starting the stream over is always safe because the store de-duplicates what it
already holds. So a bad cursor is a logged warning, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import structlog

log = structlog.get_logger("connectors.kit")

_T = TypeVar("_T")


def encode_cursor(fields: Mapping[str, Any]) -> str:
    return json.dumps(dict(fields))


def decode_cursor(
    text: str | None, parse: Callable[[dict[str, Any]], _T], *, provider: str
) -> _T | None:
    """``parse(fields)`` of the JSON object in ``text``; None when there is none or it is bad.

    ``parse`` raises ``ValueError``, ``KeyError`` or ``TypeError`` on fields it cannot use.
    """
    if not text:
        return None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        return parse(data)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning(
            "connector.resume_cursor_unreadable",
            provider=provider,
            cursor=text[:80],
            reason=str(exc)[:200],
            action="restarting the stream from the beginning",
        )
        return None
