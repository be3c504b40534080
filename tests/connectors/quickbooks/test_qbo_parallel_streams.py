"""Backfill streams pulled in parallel threads through one connector (as the store does):
every record arrives, exactly as a sequential pull gets it, and the session
never has more requests in flight than Intuit allows."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from connectors.base import EntityKind, Page
from connectors.quickbooks import auth

from .conftest import Bench
from .test_qbo_connector_writes import qbo

STREAMS = (EntityKind.CUSTOMERS, EntityKind.INVOICES, EntityKind.PAYMENTS)


def _ids(pages: list[Page]) -> list[tuple[str, str]]:
    records = [r for p in pages for r in (*p.customers, *p.invoices, *p.payments)]
    # A set: keyset paging re-reads a tie block at a page's edge (upserts make that harmless).
    return sorted({(type(r).__name__, r.provider_id) for r in records})


def test_parallel_streams_read_what_a_sequential_pull_reads(lite: Bench, monkeypatch: Any) -> None:
    sequential = qbo(lite)
    expected = {e: _ids(list(sequential.backfill(e, None))) for e in STREAMS}
    sequential.close()

    peak, current, lock = [0], [0], threading.Lock()
    real = requests.Session.request

    def counting(self: requests.Session, *args: Any, **kwargs: Any) -> requests.Response:
        with lock:
            current[0] += 1
            peak[0] = max(peak[0], current[0])
        try:
            return real(self, *args, **kwargs)
        finally:
            with lock:
                current[0] -= 1

    monkeypatch.setattr(requests.Session, "request", counting)
    monkeypatch.setattr(auth, "MAX_CONCURRENT", 2)
    connector = qbo(lite)
    connector.options = connector.options.model_copy(update={"page_size": 25})
    try:
        with ThreadPoolExecutor(max_workers=len(STREAMS) * 2) as pool:
            futures = {
                (e, n): pool.submit(lambda e=e: list(connector.backfill(e, None)))
                for e in STREAMS
                for n in range(2)
            }
            got = {key: _ids(f.result()) for key, f in futures.items()}
    finally:
        connector.close()
    for (entity, _), ids in got.items():
        assert ids == expected[entity] and ids
    assert 1 <= peak[0] <= 2
