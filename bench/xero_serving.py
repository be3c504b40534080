"""Per page kind: the Xero sandbox's CPU to serve a page against the client's to read it.

    python -m bench.xero_serving [invoices] [rounds]

Issue 19 asks that serving a 1,000-row page cost the sandbox less CPU than the client spends
on it. For the pages syncd's connector asks (the backfill's keyset pages of contacts,
invoices, payments and credit notes with ``If-Modified-Since`` a third of the way through,
and 50 invoices by ``IDs=``), this prints as JSON the thread CPU in ms (median of ``rounds``)
of:

* ``start``: the request as the first one after the sandbox starts (a fresh seed per round,
  nothing dropped). This is what a backfill meets, since backfills only read, and **the
  target is judged on it**.
* ``first``: the request answered with no record text kept: the kept texts are dropped
  before each round, as a write would, and so are the memos of repeated values that texts
  are written from (render_text.py), which no write needs to drop: a page never served
  before. The cost of a read after writes touched every record (a write voids every text).
* ``repeat``: the same request again (texts kept by the requests before).
* ``client``: ``wire.decode`` of the body plus ``pages.build``, what the connector does with
  a page.

Not counted in any: the list order (ordercache.py) and customers' balances (balances.py),
built once per kind before measuring (through the queries, rendering nothing), as they
always were: a real write re-sums balances only for the invoices it wrote, and none is
written here. ``start_s``/``start_cpu_s`` are the first round's sandbox construction
(the seed); the process's peak RSS is ``rss_mb``. ``start_all`` is the mean ``start`` over
every page of each kind, read in order from page 1 (the last round's sandbox; the one page
measured before is kept by then): what a whole backfill meets per page.
Run it from two checkouts in turn (A/B) to compare them; the API is called in-process.
(``bench.serving`` does the same for the QuickBooks sandbox.)
"""

from __future__ import annotations

import gc
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from connectors.xero import pages, wire
from connectors.xero.sandbox import XeroSandbox, listing, queries, render_text
from connectors.xero.sandbox.api import ApiRequest
from connectors.xero.sandbox.dates import parse_if_modified_since

NOW = datetime(2026, 5, 5, 17, 0, tzinfo=UTC)
#: A page kind's request: (stream, path, params, headers).
Request = tuple[str, str, dict[str, str], dict[str, str]]
STATUSES = "DRAFT,SUBMITTED,AUTHORISED,PAID,VOIDED,DELETED"


def _cpu(fn: Callable[[], Any]) -> float:
    began = time.thread_time()
    fn()
    return time.thread_time() - began


