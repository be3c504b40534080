"""Per page kind: the QuickBooks sandbox's CPU to serve a page against the client's to read it.

    python -m bench.serving [--invoices 100000] [--seed 1] [--rounds 3]

Issue 19 asks that serving a page cost the sandbox less CPU than the client spends on it. For
each page kind (keyset query pages of 1,000 customers, invoices, payments and credit memos;
``Id IN`` of 30; a CDC answer) this prints, as JSON, the CPU seconds (``time.thread_time`` of
the thread doing the work, so the other side's thread is not counted) of:

* ``serve_first``: the sandbox answering the request for the first time (``QboApi.handle``,
  in-process: every row on the page encoded for the first time);
* ``serve_repeat``: the same request again (rows' encodings cached);
* ``json_loads``: ``json.loads`` of the same body;
* ``client``: syncd's whole read of that page over HTTP through the connector's fast path
  (``wire.query`` / ``wire.change_data_capture``: request, read, decode) plus mapping
  (``pages.build``), measured in the client's thread while the server serves in its own.

The index that orders each entity is built by the first query on it; that is reported apart
(``index_build``) by asking each entity one ``COUNT(*)`` first. Figures are the median of
``--rounds`` runs of each; a first serving is repeated by emptying the cache of encoded rows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 5, 5, 17, 0, tzinfo=UTC)


def _cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.thread_time()
    value = fn()
    return time.thread_time() - began, value


def _cold(sandbox: Any, fn: Callable[[], Any], rounds: int) -> list[float]:
    """CPU of ``fn`` with no row's encoding cached (as when the page is first served)."""
    costs = []
    for _ in range(rounds):
        for index in sandbox.company.read_index.values():
            index._wire.clear()
        costs.append(_cpu(fn)[0])
    return costs


def _statements(sandbox: Any) -> dict[str, tuple[str, str]]:
    """Page kind -> (entity, statement): mid-history keyset pages, as syncd's backfill sends."""
    company = sandbox.company
    out: dict[str, tuple[str, str]] = {}
    for entity in ("Customer", "Invoice", "Payment", "CreditMemo"):
        rows = company.entities[entity]
        stamps = sorted(row["MetaData"]["LastUpdatedTime"] for row in rows.values())
        since = stamps[len(stamps) // 3] if len(stamps) > 3000 else stamps[0]
        active = "Active IN (true, false) AND " if entity == "Customer" else ""
        out[entity] = (
            entity,
            f"SELECT * FROM {entity} WHERE {active}MetaData.LastUpdatedTime > '{since}' "
            "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000",
        )
    ids = sorted(company.entities["Invoice"], key=int)[
        :: max(1, len(company.entities["Invoice"]) // 30)
    ][:30]
    quoted = ", ".join(f"'{i}'" for i in ids)
    out["Invoice Id IN 30"] = (
        "Invoice",
        f"SELECT * FROM Invoice WHERE Id IN ({quoted}) MAXRESULTS {len(ids)}",
    )
    return out


def _client(sandbox: Any) -> tuple[Any, Any]:
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    sys.path.insert(0, str(REPO))
    from tests.sandbox_quickbooks.conftest import make_client

    return make_client(sandbox), sandbox.company.home_currency


def run(invoices: int, seed: int, rounds: int) -> dict[str, Any]:
    from connectors.quickbooks import pages, wire
    from connectors.quickbooks.sandbox import QuickBooksSandbox
    from connectors.quickbooks.sandbox.api import ApiRequest

    sandbox = QuickBooksSandbox(seed=seed, invoices=invoices, now=NOW)
    sandbox.start()
    api = sandbox.app.api
    qb, home = _client(sandbox)

    def types(_: str | None) -> dict[str, str]:
        return {}

    def handle(path: str, query: dict[str, str], body: bytes = b"") -> bytes:
        method = "POST" if body else "GET"
        response = api.handle(ApiRequest(method, path, {"minorversion": "75", **query}, body, ""))
        assert response.status == 200, response.body[:300]
        return response.body

    report: dict[str, Any] = {"invoices": invoices, "seed": seed, "index_build": {}}
    for entity in ("Customer", "Invoice", "Payment", "CreditMemo"):
        cost, _ = _cpu(lambda e=entity: handle("query", {}, f"SELECT COUNT(*) FROM {e}".encode()))
        report["index_build"][entity] = round(cost * 1000, 2)
    kinds: dict[str, Any] = {}
    for kind, (entity, text) in _statements(sandbox).items():
        first = _cold(sandbox, lambda t=text: handle("query", {}, t.encode()), rounds)
        body = handle("query", {}, text.encode())
        repeat = [_cpu(lambda t=text: handle("query", {}, t.encode()))[0] for _ in range(rounds)]
        loads = [_cpu(lambda b=body: json.loads(b))[0] for _ in range(rounds)]

        def read(e: str = entity, t: str = text) -> Any:
            return pages.build(wire.query(qb, t, e), None, home, types)

        client = [_cpu(read)[0] for _ in range(rounds)]
        rows = len(json.loads(body)["QueryResponse"].get(entity, []))
        kinds[kind] = _figures(rows, len(body), first, repeat, loads, client)
    since = (NOW - timedelta(days=29)).isoformat()
    cdc = {"entities": "Invoice,Payment,Customer,CreditMemo", "changedSince": since}
    first = _cold(sandbox, lambda: handle("cdc", cdc), rounds)
    body = handle("cdc", cdc)
    repeat = [_cpu(lambda: handle("cdc", cdc))[0] for _ in range(rounds)]
    loads = [_cpu(lambda b=body: json.loads(b))[0] for _ in range(rounds)]

    def read_cdc() -> Any:
        found, _ = wire.change_data_capture(qb, cdc["entities"], since)
        return [pages.build(rows, None, home, types) for rows in found.values()]

    client = [_cpu(read_cdc)[0] for _ in range(rounds)]
    answer = json.loads(body)["CDCResponse"][0]["QueryResponse"]
    count = sum(len(v) for block in answer for k, v in block.items() if isinstance(v, list))
    kinds["CDC (29 days, capped)"] = _figures(count, len(body), first, repeat, loads, client)
    report["pages"] = kinds
    sandbox.stop()
    return report


def _figures(
    rows: int,
    size: int,
    first: list[float],
    repeat: list[float],
    loads: list[float],
    client: list[float],
) -> dict[str, Any]:
    def ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 2)

    return {
        "rows": rows,
        "bytes": size,
        "serve_first_ms": ms(first),
        "serve_repeat_ms": ms(repeat),
        "json_loads_ms": ms(loads),
        "client_ms": ms(client),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serving")
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.invoices, args.seed, args.rounds), indent=2))


if __name__ == "__main__":
    main()
