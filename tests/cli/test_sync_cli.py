"""The README's sandbox flow through the installed command, for every provider: print a config
block, run the sandbox in another process, back up, sync, list."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.contract.conftest import PROVIDERS
from tests.support.smtp import free_port

SYNCD = [sys.executable, "-m", "syncd"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_print_config_backfill_sync_and_invoices(tmp_path: Path, provider: str) -> None:
    port = free_port()
    common = ["--port", str(port), "--seed", "4", "--invoices", "60"]
    block = subprocess.run(
        [*SYNCD, "sandbox", provider, *common, "--print-config", "--name", "shop"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert block.startswith("[[orgs]]") and f'connector = "{provider}"' in block
    config = tmp_path / "syncd.toml"
    email = '[email]\nhost = "127.0.0.1"\nfrom_address = "ar@shop.test"\n'  # config check wants it
    config.write_text(f'[store]\nurl = "sqlite:///syncd.db"\n{email}\n{block}', encoding="utf-8")
    server = subprocess.Popen(
        [*SYNCD, "sandbox", provider, *common],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/config", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        run = lambda *a: subprocess.run(  # noqa: E731
            [*SYNCD, "--config", str(config), *a], capture_output=True, text=True
        )
        backfill = run("backfill", "--json")
        assert backfill.returncode == 0, backfill.stderr
        (pulled,) = json.loads(backfill.stdout)  # the result alone on stdout, logs on stderr
        assert pulled["org"] == "shop" and pulled["mode"] == "backfill" and pulled["inserted"] > 0
        sync = run("sync")
        assert sync.returncode == 0 and "incremental" in sync.stdout  # the summary on stdout
        (synced,) = json.loads(run("sync", "--json").stdout)
        assert synced["mode"] == "incremental" and synced["error"] is None
        checked = json.loads(run("config", "check", "--json").stdout)
        assert checked["ok"] and [o["name"] for o in checked["orgs"]] == ["shop"]
        assert checked["orgs"][0]["connector"] == provider
        # The printed block is in the company's own timezone, which the pre-flight accepts
        # (the check exits 1 here: nothing listens for SMTP).
        preflight = json.loads(run("check", "--json").stdout)
        (zone,) = [f for f in preflight["findings"] if f["check"] == "timezone"]
        assert zone["severity"] == "ok", zone["detail"]
        listed = run("invoices", "--json", "--open")
        rows = json.loads(listed.stdout)
        assert rows and all(r["org"] == "shop" and r["status"] == "open" for r in rows)
        # The refresh token rotated at the provider and is kept encrypted, not in the config.
        assert (tmp_path / "syncd.key").exists()
        bad = run("backfill", "--org", "nope")
        assert bad.returncode == 2
    finally:
        server.terminate()
        server.wait(timeout=30)
