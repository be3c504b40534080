"""Benchmark: ``plan`` over 100,000 open invoices of which 1,000 are due.

Builds the store directly (bulk inserts), as a long-running org would look after its daily
cycles: every invoice has a dunning state planned under the current policies, 1,000 with
their next action due today. Times candidate planning (what ``syncd plan`` and each cycle do)
against planning every open invoice.

    .venv/bin/python bench/plan_scale.py [--invoices 100000] [--due 1000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select, text  # noqa: E402

from policies import DunningState, plan_cycle  # noqa: E402
from syncd.config import load_config  # noqa: E402
from syncd.dunning.planning import org_context, plan_org_candidates, policy_fingerprint  # noqa: E402
from syncd.dunning.snapshots import load_inputs  # noqa: E402
from syncd.store import ensure_org, open_store  # noqa: E402
from syncd.store.models import Customer, Invoice  # noqa: E402
from syncd.store.models import DunningState as StateRow  # noqa: E402

CONFIG = """
[store]
url = "{url}"

[[orgs]]
name = "big"
connector = "quickbooks"
policy = "standard"
timezone = "America/New_York"
[orgs.credentials]
client_id = "c"
client_secret = "s"
refresh_token = "r"
realm_id = "1"
"""


def build(url: str, invoices: int, due: int, as_of: datetime) -> tuple[object, int]:
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "syncd.toml"
    path.write_text(CONFIG.format(url=url), encoding="utf-8")
    config = load_config(path)
    store = open_store(config.store_url)
    today = as_of.date()
    fingerprint = policy_fingerprint(config, "big")
    earlier = as_of - timedelta(days=1)
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "big", "quickbooks", earlier).id
    customers = max(1, invoices // 8)
    with store.engine.begin() as conn:
        conn.execute(
            insert(Customer),
            [
                {
                    "org_id": org_id,
                    "provider_id": f"C{i}",
                    "name": f"Customer {i}",
                    "email": f"ap{i}@example.test",
                    "currency": "USD",
                    "active": True,
                    "deleted": False,
                    "provider_updated_at": earlier,
                    "fingerprint": "x",
                    "raw": {},
                    "synced_at": earlier,
                }
                for i in range(customers)
            ],
        )
        rows = []
        for i in range(invoices):
            is_due = i % max(1, invoices // due) == 0 and i // max(1, invoices // due) < due
            due_date = today - timedelta(days=1) if is_due else today + timedelta(days=20 + i % 40)
            rows.append(
                {
                    "org_id": org_id,
                    "provider_id": f"I{i}",
                    "number": f"{10000 + i}",
                    "customer_provider_id": f"C{(i // 8) % customers}",
                    "issue_date": due_date - timedelta(days=30),
                    "due_date": due_date,
                    "currency": "USD",
                    "total": Decimal("500.00"),
                    "balance": Decimal("500.00"),
                    "status": "open",
                    "provider_version": "0",
                    "provider_updated_at": earlier,
                    "pay_url": None,
                    "fingerprint": "x",
                    "raw": {},
                    "synced_at": earlier,
                }
            )
        for start in range(0, len(rows), 10000):
            conn.execute(insert(Invoice), rows[start : start + 10000])
        ids = {pid: iid for pid, iid in conn.execute(select(Invoice.provider_id, Invoice.id))}
        states = []
        for i in range(invoices):
            is_due = i % max(1, invoices // due) == 0 and i // max(1, invoices // due) < due
            nxt = today if is_due else today + timedelta(days=17 + i % 40)
            states.append(
                {
                    "invoice_id": ids[f"I{i}"],
                    "stage": None,
                    "state": DunningState(next_action_on=nxt).to_dict(),
                    "escalated": None,
                    "next_action_on": nxt,
                    "plan_fingerprint": fingerprint,
                    "updated_at": earlier,
                }
            )
        for start in range(0, len(states), 10000):
            conn.execute(insert(StateRow), states[start : start + 10000])
    if store.engine.dialect.name == "postgresql":
        # A long-running org's tables have statistics (autovacuum analyses them about a
        # minute after a bulk load); without them PostgreSQL joins 100,000 states by index
        # lookups, which measures the freshly built database, not planning.
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return (config, store), org_id


def cpu_seconds() -> float:
    """User + system CPU of this process: wall time means little on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--postgres", help="an empty database URL instead of temporary SQLite")
    args = parser.parse_args()
    as_of = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # a Tuesday, 09:00 in New York
    url = args.postgres or f"sqlite:///{tempfile.mkdtemp()}/plan.db"
    started = time.perf_counter()
    (config, store), org_id = build(url, args.invoices, args.due, as_of)  # type: ignore[misc]
    built = time.perf_counter() - started
    with store.sessions() as session:  # type: ignore[attr-defined]
        t0, c0 = time.perf_counter(), cpu_seconds()
        plan = plan_org_candidates(session, config, "big", org_id, as_of)  # type: ignore[arg-type]
        candidates_s, candidates_cpu = time.perf_counter() - t0, cpu_seconds() - c0
    rss_candidates = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ctx = org_context(config, "big")  # type: ignore[arg-type]
    with store.sessions() as session:  # type: ignore[attr-defined]
        t0, c0 = time.perf_counter(), cpu_seconds()
        everything = load_inputs(session, org_id, ctx.timezone)
        full = plan_cycle(
            org=ctx,
            policies=config.policies,
            settings=config.dunning["big"],  # type: ignore[attr-defined]
            as_of=as_of,
            invoices=everything,
        )
        full_s, full_cpu = time.perf_counter() - t0, cpu_seconds() - c0
    same = [a.to_dict() for a in plan.result.actions] == [a.to_dict() for a in full.actions]
    print(
        json.dumps(
            {
                "store": "postgresql" if args.postgres else "sqlite",
                "open_invoices": args.invoices,
                "due": args.due,
                "candidates_planned": len(plan.planned),
                "actions": len(plan.result.actions),
                "candidate_plan_s": round(candidates_s, 2),
                "candidate_plan_cpu_s": round(candidates_cpu, 2),
                "full_plan_s": round(full_s, 2),
                "full_plan_cpu_s": round(full_cpu, 2),
                "same_actions": same,
                "peak_rss_mib_after_candidate_plan": round(rss_candidates, 1),
                "build_s": round(built, 1),
            }
        )
    )
    store.close()  # type: ignore[attr-defined]
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
