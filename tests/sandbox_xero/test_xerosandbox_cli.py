"""``syncd sandbox xero --print-config`` and ``--strict``, through the real command line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from syncd.config import load_config

SYNCD = [sys.executable, "-m", "syncd"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_print_config_carries_every_option_a_fee_needs(tmp_path: Path) -> None:
    block = subprocess.run(
        [*SYNCD, "sandbox", "xero", "--seed", "2", "--invoices", "10", "--print-config"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '[orgs.options]\nlate_fee_account_code = "260"\nlate_fee_tax_type = "NONE"' in block
    config = tmp_path / "syncd.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/s.db"\n\n{block}', encoding="utf-8")
    loaded = load_config(config)
    assert loaded is not None
    # The company's own zone (Organisation.Timezone NEWZEALANDSTANDARDTIME), so that the
    # send window is its customers' daytime and `syncd check` has nothing to say about it.
    assert loaded.settings.orgs[0].timezone == "Pacific/Auckland"


def test_print_config_names_each_editions_timezone() -> None:
    for country, zone in (
        ("gb", "Europe/London"),
        ("au", "Australia/Sydney"),
        ("us", "America/Los_Angeles"),
    ):
        block = subprocess.run(
            [*SYNCD, "sandbox", "xero", "--country", country, "--invoices", "0", "--print-config"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f'timezone = "{zone}"' in block, country


def test_strict_serves_every_unkind_mode() -> None:
    port = _free_port()
    server = subprocess.Popen(
        [*SYNCD, "sandbox", "xero", "--port", str(port), "--invoices", "10", "--strict"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        modes = None
        deadline = time.monotonic() + 60
        while modes is None and time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/_sandbox/modes"
                with urllib.request.urlopen(url, timeout=2) as reply:
                    modes = json.loads(reply.read())
            except OSError:
                time.sleep(0.1)
        assert modes == {"shuffle_ties": True, "idempotency_ttl": 60.0, "email_idempotent": False}
    finally:
        server.terminate()
        server.wait(timeout=30)
