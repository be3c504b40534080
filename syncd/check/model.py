"""Findings of the pre-flight check, as plain values for the table and for ``--json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.base import FindingSeverity


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing checked. ``org`` is None for what all orgs share (the SMTP server)."""

    org: str | None
    check: str
    severity: FindingSeverity
    detail: str
    #: Machine-readable particulars (customer id, counts) for ``--json`` consumers.
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "check": self.check,
            "severity": self.severity.value,
            "detail": self.detail,
            **({"data": self.data} if self.data else {}),
        }


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is FindingSeverity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": sum(f.severity is FindingSeverity.WARNING for f in self.findings),
            "findings": [f.to_dict() for f in self.findings],
        }
