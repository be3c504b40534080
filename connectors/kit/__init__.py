"""What every connector needs and must not write again: retries, tags, resume cursors.

``connectors.base`` is the protocol and its records; this package is the machinery behind
them, shared so that two connectors cannot drift apart (they did: the same refused token
ended as ``PermanentError`` in one and ``AuthError`` in the other).

How a new connector uses it:

* **HTTP seam.** Turn the provider's answers into the one error taxonomy before the SDK
  parses them: 401 -> :class:`Unauthorized`; 429 -> :class:`RateLimited` with the
  ``Retry-After`` it sent (or the provider's documented pause); 5xx, timeouts, dropped
  connections and cut-off bodies -> ``TransientError``; validation and other refusals ->
  ``PermanentError``; a revoked connection -> ``AuthError``.
* **Every SDK call** goes through :func:`call_with_retries` with a ``refresh`` callback that
  invalidates the access token the provider refused. A 401 refreshes once and retries; a
  freshly refreshed token refused again is ``AuthError`` (a human must reconnect). Transient
  errors are retried with jittered exponential backoff, never shorter than ``retry_after``;
  every retry and every wait is logged (``connector.retry`` / ``connector.rate_limited``).
* **Writes** carry :func:`tag` (``[syncd:KEY]``) in a field the provider keeps (a note, a line
  description, a reference), so that a write is recognisable with :func:`find_tag` /
  :func:`has_tag` after the provider's idempotency replay window has passed.
* **Call counting.** The HTTP seam calls :func:`report_call` once per request (the token
  endpoint's too), with the status or None when no answer came; syncd counts them for
  ``/metrics`` through :func:`add_observer`.
* **Backfill resume cursors** are written with :func:`encode_cursor` and read with
  :func:`decode_cursor`, which turns an unreadable cursor into ``None`` (start the stream
  over, with a logged warning): the store de-duplicates what it already holds.
"""

from __future__ import annotations

from . import countries
from .cursor import decode_cursor, encode_cursor
from .retry import RateLimited, Unauthorized, call_with_retries, log_rate_limit_wait
from .tags import TAG_RE, find_tag, has_tag, tag, tag_key
from .telemetry import ApiCall, add_observer, report_call

__all__ = [
    "TAG_RE",
    "ApiCall",
    "RateLimited",
    "Unauthorized",
    "add_observer",
    "call_with_retries",
    "countries",
    "decode_cursor",
    "encode_cursor",
    "find_tag",
    "has_tag",
    "log_rate_limit_wait",
    "report_call",
    "tag",
    "tag_key",
]