def _requests(sb: XeroSandbox) -> dict[str, Request]:
    """Page kind -> (stream, path, params, headers), as syncd's connector sends them."""
    org = sb.org
    out: dict[str, Request] = {}
    kinds = {
        "contacts": ("Contacts", org.contacts, {"includearchived": "true"}),
        "invoices": ("Invoices", org.invoices, {"where": 'Type=="ACCREC"', "statuses": STATUSES}),
        "payments": ("Payments", org.payments, {"where": 'PaymentType=="ACCRECPAYMENT"'}),
        "credit_notes": ("CreditNotes", org.credit_notes, {"where": 'Type=="ACCRECCREDIT"'}),
    }
    for stream, (path, records, extra) in kinds.items():
        stamps = sorted(r.updated for r in records.values())
        since = stamps[len(stamps) // 3] if len(stamps) > 3000 else stamps[0]
        params = {"order": "UpdatedDateUTC ASC", "page": "1", "pagesize": "1000", **extra}
        out[stream] = (stream, path, params, {"if-modified-since": since.isoformat()})
    ids = sorted(org.invoices)[:: max(1, len(org.invoices) // 50)][:50]
    params = {"ids": ",".join(ids), "statuses": STATUSES, "page": "1", "pagesize": "51"}
    out["invoices IDs=50"] = ("invoices", "Invoices", params, {})
    return out


QUERIES: dict[str, Callable[..., Any]] = {
    "Contacts": queries.list_contacts,
    "Invoices": queries.list_invoices,
    "Payments": queries.list_payments,
    "CreditNotes": queries.list_credit_notes,
}


def _handler(sb: XeroSandbox) -> Callable[[str, dict[str, str], dict[str, str]], bytes]:
    api = sb.dispatcher.api

    def handle(path: str, params: dict[str, str], headers: dict[str, str]) -> bytes:
        reply = api.handle(ApiRequest("GET", [path], params, headers, b""))
        assert reply.status == 200, reply.body[:300]
        return reply.body

    return handle


def _prepare(sb: XeroSandbox, requests: dict[str, Request]) -> None:
    """The list orders and balances, built as the first request of each kind would, without
    rendering a page (which would keep its texts)."""
    for _stream, path, params, headers in requests.values():
        stamp = headers.get("if-modified-since")
        since = parse_if_modified_since(stamp) if stamp else None
        QUERIES[path](sb.org, params, since)
    listing.balances(sb.org, sb.clock.now().date())


def _start(invoices: int, rounds: int, report: dict[str, Any]) -> dict[str, list[float]]:
    """Each request as the first after a fresh start: one new sandbox per round (the first
    round's construction goes in ``report``)."""
    out: dict[str, list[float]] = {}
    for round_ in range(rounds):
        gc.collect()  # the previous round's sandbox goes before the next is built
        began, cpu = time.perf_counter(), time.process_time()
        sb = XeroSandbox(seed=1, invoices=invoices, now=NOW)
        if not round_:
            report["start_s"] = round(time.perf_counter() - began, 2)
            report["start_cpu_s"] = round(time.process_time() - cpu, 2)
        requests = _requests(sb)
        _prepare(sb, requests)
        # The cyclic collector's pass over the list orders just built (about 100,000 tuples)
        # would otherwise land in whichever request is measured first: 40-60 ms, counted
        # against contacts (measured first), though building the orders is counted in none.
        gc.collect()
        handle = _handler(sb)
        for kind, (_stream, path, params, headers) in requests.items():
            out.setdefault(kind, []).append(_cpu(partial(handle, path, params, headers)))
        if round_ == rounds - 1:
            report["start_all"] = _walk(requests, handle)
        del sb, handle
    return out


def _walk(requests: dict[str, Request], handle: Callable[..., bytes]) -> dict[str, float]:
    """Every page of each list kind once, in order, as a backfill reads them: the mean CPU
    per page in ms."""
    out: dict[str, float] = {}
    for kind, (stream, path, params, _headers) in requests.items():
        if "ids" in params or kind == "contacts":  # one page, measured by ``start``
            continue
        key, spent, page = pages.COLLECTION[stream].encode(), 0.0, 1
        while True:
            began = time.thread_time()
            body = handle(path, {**params, "page": str(page)}, {})
            if body.endswith(b'"%s":[]}' % key):  # past the last page: not one a backfill reads
                break
            spent += time.thread_time() - began
            page += 1
        out[kind] = round(spent / max(1, page - 1) * 1000, 1)
    return out


def run(invoices: int, rounds: int) -> dict[str, Any]:
    report: dict[str, Any] = {"size": invoices}
    start = _start(invoices, rounds, report)
    sb = XeroSandbox(seed=1, invoices=invoices, now=NOW)
    org = sb.org
    handle = _handler(sb)
    for _stream, path, params, headers in _requests(sb).values():
        handle(path, params, headers)  # the order cache is built once per kind, not per page
    for kind, (stream, path, params, headers) in _requests(sb).items():

        def ask(p: str = path, q: dict[str, str] = params, h: dict[str, str] = headers) -> bytes:
            return handle(p, q, h)

        first = []
        for _ in range(rounds):
            org.renders.written()
            render_text.forget()
            first.append(_cpu(ask))
        body = ask()
        repeat = [_cpu(ask) for _ in range(rounds)]
        collection = pages.COLLECTION[stream]

        def read(b: bytes = body, s: str = stream, c: str = collection) -> Any:
            return pages.build(s, wire.decode(b, c).rows, None, "NZD")

        client = [_cpu(read) for _ in range(rounds)]
        count = len(json.loads(body)[collection])
        figures = (("start", start[kind]), ("first", first), ("repeat", repeat), ("client", client))
        report[kind] = {"rows": count, "bytes": len(body)} | {
            name: round(statistics.median(values) * 1000, 1) for name, values in figures
        }
    report["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return report


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(json.dumps(run(size, rounds), indent=1))
