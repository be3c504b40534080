"""Benchmark: full backfill of a seeded Xero organisation through the local sandbox.

The sandbox runs in its own process (``syncd sandbox xero``, with Xero's default limits of 60
calls a minute and 5,000 a day) so that the peak memory reported is syncd's alone. Prints wall
time, API calls, 429s seen and peak RSS, and checks that the store matches the sandbox's truth
exactly.

    .venv/bin/python bench/backfill_xero.py --invoices 10000 [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from syncd.clock import SystemClock  # noqa: E402
from syncd.config import load_config  # noqa: E402
from syncd.connections import connect, org_id_for  # noqa: E402
from syncd.store import open_store  # noqa: E402
from syncd.sync import Syncer  # noqa: E402
from tests.support.xero_truth import mismatches  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def control(base: str, path: str) -> object:
    with urllib.request.urlopen(f"{base}/_sandbox/{path}", timeout=120) as response:
        return json.load(response)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="store URL instead of a temporary SQLite file")
    args = parser.parse_args()

    port = free_port()
    syncd = str(Path(sys.executable).with_name("syncd"))
    common = [
        "--port",
        str(port),
        "--seed",
        str(args.seed),
        "--invoices",
        str(args.invoices),
        "--now",
        "2026-11-01T12:00:00+00:00",
    ]
    block = subprocess.run(
        [syncd, "sandbox", "xero", *common, "--print-config", "--name", "bench"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    server = subprocess.Popen(
        [syncd, "sandbox", "xero", *common],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                control(base, "config")
                break
            except OSError:
                time.sleep(0.1)
        with tempfile.TemporaryDirectory() as tmp:
            url = args.postgres or f"sqlite:///{tmp}/bench.db"
            config_path = Path(tmp) / "syncd.toml"
            config_path.write_text(f'[store]\nurl = "{url}"\n\n{block}', encoding="utf-8")
            config = load_config(config_path)
            store = open_store(config.store_url)
            clock = SystemClock()
            connector = connect(store, config, "bench", clock)
            syncer = Syncer(
                store, org_id_for(store, config, "bench", clock), "bench", connector, clock
            )
            started = time.perf_counter()
            report = syncer.backfill()
            elapsed = time.perf_counter() - started
            peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            answer = control(base, "requests")
            assert isinstance(answer, dict)
            log = answer["requests"]
            api = [r for r in log if r["path"].startswith("/api.xro")]
            throttled = sum(1 for r in log if r["status"] == 429)
            truth = control(base, "truth")
            assert isinstance(truth, dict)
            with store.sessions() as session:
                problems = mismatches(session, truth)
            store.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {
        "invoices": args.invoices,
        "store": "postgresql" if args.postgres else "sqlite",
        "seconds": round(elapsed, 2),
        "api_calls": len(api),
        "token_calls": len(log) - len(api),
        "http_429": throttled,
        "pages": report.pages,
        "records": report.result.inserted,
        "peak_rss_mib": round(peak_mib, 1),
        "mismatches": len(problems),
    }
    print(json.dumps(result))
    if problems:
        print("\n".join(problems[:20]), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
