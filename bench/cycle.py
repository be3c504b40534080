"""``python -m bench cycle``: one dunning cycle's provider calls against the batching minimum.

Uses the contract suite's world (sandbox in this process, clock in sandbox time, a real SMTP
server) so that the cycle is the one the tests prove correct. The sandbox is sized so that
about ``--due`` actions come due; the figure that matters here is calls, not seconds.

"minimum" is what the provider's batching allows for this cycle: one read per 100 invoices
the due actions name, plus one write per provider action that is not skipped. (The Xero
connector asks ``IDs=`` for 50 invoices at a time to keep URLs short; the ratio is still
measured against 100.) ``calls_by_endpoint`` says where the calls went.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

PROVIDER_WRITES = {"note", "provider_email", "late_fee", "interest", "compensation"}
#: Sandbox invoices per wanted due action (seed 11, full ladder), measured: QuickBooks made
#: 265 actions of 300 invoices and 775 of 1,150; Xero 95 of 260.
INVOICES_PER_ACTION = {"quickbooks": 1.5, "xero": 2.8}
_ID = re.compile(r"/(?:[0-9]+|[0-9a-f]{8}-[0-9a-f-]{27})(?=/|$)")


def endpoint(request: dict[str, Any]) -> str:
    """``GET /v3/company/X/query``-like, ids folded, so that calls group by what they did."""
    path = _ID.sub("/{id}", str(request.get("path", "")).split("?")[0])
    return f"{request.get('method', '?')} {path}"


def run(provider: str, due: int, store: str) -> dict[str, Any]:
    from sqlalchemy import select

    from syncd.connections import org_id_for
    from syncd.daemon.runner import default_mailer
    from syncd.dunning.cycle import run_cycle
    from syncd.outbox.executor import Executor
    from syncd.store.models import OutboxAction
    from tests.contract.conftest import FULL_LADDER, make_world
    from tests.support.smtp import smtp_server

    from .backfill import _wipe_postgres

    invoices = max(80, math.ceil(due * INVOICES_PER_ACTION[provider]))
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as (inbox, port):
        url = f"sqlite:///{tmp}/cycle.db" if store == "sqlite" else store
        if store != "sqlite":
            _wipe_postgres(url)
        email = (
            f'[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            'from_address = "Acme <ar@acme.test>"\n'
        )
        for world in make_world(
            Path(tmp), url, provider, "kind", invoices=invoices, seed=11,
            extra_config=email, org_keys=FULL_LADDER,
        ):  # fmt: skip
            world.syncer().backfill()
            org_id = org_id_for(world.store, world.config, world.org, world.clock)
            queued = run_cycle(world.store, world.config, world.org, org_id, world.clock.now())
            before = len(world.adapter.statuses())
            log_before = len(world.adapter.control.requests())
            connector = world.connector()
            executor = Executor(
                world.store,
                org_id,
                connector,
                now=world.clock.now,
                send_email=default_mailer(
                    world.store, world.config, world.org, org_id, world.clock
                ),
            )
            began = time.perf_counter()
            report = executor.run()
            seconds = time.perf_counter() - began
            calls = len(world.adapter.statuses()) - before
            by_endpoint = Counter(
                endpoint(r)
                for r in world.adapter.control.requests()[log_before:]
                if "/v3/" in str(r.get("path")) or str(r.get("path")).startswith("/api.xro")
            )
            with world.store.sessions() as s:
                rows = list(s.scalars(select(OutboxAction)))
            named = {r.invoice_provider_id for r in rows if r.kind in PROVIDER_WRITES}
            for r in rows:
                if r.kind == "email":
                    named |= {str(i["provider_id"]) for i in r.payload.get("invoices") or []}
            writes = sum(1 for r in rows if r.kind in PROVIDER_WRITES and r.status == "done")
            minimum = math.ceil(len(named) / 100) + writes
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "provider": provider,
        "invoices": invoices,
        "actions": queued.queued,
        "by_kind": dict(Counter(r.kind for r in rows)),
        "by_status": dict(Counter(r.status for r in rows)),
        "emails_sent": len(inbox.messages),
        "provider_writes_done": writes,
        "api_calls": calls,
        "batching_minimum": minimum,
        "ratio_to_minimum": round(calls / minimum, 2) if minimum else None,
        "fresh_read_calls": executor.fresh_reads.calls if executor.fresh_reads else 0,
        "calls_by_endpoint": dict(by_endpoint.most_common()),
        "errors": report.errors[:5],
        "seconds": round(seconds, 2),
        "done": report.done,
        "skipped": report.skipped,
        "failed": report.failed,
    }
