"""``syncd run`` starts the receiver on ``[daemon] webhook_address`` and stops it on SIGTERM;
with the address empty, nothing listens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.daemon.service import Service
from syncd.store import open_store
from tests.support.smtp import free_port

CONFIG = """
[store]
url = "sqlite:///syncd.db"

[daemon]
webhook_address = "{address}"
metrics_address = ""

[email]
host = "127.0.0.1"
port = 9
security = "none"
from_address = "ar@example.com"

[[orgs]]
name = "books"
connector = "xero"
policy = "standard"
base_url = "http://127.0.0.1:9/api.xro/2.0"
token_url = "http://127.0.0.1:9/token"
[orgs.credentials]
client_id = "c"
client_secret = "s"
refresh_token = "r"
tenant_id = "3f1c6a7e-1111-4c6f-9d7a-0123456789ab"
[orgs.webhooks]
webhook_key = "${{XERO_WEBHOOK_KEY}}"
"""


def test_run_serves_webhooks_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    path = tmp_path / "syncd.toml"
    path.write_text(CONFIG.format(address=f"127.0.0.1:{port}"), encoding="utf-8")
    secret = "daemon-webhook-key-0a9b8c"
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncd", "--config", str(path), "--log-format", "json", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "XERO_WEBHOOK_KEY": secret},
    )
    try:
        assert proc.stderr is not None
        seen = []
        deadline = time.monotonic() + 60
        for line in proc.stderr:
            seen.append(line)
            if "syncd running" in line:
                break
            assert time.monotonic() < deadline, "service did not start"
        assert any("webhook receiver listening" in line for line in seen), seen
        url = f"http://127.0.0.1:{port}/webhooks/xero/books"
        answer = requests.post(url, data=b'{"events": []}', timeout=30)
        assert answer.status_code == 401 and answer.content == b""
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert secret not in "".join(seen) + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("address", ["", "no-port", "host:99999"])
def test_webhook_address_is_optional_and_validated(tmp_path: Path, address: str) -> None:
    path = tmp_path / "syncd.toml"
    path.write_text(CONFIG.format(address=address), encoding="utf-8")
    if address:
        with pytest.raises(Exception, match="webhook_address"):
            load_config(path, env={"XERO_WEBHOOK_KEY": "k" * 10})
        return
    config = load_config(path, env={"XERO_WEBHOOK_KEY": "k" * 10})
    store = open_store(config.store_url)
    try:
        assert Service(store, config, FixedClock())._webhooks() is None
    finally:
        store.close()
