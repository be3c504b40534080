"""A small urllib client for the control API, so tests need no HTTP library.

Every method is one control endpoint; errors raise :class:`SandboxControlError`
with the sandbox's message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode


class SandboxControlError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class XeroSandboxClient:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        if not base_url.startswith(("http://127.", "http://localhost", "http://[::1]")):
            raise ValueError("the control client only talks to a loopback sandbox")
        self.base = base_url.rstrip("/") + "/_sandbox"
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body, default=_default).encode("utf-8") if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback http checked in __init__
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            payload = exc.read().decode("utf-8", "replace")
            try:
                message = str(json.loads(payload).get("error", payload))
            except (ValueError, AttributeError):
                message = payload
            raise SandboxControlError(exc.code, message) from None
        return json.loads(raw) if raw else None

    # ---------------------------------------------------------------- reads
    def config(self) -> dict[str, Any]:
        return dict(self._call("GET", "/config"))

    def truth(self) -> dict[str, Any]:
        return dict(self._call("GET", "/truth"))

    def writes(self) -> dict[str, list[dict[str, Any]]]:
        return dict(self._call("GET", "/writes"))

    def requests(self, *, bodies: bool = False, since: int = 0) -> list[dict[str, Any]]:
        query = urlencode({"bodies": "true" if bodies else "false", "since": since})
        return list(self._call("GET", f"/requests?{query}")["requests"])

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def record_bodies(self, on: bool = True) -> None:
        self._call("POST", "/requests/record", {"bodies": on})

    # ---------------------------------------------------------------- clock
    def now(self) -> datetime:
        return datetime.fromisoformat(self._call("GET", "/clock")["now"])

    def advance(self, seconds: float) -> datetime:
        return datetime.fromisoformat(
            self._call("POST", "/clock", {"advance_seconds": seconds})["now"]
        )

    def set_time(self, moment: datetime) -> datetime:
        return datetime.fromisoformat(
            self._call("POST", "/clock", {"set": moment.isoformat()})["now"]
        )

    # --------------------------------------------------------------- tokens
    def expire_access_tokens(self) -> int:
        return int(self._call("POST", "/tokens/expire")["expired"])

    def revoke_refresh_tokens(self) -> int:
        return int(self._call("POST", "/tokens/revoke")["revoked"])

    def new_refresh_token(self) -> str:
        return str(self._call("POST", "/tokens/refresh-token")["refresh_token"])

    def deny_consent(self, deny: bool = True) -> bool:
        """Make the consent page refuse (``error=access_denied``) until switched back."""
        return bool(self._call("POST", "/consent", {"deny": deny})["deny"])

    def authorization_code(self) -> str:
        return str(self._call("POST", "/tokens/code")["code"])

    # --------------------------------------------------------------- limits
    def limits(
        self,
        *,
        minute: int | None = None,
        day: int | None = None,
        concurrent: int | None = None,
        app_minute: int | None = None,
    ) -> dict[str, Any]:
        body = {
            k: v
            for k, v in {
                "minute": minute,
                "day": day,
                "concurrent": concurrent,
                "app_minute": app_minute,
            }.items()
            if v is not None
        }
        return dict(self._call("POST", "/limits", body))

    def reset_limits(self) -> dict[str, Any]:
        return dict(self._call("POST", "/limits/reset"))

    # --------------------------------------------------------------- faults
    def add_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        method: str | None = None,
        path: str | None = None,
        problem: str | None = None,
        retry_after: int | None = None,
        seconds: float | None = None,
        skip: int | None = None,
    ) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"kind": kind, "count": count}
        for name, value in (
            ("method", method),
            ("path", path),
            ("problem", problem),
            ("retry_after", retry_after),
            ("seconds", seconds),
            ("skip", skip),
        ):
            if value is not None:
                body[name] = value
        return list(self._call("POST", "/faults", body)["faults"])

    def faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/faults")["faults"])

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # ------------------------------------------------------------- payments
    def add_payment(
        self,
        invoice_id: str,
        amount: Decimal | str | None = None,
        *,
        on: date | None = None,
        reference: str = "",
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"invoice_id": invoice_id, "reference": reference}
        if amount is not None:
            body["amount"] = str(amount)
        if on is not None:
            body["date"] = on.isoformat()
        return dict(self._call("POST", "/payments", body))

    def delete_payment(self, payment_id: str) -> dict[str, Any]:
        return dict(self._call("DELETE", f"/payments/{payment_id}"))

    # ------------------------------------------------------------- invoices
    def invoice(self, invoice_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/invoices/{invoice_id}"))

    def create_invoice(self, **fields: Any) -> dict[str, Any]:
        """Fields: contact_id, status, due_date, lines=[{description, quantity, unit_amount}]..."""
        return dict(self._call("POST", "/invoices", fields))

    def edit_invoice(self, invoice_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/invoices/{invoice_id}", fields))

    def void_invoice(self, invoice_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/invoices/{invoice_id}/void"))

    def delete_invoice(self, invoice_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/invoices/{invoice_id}/delete"))

    # ----------------------------------------------- unkind modes and setup
    def modes(self, **changes: Any) -> dict[str, Any]:
        """Read (no arguments) or change the unkind modes (see modes.py)."""
        if not changes:
            return dict(self._call("GET", "/modes"))
        return dict(self._call("POST", "/modes", changes))

    def bulk_import(self, invoices: int, *, seed: int = 0) -> dict[str, Any]:
        return dict(self._call("POST", "/bulk-import", {"invoices": invoices, "seed": seed}))

    def lock_dates(self, **dates: date | None) -> dict[str, Any]:
        """``period_lock_date=`` / ``end_of_year_lock_date=`` (None clears); none: read."""
        if not dates:
            return dict(self._call("GET", "/lock-dates"))
        return dict(self._call("POST", "/lock-dates", dict(dates)))

    def receive(
        self,
        kind: str,
        contact_id: str,
        amount: Decimal | str,
        allocations: Sequence[tuple[str, Decimal | str]] = (),
        *,
        on: date | None = None,
    ) -> dict[str, Any]:
        """A prepayment or overpayment (``kind``) from a customer, allocated to invoices."""
        body: dict[str, Any] = {
            "contact_id": contact_id,
            "amount": str(amount),
            "allocations": [{"invoice_id": i, "amount": str(a)} for i, a in allocations],
        }
        if on is not None:
            body["date"] = on.isoformat()
        return dict(self._call("POST", f"/{kind}s", body))

    def raw_invoice(self, invoice_id: str, **fields: Any) -> dict[str, Any]:
        """Force fields into an invoice's JSON (None removes one): hostile provider data."""
        return dict(self._call("POST", f"/raw/invoices/{invoice_id}", fields))

    def edit_contact(self, contact_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/contacts/{contact_id}", fields))


def _default(value: object) -> str:
    if isinstance(value, (Decimal, date, datetime)):
        return value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")
