"""``python -m bench backfill``: syncd against the naive loop, alternating, in the same run.

Each measured run is a child process (``bench.child``) with a fresh store; the sandbox is one
process per provider and size, shared by the runs of a round (backfills only read). The
order alternates (naive, syncd, syncd, naive, ...) so that a machine getting busier or quieter
during the run does not favour one side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from .sandboxes import Sandbox

REPO = Path(__file__).resolve().parents[1]


def _wipe_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _one(sandbox: Sandbox, mode: str, store: str, tmp: Path) -> dict[str, Any]:
    index = len(list(tmp.iterdir()))
    if store == "sqlite":
        url = f"sqlite:///{tmp}/run{index}.db"
    else:
        url = store
        _wipe_postgres(url)
    config = tmp / f"run{index}.toml"
    config.write_text(f'[store]\nurl = "{url}"\n\n{sandbox.fresh_block()}', encoding="utf-8")
    sandbox.reset_limits()
    position = sandbox.log_position()
    env = {**os.environ, "SYNCD_LOG_LEVEL": os.environ.get("SYNCD_LOG_LEVEL", "warning")}
    done = subprocess.run(
        [sys.executable, "-m", "bench.child", mode, str(config), sandbox.base, sandbox.provider],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{mode} run failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(sandbox.calls_since(position))
    result["mode"] = mode
    return result


def run(
    provider: str, invoices: int, store: str, rounds: int, naive: bool, seed: int = 1
) -> dict[str, Any]:
    """Figures for one provider, size and store; ``store`` is "sqlite" or a PostgreSQL URL."""
    sandbox = Sandbox(provider, invoices, seed).start()
    runs: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for index in range(rounds):
                order = ["naive", "syncd"] if index % 2 == 0 else ["syncd", "naive"]
                for mode in order:
                    if mode == "naive" and not naive:
                        continue
                    result = _one(sandbox, mode, store, Path(tmp))
                    print(json.dumps(result), file=sys.stderr)
                    runs.append(result)
        needed = xero_pages_needed(sandbox.control("GET", "truth")) if provider == "xero" else None
    finally:
        sandbox.stop()
    return summarise(provider, invoices, store, sandbox.started_in, runs, needed)


def _best(runs: list[dict[str, Any]], mode: str) -> dict[str, Any] | None:
    mine = [r for r in runs if r["mode"] == mode]
    return min(mine, key=lambda r: float(r["seconds"])) if mine else None


def summarise(
    provider: str,
    invoices: int,
    store: str,
    started_in: float,
    runs: list[dict[str, Any]],
    pages_needed: int | None = None,
) -> dict[str, Any]:
    syncd, naive = _best(runs, "syncd"), _best(runs, "naive")
    assert syncd is not None
    out: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "provider": provider,
        "store": "sqlite" if store == "sqlite" else "postgresql",
        "invoices": invoices,
        "sandbox_start_seconds": round(started_in, 1),
        "syncd_runs_seconds": [round(r["seconds"], 2) for r in runs if r["mode"] == "syncd"],
        "syncd": _figures(syncd, invoices, provider, pages_needed),
        "store_equals_truth": all(r["mismatches"] == 0 for r in runs),
    }
    if naive is not None:
        out["naive_runs_seconds"] = [round(r["seconds"], 2) for r in runs if r["mode"] == "naive"]
        out["naive"] = _figures(naive, invoices, provider, pages_needed)
        out["speedup_wall"] = round(naive["seconds"] / syncd["seconds"], 2)
        out["speedup_cpu"] = round(naive["cpu_seconds"] / syncd["cpu_seconds"], 2)
        print(
            f"{provider} {invoices} invoices: syncd {syncd['seconds']:.1f} s, naive "
            f"{naive['seconds']:.1f} s, syncd is {out['speedup_wall']}x faster (wall)",
            file=sys.stderr,
        )
    return out


#: Xero's sandbox counts calls in a sliding 60-second window (connectors/xero/sandbox/limits.py):
#: a call is refused while 60 calls fall in the last minute, and a refused call counts too
#: (the unkind reading where Xero's documentation is silent).
XERO_MINUTE_LIMIT = 60


def limit_floor_seconds(api_calls: int, per_minute: int = XERO_MINUTE_LIMIT) -> float:
    """The least wall time the minute limit allows for ``api_calls`` calls.

    Calls 1..60 may start at once; call k can start no earlier than 60 s after call k-60,
    so the last call starts at 60 x floor((calls - 1) / 60) seconds at the earliest.
    """
    return 60.0 * ((api_calls - 1) // per_minute) if api_calls > 0 else 0.0


#: Xero's largest page, and the streams whose pages the issue counts as needed.
XERO_PAGE_SIZE = 1000
XERO_PAGED = ("contacts", "invoices", "payments", "credit_notes")


def xero_pages_needed(truth: dict[str, Any], page_size: int = XERO_PAGE_SIZE) -> int:
    """The pages a backfill cannot do without: full pages of contacts, invoices, payments and
    credit notes (issue 19's definition), from the sandbox's truth document.

    A reader may make more calls than this (a keyset cursor re-reads its boundary rows,
    prepayments and overpayments are streams of their own); the floor from these pages is
    the one the issue states, the floor from the calls made says how well they were paced.
    """
    return sum(-(-len(truth.get(stream) or []) // page_size) for stream in XERO_PAGED)


def _figures(
    result: dict[str, Any], invoices: int, provider: str, pages_needed: int | None = None
) -> dict[str, Any]:
    out = _common(result, invoices)
    if provider == "xero":
        floor = limit_floor_seconds(int(result["api_calls"]))
        out["limit_floor_seconds"] = floor
        out["ratio_to_limit_floor"] = round(result["seconds"] / floor, 2) if floor else None
        if pages_needed is not None:
            needed = limit_floor_seconds(pages_needed)
            out["pages_needed"] = pages_needed
            out["pages_needed_floor_seconds"] = needed
            out["ratio_to_pages_needed_floor"] = (
                round(result["seconds"] / needed, 2) if needed else None
            )
    return out


def _common(result: dict[str, Any], invoices: int) -> dict[str, Any]:
    return {
        "seconds": round(result["seconds"], 2),
        "cpu_seconds": round(result["cpu_seconds"], 2),
        "invoices_per_second": round(invoices / result["seconds"]),
        "api_calls": result["api_calls"],
        "token_calls": result["token_calls"],
        "http_429": result["http_429"],
        "peak_rss_mib": round(result["peak_rss_mib"], 1),
        "records": result["records"],
        "mismatches": result["mismatches"],
    }
