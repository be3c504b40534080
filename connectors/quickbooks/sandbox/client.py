"""A tiny urllib client for the control API, so tests and demos need no HTTP library."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

JSON = dict[str, Any]


class ControlAPIError(RuntimeError):
    def __init__(self, status: int, body: JSON) -> None:
        super().__init__(f"control API {status}: {body.get('error', body)}")
        self.status = status
        self.body = body


class SandboxControlClient:
    """Drive a running sandbox: act as the business, bend the environment, read the truth."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: JSON | None = None) -> JSON:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - base_url is the loopback sandbox
            f"{self.base_url}/_sandbox/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                result: JSON = json.loads(response.read().decode("utf-8"))
                return result
        except urllib.error.HTTPError as exc:
            raw = exc.read().decode("utf-8", "replace")
            try:
                payload = json.loads(raw)
            except json.JSONDecodeError:
                payload = {"error": raw}
            raise ControlAPIError(exc.code, payload) from exc

    # -- environment --------------------------------------------------------------------
    def health(self) -> JSON:
        return self._call("GET", "health")

    def config(self) -> JSON:
        return self._call("GET", "config")

    def now(self) -> str:
        return str(self._call("GET", "clock")["now"])

    def advance_clock(self, *, seconds: float = 0, days: float = 0) -> str:
        return str(
            self._call("POST", "clock", {"advance_seconds": seconds, "advance_days": days})["now"]
        )

    def set_clock(self, when: str) -> str:
        return str(self._call("POST", "clock", {"set": when})["now"])

    def freeze_clock(self, frozen: bool = True) -> str:
        return str(self._call("POST", "clock", {"freeze": frozen})["now"])

    def expire_access_tokens(self) -> int:
        return int(self._call("POST", "tokens/expire", {})["expired"])

    def deny_consent(self, deny: bool = True) -> bool:
        """Make the consent page refuse (``error=access_denied``) until switched back."""
        return bool(self._call("POST", "consent", {"deny": deny})["deny"])

    def mint_access_token(self) -> str:
        return str(self._call("POST", "tokens/access", {})["access_token"])

    def set_rate_limit(self, per_minute: int, *, reset: bool = False) -> JSON:
        return self._call("POST", "rate-limit", {"per_minute": per_minute, "reset": reset})

    def set_cdc_max_objects(self, cap: int) -> JSON:
        return self._call("POST", "settings", {"cdc_max_objects": cap})

    def settings(self, **changes: Any) -> JSON:
        """Read (no arguments) or change the sandbox settings, unkind modes included."""
        if not changes:
            return self._call("GET", "settings")
        return self._call("POST", "settings", changes)

    def inject_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        method: str | None = None,
        path: str | None = None,
        seconds: float | None = None,
        format: str | None = None,
        commit: bool | None = None,
    ) -> JSON:
        body: JSON = {"kind": kind, "count": count}
        for name, value in (
            ("method", method),
            ("path", path),
            ("seconds", seconds),
            ("format", format),
            ("commit", commit),
        ):
            if value is not None:
                body[name] = value
        return self._call("POST", "faults", body)

    def clear_faults(self) -> JSON:
        return self._call("DELETE", "faults")

    # -- the business -------------------------------------------------------------------
    def add_payment(
        self,
        allocations: list[JSON],
        *,
        customer_id: str | None = None,
        amount: str | None = None,
        txn_date: str | None = None,
        private_note: str | None = None,
    ) -> JSON:
        """``allocations``: ``[{"invoice_id": "12", "amount": "50.00"}]``.

        An allocation without ``amount`` pays the invoice's whole open balance.
        """
        body: JSON = {"allocations": allocations}
        for name, value in (
            ("customer_id", customer_id),
            ("amount", amount),
            ("txn_date", txn_date),
            ("private_note", private_note),
        ):
            if value is not None:
                body[name] = value
        return self._call("POST", "payments", body)["payment"]  # type: ignore[no-any-return]

    def create_invoice(self, customer_id: str, lines: list[JSON], **fields: Any) -> JSON:
        body = {"customer_id": customer_id, "lines": lines, **fields}
        return self._call("POST", "invoices", body)["invoice"]  # type: ignore[no-any-return]

    def edit_invoice(
        self, invoice_id: str, *, fields: JSON | None = None, add_lines: list[JSON] | None = None
    ) -> JSON:
        body: JSON = {"fields": fields or {}, "add_lines": add_lines or []}
        return self._call("PATCH", f"invoices/{invoice_id}", body)["invoice"]  # type: ignore[no-any-return]

    def void_invoice(self, invoice_id: str) -> JSON:
        return self._call("POST", f"invoices/{invoice_id}/void", {})["invoice"]  # type: ignore[no-any-return]

    def delete_invoice(self, invoice_id: str) -> JSON:
        return self._call("POST", f"invoices/{invoice_id}/delete", {})["invoice"]  # type: ignore[no-any-return]

    def add_credit_memo(
        self, customer_id: str, amount: str, *, apply_to_invoice: str | None = None
    ) -> JSON:
        body: JSON = {"customer_id": customer_id, "amount": amount}
        if apply_to_invoice is not None:
            body["apply_to_invoice"] = apply_to_invoice
        return self._call("POST", "credit-memos", body)["credit_memo"]  # type: ignore[no-any-return]

    def create_customer(self, fields: JSON) -> JSON:
        return self._call("POST", "customers", fields)["customer"]  # type: ignore[no-any-return]

    def edit_customer(self, customer_id: str, fields: JSON) -> JSON:
        return self._call("PATCH", f"customers/{customer_id}", {"fields": fields})["customer"]  # type: ignore[no-any-return]

    # -- read back ----------------------------------------------------------------------
    def truth(self) -> JSON:
        return self._call("GET", "truth")

    def writes(self) -> JSON:
        return self._call("GET", "writes")

    def requests(self, since: int = 0) -> list[JSON]:
        return list(self._call("GET", "requests?" + urlencode({"since": since}))["requests"])

    def snapshot(self) -> JSON:
        return self._call("GET", "snapshot")
