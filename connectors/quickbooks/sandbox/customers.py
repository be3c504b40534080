"""Customer writes: create, full and sparse update, unique display names."""

from __future__ import annotations

from datetime import datetime

from . import faults
from .books import Books
from .catalog import (
    CURRENCIES,
)
from .jsontree import copy_json
from .money import ZERO
from .shapes import (
    _CUSTOMER_WRITABLE,
    JSON,
    _blank,
    _clone,
    _ordered,
    _ref_value,
)


class CustomerRules(Books):
    """Customer create and update."""

    def create_customer(self, body: JSON, *, at: datetime | None = None, v4id: str = "") -> JSON:
        with self.lock:
            when = self._stamp(at)
            name = body.get("DisplayName")
            if _blank(name):
                given = " ".join(
                    str(body.get(k) or "") for k in ("GivenName", "FamilyName")
                ).strip()
                name = given or body.get("CompanyName")
            if _blank(name):
                raise faults.required_param(
                    "Required parameter DisplayName is missing in the request", "DisplayName"
                )
            self._check_unique_name(str(name), None)
            currency = body.get("CurrencyRef")
            code = (
                _ref_value(currency, "CurrencyRef") if not _blank(currency) else self.home_currency
            )
            if code not in CURRENCIES:
                raise faults.invalid_reference(f"Currency {code}", "CurrencyRef")
            customer_id = str(self.next_customer_id)
            self.next_customer_id += 1
            payload: JSON = {
                "Taxable": bool(body.get("Taxable", False)),
                "Job": False,
                "BillWithParent": False,
                "Balance": ZERO,
                "BalanceWithJobs": ZERO,
                "CurrencyRef": self._currency_ref(code),
                "PreferredDeliveryMethod": body.get("PreferredDeliveryMethod") or "Print",
                "IsProject": False,
                "ClientEntityId": "0",
                "domain": "QBO",
                "sparse": False,
                "Id": customer_id,
                "SyncToken": "0",
                "MetaData": self._meta(when, modified_by=False),
                "FullyQualifiedName": str(name),
                "DisplayName": str(name),
                "Active": bool(body.get("Active", True)),
                "V4IDPseudonym": v4id or f"00209{int(customer_id):033x}",
            }
            for key in _CUSTOMER_WRITABLE:
                if not _blank(body.get(key)):
                    payload[key] = copy_json(body[key])
            if "SalesTermRef" in payload:
                payload["SalesTermRef"] = self._term_ref(payload["SalesTermRef"])
            payload.setdefault("PrintOnCheckName", payload.get("CompanyName") or str(name))
            self.entities["Customer"][customer_id] = _ordered("Customer", payload)
            self.names[str(name).strip().lower()] = customer_id
            return self.entities["Customer"][customer_id]

    def _check_unique_name(self, name: str, own_id: str | None) -> None:
        other = self.names.get(name.strip().lower())
        if other is not None and other != own_id:
            raise faults.validation(
                "6240",
                "Duplicate Name Exists Error",
                f"The name supplied already exists. : Another customer is already using "
                f"this name ({other}). Please use a different name.",
            )

    def update_customer(self, body: JSON, *, sparse: bool, at: datetime | None = None) -> JSON:
        with self.lock:
            current = self._current("Customer", body)
            when = self._stamp(at)
            new = _clone(current)
            keys = (
                [k for k in _CUSTOMER_WRITABLE if k in body] if sparse else list(_CUSTOMER_WRITABLE)
            )
            for key in keys:
                value = body.get(key)
                if _blank(value):
                    new.pop(key, None)
                elif key == "SalesTermRef":
                    new[key] = self._term_ref(value)
                else:
                    new[key] = copy_json(value)
            if "DisplayName" in body and not _blank(body["DisplayName"]):
                self._check_unique_name(str(body["DisplayName"]), current["Id"])
                self.names.pop(current["DisplayName"].strip().lower(), None)
                self.names[str(body["DisplayName"]).strip().lower()] = current["Id"]
                new["DisplayName"] = str(body["DisplayName"])
                new["FullyQualifiedName"] = new["DisplayName"]
            for flag in ("Active", "Taxable"):
                if flag in body and isinstance(body[flag], bool):
                    new[flag] = body[flag]
            if "PreferredDeliveryMethod" in body and not _blank(body["PreferredDeliveryMethod"]):
                new["PreferredDeliveryMethod"] = str(body["PreferredDeliveryMethod"])
            self._bump(new, when)
            self.entities["Customer"][current["Id"]] = _ordered("Customer", new)
            return self.entities["Customer"][current["Id"]]
