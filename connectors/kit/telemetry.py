"""Who gets told about each HTTP call a connector makes to its provider.

Connectors must not import syncd, yet ``syncd run`` counts API calls and 429s per provider
for ``/metrics``. So the connector's HTTP seam (the one place every request of the SDK passes
through, token refreshes included) reports each answer here, and syncd registers an observer.
With no observer registered a report costs a list lookup. An observer that raises is logged
and otherwise ignored: counting must never break a call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import structlog

log = structlog.get_logger("connectors.kit")


@dataclass(frozen=True, slots=True)
class ApiCall:
    #: The connector's entry-point name (``quickbooks``, ``xero``).
    provider: str
    #: ``api`` for the provider's data API, ``token`` for its OAuth token endpoint.
    endpoint: str
    #: The HTTP status, or None when no answer came (timeout, refused or dropped connection).
    status: int | None


CallObserver = Callable[[ApiCall], None]

_observers: list[CallObserver] = []
_lock = threading.Lock()


def add_observer(observer: CallObserver) -> Callable[[], None]:
    """Register ``observer``; returns the function that removes it again."""
    with _lock:
        _observers.append(observer)

    def remove() -> None:
        with _lock:
            if observer in _observers:
                _observers.remove(observer)

    return remove


def report_call(provider: str, status: int | None, *, endpoint: str = "api") -> None:
    """Called by a connector's HTTP seam once per request, after the answer (or its absence)."""
    observers = list(_observers)
    if not observers:
        return
    call = ApiCall(provider, endpoint, status)
    for observer in observers:
        try:
            observer(call)
        except Exception as exc:  # a broken counter must not break the provider call
            log.warning("telemetry observer failed", error=f"{type(exc).__name__}: {exc}")
