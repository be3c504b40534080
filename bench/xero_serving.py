"""Per page kind: the Xero sandbox's CPU to serve a page against the client's to read it.

    python -m bench.xero_serving [invoices] [rounds]

Issue 19 asks that serving a 1,000-row page cost the sandbox less CPU than the client spends
on it. For the pages syncd's connector asks (the backfill's keyset pages of contacts,
invoices, payments and credit notes with ``If-Modified-Since`` a third of the way through,
and 50 invoices by ``IDs=``), this prints as JSON the thread CPU in ms (median of ``rounds``)
of: ``first`` (the request answered with no record text kept: the kept texts are dropped
before each round, as a write would, and so are the memos of repeated values that texts are
written from (render_text.py), which no write needs to drop: a page never served before),
``repeat`` (the same request again), and ``client`` (``wire.decode`` of the body plus
``pages.build``, what the connector does with a page). Not dropped: the list order
(ordercache.py, built once per kind before measuring, as it always was) and customers'
balances (balances.py, summed then too: a real write re-sums them only for the invoices it
wrote, and none is written here).
Run it from two checkouts in turn (A/B) to compare them; the API is called in-process.
(``bench.serving`` does the same for the QuickBooks sandbox.)
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connectors.xero import pages, wire
from connectors.xero.sandbox import XeroSandbox, render_text
from connectors.xero.sandbox.api import ApiRequest

NOW = datetime(2026, 5, 5, 17, 0, tzinfo=UTC)
STATUSES = "DRAFT,SUBMITTED,AUTHORISED,PAID,VOIDED,DELETED"


def _cpu(fn: Callable[[], Any]) -> float:
    began = time.thread_time()
    fn()
    return time.thread_time() - began


def _requests(sb: XeroSandbox) -> dict[str, tuple[str, str, dict[str, str], dict[str, str]]]:
    """Page kind -> (stream, path, params, headers), as syncd's connector sends them."""
    org = sb.org
    out: dict[str, tuple[str, str, dict[str, str], dict[str, str]]] = {}
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


def run(invoices: int, rounds: int) -> dict[str, Any]:
    began, cpu = time.perf_counter(), time.process_time()
    sb = XeroSandbox(seed=1, invoices=invoices, now=NOW)
    report: dict[str, Any] = {
        "size": invoices,
        "start_s": round(time.perf_counter() - began, 2),
        "start_cpu_s": round(time.process_time() - cpu, 2),
    }
    api = sb.dispatcher.api
    org = sb.org

    def handle(path: str, params: dict[str, str], headers: dict[str, str]) -> bytes:
        reply = api.handle(ApiRequest("GET", [path], params, headers, b""))
        assert reply.status == 200, reply.body[:300]
        return reply.body

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
        report[kind] = {"rows": count, "bytes": len(body)} | {
            name: round(statistics.median(values) * 1000, 1)
            for name, values in (("first", first), ("repeat", repeat), ("client", client))
        }
    return report


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(json.dumps(run(size, rounds), indent=1))
