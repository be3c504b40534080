"""``python -m bench sync``: an incremental pass over N changes on a backfilled store.

The store is backfilled first (not timed), then N open invoices are part-paid at the sandbox
(one payment each, through its control API), and one ``Syncer.sync()`` is timed. It reports
the API calls that pass made and checks the store against the sandbox's truth afterwards.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from .sandboxes import Sandbox


def _pay(sandbox: Sandbox, truth: dict[str, Any], changes: int) -> int:
    if sandbox.provider == "quickbooks":
        open_ids = [t["id"] for t in truth["invoices"] if t["status"] == "open"][:changes]
    else:
        open_ids = [
            t["invoice_id"]
            for t in truth["invoices"]
            if t["status"] == "AUTHORISED" and float(t["amount_due"]) > 1
        ][:changes]
    for invoice_id in open_ids:
        if sandbox.provider == "quickbooks":
            body = {"allocations": [{"invoice_id": invoice_id, "amount": "0.25"}]}
        else:
            body = {"invoice_id": invoice_id, "amount": "0.25"}
        sandbox.control("POST", "payments", body)
    return len(open_ids)


def run(provider: str, invoices: int, changes: int, store: str) -> dict[str, Any]:
    from syncd.clock import SystemClock
    from syncd.config import load_config
    from syncd.connections import connect, org_id_for
    from syncd.store import open_store
    from syncd.sync import Syncer

    from .backfill import _wipe_postgres

    sandbox = Sandbox(provider, invoices).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/sync.db" if store == "sqlite" else store
            if store != "sqlite":
                _wipe_postgres(url)
            config_path = Path(tmp) / "syncd.toml"
            block = sandbox.fresh_block()
            config_path.write_text(f'[store]\nurl = "{url}"\n\n{block}', encoding="utf-8")
            config = load_config(config_path)
            db = open_store(config.store_url)
            clock = SystemClock()
            connector = connect(db, config, "bench", clock)
            syncer = Syncer(db, org_id_for(db, config, "bench", clock), "bench", connector, clock)
            syncer.backfill()
            made = _pay(sandbox, sandbox.control("GET", "truth"), changes)
            position = sandbox.log_position()
            began = time.perf_counter()
            report = syncer.sync()
            seconds = time.perf_counter() - began
            calls = sandbox.calls_since(position)
            truth = sandbox.control("GET", "truth")
            with db.sessions() as session:
                if provider == "xero":
                    from tests.support.xero_truth import mismatches as check
                else:
                    from tests.support.quickbooks_truth import mismatches as check
                problems = check(session, truth)
            db.close()
    finally:
        sandbox.stop()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "provider": provider,
        "store": "sqlite" if store == "sqlite" else "postgresql",
        "invoices": invoices,
        "changes": made,
        "mode": report.mode,
        "seconds": round(seconds, 2),
        **calls,
        "summary": report.summary(),
        "mismatches": len(problems),
    }
