"""Streams pulled by parallel threads share one tenant's limits: 5 at once, 60 a minute.

The store drives one thread per ``backfill()`` iterator. The connector's governor is shared,
so however the threads interleave, Xero (the sandbox, which refuses with 429 past its limits)
never sees a sixth concurrent call or a 61st in a minute.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from connectors.base import EntityKind, Page
from connectors.xero.client import XeroConnector
from connectors.xero.limits import RateGovernor
from tests.connectors.xero.conftest import make_bench


def _pull_in_parallel(connector: XeroConnector) -> dict[EntityKind, list[Page]]:
    """One thread per entity, as the store runs a backfill."""
    pages: dict[EntityKind, list[Page]] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def pull(entity: EntityKind) -> None:
        try:
            got = list(connector.backfill(entity, None))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            return
        with lock:
            pages[entity] = got

    threads = [threading.Thread(target=pull, args=(e,)) for e in EntityKind]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert errors == []
    return pages


def test_parallel_streams_never_draw_a_429(tmp_path: Path, store_url: str) -> None:
    for bench in make_bench(tmp_path, store_url, invoices=150, page_size=5):
        connector = bench.connector()
        pages = _pull_in_parallel(connector)
        calls = bench.api_requests()
        assert len(calls) > 60, "the pull must need more than a minute's allowance"
        assert [r for r in calls if r["status"] == 429] == []
        truth = bench.truth()
        invoices = {i.provider_id for p in pages[EntityKind.INVOICES] for i in p.invoices}
        sales = {t["invoice_id"] for t in truth["invoices"] if t.get("type", "ACCREC") == "ACCREC"}
        assert invoices == sales
        customers = {c.provider_id for p in pages[EntityKind.CUSTOMERS] for c in p.customers}
        assert customers >= {t["contact_id"] for t in truth["invoices"]}
        assert any(p.payments for p in pages[EntityKind.PAYMENTS])
        connector.close()


def test_a_call_counts_in_the_minute_from_its_answer() -> None:
    """Xero starts a call's minute on arrival, which is after we let it go: counting from the
    answer keeps the 61st call from arriving before the first has left Xero's window."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    governor = RateGovernor(2, 100, monotonic=lambda: now[0], sleep=sleep)
    first = governor.acquire()
    now[0] = 3.0  # the answer took three seconds
    governor.done(first)
    governor.done(governor.acquire())
    governor.acquire()
    assert slept == [60.0] and now[0] == 63.0


def test_threads_share_one_window() -> None:
    clock_lock = threading.Lock()
    now = [0.0]
    stamps: list[float] = []

    def monotonic() -> float:
        with clock_lock:
            return now[0]

    def sleep(seconds: float) -> None:
        with clock_lock:
            now[0] += seconds

    governor = RateGovernor(10, 10_000, monotonic=monotonic, sleep=sleep)

    def work() -> None:
        for _ in range(15):
            ticket = governor.acquire()
            with clock_lock:
                stamps.append(now[0])
            governor.done(ticket)

    threads: list[Any] = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    stamps.sort()
    assert len(stamps) == 60
    for i, start in enumerate(stamps):
        in_window = [s for s in stamps[i:] if s < start + 60]
        assert len(in_window) <= 10


def test_a_call_counts_from_its_headers_not_from_the_end_of_its_body() -> None:
    """Xero has counted a call by the time its answer starts: reading a large body after that
    must not push the call's minute (and so the next window's first call) later."""
    from connectors.xero.transport import XeroTransport

    now = [0.0]
    governor = RateGovernor(60, 5_000, monotonic=lambda: now[0], sleep=lambda s: None)

    class SlowBody:
        status = 200

        def getheaders(self) -> dict[str, str]:
            return {"X-MinLimit-Remaining": "59"}

        @property
        def data(self) -> bytes:
            now[0] = 5.0  # the body takes five seconds to read
            return b"{}"

        def release_conn(self) -> None:
            pass

    class Inner:
        pool_manager = type("Pool", (), {"connection_pool_kw": {}})()

        def request(self, *args: Any, **kwargs: Any) -> SlowBody:
            assert kwargs["_preload_content"] is False
            now[0] = 1.0  # the headers arrive after a second
            return SlowBody()

    transport = XeroTransport(Inner(), governor, timeout=10)
    assert transport.request("GET", "http://127.0.0.1:9/api.xro/2.0/Invoices").data == b"{}"
    assert governor._minute == [1.0]
