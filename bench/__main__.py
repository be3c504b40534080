"""``python -m bench backfill|sync|plan|cycle|floor``: figures anyone can reproduce.

    python -m bench backfill --provider quickbooks --invoices 10000 [--store sqlite|URL]
                             [--rounds 2] [--no-naive]
    python -m bench sync     --provider quickbooks --invoices 100000 --changes 100
    python -m bench plan     [--invoices 100000] [--due 1000] [--store sqlite|URL]
    python -m bench cycle    --provider quickbooks --due 1000
    python -m bench floor    [--invoices 100000]

Each prints one JSON object on stdout (per-run lines go to stderr). Timings are measured here
and recorded in ``bench/RESULTS.md``; tests never assert them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="command", required=True)
    backfill = sub.add_parser("backfill", help="full backfill, syncd against the naive loop")
    backfill.add_argument("--provider", choices=("quickbooks", "xero"), default="quickbooks")
    backfill.add_argument("--invoices", type=int, default=10_000)
    backfill.add_argument("--store", default="sqlite", help="sqlite, or a PostgreSQL URL")
    backfill.add_argument("--rounds", type=int, default=2, help="runs of each side")
    backfill.add_argument("--no-naive", action="store_true", help="skip the naive loop")
    backfill.add_argument("--seed", type=int, default=1)
    sync = sub.add_parser("sync", help="incremental sync of N changes on a backfilled store")
    sync.add_argument("--provider", choices=("quickbooks", "xero"), default="quickbooks")
    sync.add_argument("--invoices", type=int, default=100_000)
    sync.add_argument("--changes", type=int, default=100)
    sync.add_argument("--store", default="sqlite")
    plan = sub.add_parser("plan", help="plan over many open invoices, some due")
    plan.add_argument("--invoices", type=int, default=100_000)
    plan.add_argument("--due", type=int, default=1_000)
    plan.add_argument("--store", default="sqlite")
    cycle = sub.add_parser("cycle", help="a dunning cycle with N due provider actions")
    cycle.add_argument("--provider", choices=("quickbooks", "xero"), default="quickbooks")
    cycle.add_argument("--due", type=int, default=1_000)
    cycle.add_argument("--store", default="sqlite")
    floor = sub.add_parser("floor", help="the least time a backfill keeping what syncd keeps takes")
    floor.add_argument("--invoices", type=int, default=100_000)
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.command == "backfill":
        from .backfill import run

        rounds = max(1, args.rounds)
        result = run(args.provider, args.invoices, args.store, rounds, not args.no_naive, args.seed)
    elif args.command == "plan":
        extra = [] if args.store == "sqlite" else ["--postgres", args.store]
        script = REPO / "bench" / "plan_scale.py"
        sizes = ["--invoices", str(args.invoices), "--due", str(args.due)]
        done = subprocess.run(
            [sys.executable, str(script), *sizes, *extra],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
    elif args.command == "floor":
        from .floor import run as run_floor

        result = run_floor(args.invoices)
    elif args.command == "sync":
        from .incremental import run as run_sync

        result = run_sync(args.provider, args.invoices, args.changes, args.store)
    else:
        from .cycle import run as run_cycle

        result = run_cycle(args.provider, args.due, args.store)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
