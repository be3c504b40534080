"""A provider sandbox in its own process, and what the benchmark asks of it.

The sandbox runs as ``syncd sandbox PROVIDER`` so that its CPU and memory are never counted as
the measured client's. One sandbox serves every run of a round: backfills only read, and
before each run the harness takes a fresh refresh token (the previous run rotated its own),
resets the rate-limit window and notes where the request log stands.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOW = "2026-11-01T12:00:00+00:00"
PROVIDERS = ("quickbooks", "xero")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sandbox:
    provider: str
    invoices: int
    seed: int = 1
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    block: str = ""
    started_in: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _args(self, invoices: int | None = None) -> list[str]:
        count = self.invoices if invoices is None else invoices
        seed = ["--seed", str(self.seed), "--now", NOW]
        return ["--port", str(self.port), *seed, "--invoices", str(count)]

    def start(self) -> Sandbox:
        syncd = str(Path(sys.executable).with_name("syncd"))
        self.port = free_port()
        self.block = subprocess.run(
            # The block depends on the seed, not the size (the refresh token is replaced by
            # fresh_block): an empty company prints it without seeding 100,000 invoices twice.
            [syncd, "sandbox", self.provider, *self._args(0), "--print-config", "--name", "bench"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [syncd, "sandbox", self.provider, *self._args()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.provider} sandbox exited on start")
            try:
                self.control("GET", "config")
                break
            except OSError:
                time.sleep(0.1)
        self.started_in = time.perf_counter() - began
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)
            self.process = None

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}/_sandbox/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            text = response.read()
        return json.loads(text) if text else None

    def fresh_block(self) -> str:
        """The ``[[orgs]]`` TOML block with a refresh token nobody has spent yet."""
        if self.provider == "quickbooks":
            token = self.control("GET", "config")["refresh_token"]
        else:
            token = self.control("POST", "tokens/refresh-token")["refresh_token"]
        return re.sub(r'refresh_token = "[^"]*"', f'refresh_token = "{token}"', self.block)

    def reset_limits(self) -> None:
        if self.provider == "quickbooks":
            self.control("POST", "rate-limit", {"reset": True})
        else:
            self.control("POST", "limits/reset")

    def log_position(self) -> int:
        """The sequence number of the last logged request (the log keys entries by ``seq``)."""
        entries = self.control("GET", "requests")["requests"]
        return max((int(e["seq"]) for e in entries), default=0)

    def calls_since(self, position: int) -> dict[str, int]:
        entries = self.control("GET", f"requests?since={position}")["requests"]
        api_prefix = "/v3" if self.provider == "quickbooks" else "/api.xro"
        api = [e for e in entries if str(e["path"]).startswith(api_prefix)]
        return {
            "api_calls": len(api),
            "token_calls": len(entries) - len(api),
            "http_429": sum(1 for e in entries if e["status"] == 429),
        }
