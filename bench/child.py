"""One measured backfill in a process of its own, so that peak RSS and CPU are its alone.

    python -m bench.child syncd|naive CONFIG_TOML SANDBOX_BASE PROVIDER

Prints one JSON object: wall seconds, CPU seconds, peak RSS (taken before the truth check,
which loads the whole truth document), records written, and the store's mismatches against
the sandbox's truth.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any


def _truth(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/_sandbox/truth", timeout=600) as response:
        return dict(json.load(response))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_syncd(config_path: Path, base: str, provider: str) -> dict[str, Any]:
    from syncd.clock import SystemClock
    from syncd.config import load_config
    from syncd.connections import connect, org_id_for
    from syncd.store import open_store
    from syncd.sync import Syncer

    config = load_config(config_path)
    store = open_store(config.store_url)
    clock = SystemClock()
    connector = connect(store, config, "bench", clock)
    org_id = org_id_for(store, config, "bench", clock)
    syncer = Syncer(store, org_id, "bench", connector, clock)
    cpu, began = _cpu(), time.perf_counter()
    report = syncer.backfill()
    out: dict[str, Any] = {
        "seconds": time.perf_counter() - began,
        "cpu_seconds": _cpu() - cpu,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "records": report.result.inserted + report.result.updated,
        "pages": report.pages,
    }
    truth = _truth(base)
    with store.sessions() as session:
        _lean(session)
        if provider == "xero":
            from tests.support.xero_truth import mismatches as xero_mismatches

            problems = xero_mismatches(session, truth)
        else:
            from tests.support.quickbooks_truth import mismatches

            problems = mismatches(session, truth)
    store.close()
    out["mismatches"] = len(problems)
    out["problems"] = problems[:5]
    return out


def _lean(session: Any) -> None:
    """The truth check reads every row: without raw payloads, allocations in one query each
    page of payments (not one per payment), so that it scales to 100,000 invoices."""
    from sqlalchemy import event
    from sqlalchemy.orm import defer, selectinload

    from syncd.store.models import Customer, Invoice, Payment

    lean: dict[Any, list[Any]] = {
        Invoice: [defer(Invoice.raw)],
        Customer: [defer(Customer.raw)],
        Payment: [defer(Payment.raw), selectinload(Payment.allocations)],
    }

    @event.listens_for(session, "do_orm_execute")
    def _options(state: Any) -> None:
        if state.is_select and not state.is_column_load and not state.is_relationship_load:
            entity = state.statement.column_descriptions[0].get("entity")
            if entity in lean:
                state.statement = state.statement.options(*lean[entity])


def run_naive(config_path: Path, base: str, provider: str) -> dict[str, Any]:
    from bench import naive

    if provider != "quickbooks":
        raise SystemExit("the naive loop is python-quickbooks' (QuickBooks only)")
    data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    org = data["orgs"][0]
    creds = org["credentials"]
    cpu, began = _cpu(), time.perf_counter()
    token = naive.access_token(
        org["token_url"], creds["client_id"], creds["client_secret"], creds["refresh_token"]
    )
    qb = naive.client(org["base_url"], creds["realm_id"], token)
    written = naive.backfill(qb, data["store"]["url"])
    out: dict[str, Any] = {
        "seconds": time.perf_counter() - began,
        "cpu_seconds": _cpu() - cpu,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "records": written,
    }
    problems = naive.invoice_problems(data["store"]["url"], _truth(base))
    out["mismatches"] = len(problems)
    out["problems"] = problems[:5]
    return out


def main() -> None:
    mode, config_path, base, provider = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    runner = run_syncd if mode == "syncd" else run_naive
    print(json.dumps(runner(config_path, base, provider)))


if __name__ == "__main__":
    main()
