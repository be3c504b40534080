"""The two provider sandboxes the demo runs, found through the ``syncd.sandboxes`` entry points.

syncd never imports a connector package: a sandbox is loaded by entry-point name and driven
through its documented control API over HTTP (``/_sandbox/clock``, ``/_sandbox/payments``),
the same way a test or a person with ``curl`` would.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import entry_points
from typing import Any
from zoneinfo import ZoneInfo

GROUP = "syncd.sandboxes"


class DemoSandboxError(RuntimeError):
    """A sandbox is missing or its control API refused a call."""


@dataclass
class DemoOrg:
    """One demo organisation: its name in the config and the sandbox that plays its books."""

    name: str
    provider: str
    timezone: str
    box: Any
    #: ``[orgs.options]`` the company needs for fees (late-fee item, account, tax code).
    options: dict[str, str]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_url(self) -> str:
        return str(self.box.base_url)

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 - the sandbox listens on loopback only
            f"{self.base_url}/_sandbox/{path}",
            data=None if body is None else json.dumps(body).encode("utf-8"),
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:200]
            raise DemoSandboxError(
                f"{self.provider} sandbox refused {method} /_sandbox/{path}: {exc.code} {detail}"
            ) from None

    def set_clock(self, when: datetime) -> None:
        """Keep the provider's clock where syncd's is (both sandboxes take ``{"set": ISO}``)."""
        self._control("POST", "clock", {"set": when.isoformat()})

    def pay(self, invoice_id: str, on: date) -> None:
        """The customer pays the invoice's whole open balance (each sandbox's own body)."""
        if self.provider == "quickbooks":
            body: dict[str, Any] = {
                "allocations": [{"invoice_id": invoice_id}],
                "txn_date": on.isoformat(),
                "private_note": "syncd demo: customer payment",
            }
        else:
            body = {"invoice_id": invoice_id, "date": on.isoformat(), "reference": "syncd demo"}
        self._control("POST", "payments", body)

    def stop(self) -> None:
        self.box.stop()


#: The demo's two companies: a US QuickBooks company and a UK Xero organisation.
ORGS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("demo-quickbooks", "quickbooks", "America/Los_Angeles", {}),
    ("demo-xero", "xero", "Europe/London", {"region": "UK"}),
)


def start_sandboxes(*, seed: int, invoices: int, now: datetime) -> list[DemoOrg]:
    """Start both sandboxes at ``now``; stop what started if one of them fails."""
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    missing = [provider for _, provider, _, _ in ORGS if provider not in found]
    if missing:
        raise DemoSandboxError(f"sandbox not installed: {', '.join(missing)}")
    started: list[DemoOrg] = []
    try:
        for name, provider, tz, extra in ORGS:
            box = found[provider].load()(seed=seed, invoices=invoices, port=0, now=now, **extra)
            box.start()
            config = box.org_config()
            options = {k[8:]: v for k, v in config.items() if k.startswith("options.")}
            if hasattr(box, "org_options"):
                options.update(box.org_options())
            started.append(DemoOrg(name, provider, tz, box, options))
    except Exception:
        for org in started:
            org.stop()
        raise
    return started
