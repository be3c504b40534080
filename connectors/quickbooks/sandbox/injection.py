"""Scripted failures, so a client's retry and recovery paths can be exercised on demand.

Each rule fires ``count`` times on requests matching its optional method and path substring.
Kinds: ``http_500`` (QBO SystemFault JSON), ``http_503`` (gateway HTML), ``http_429`` (throttle
body, JSON or XML), ``timeout`` (hold the connection ``seconds`` then drop it; with ``commit`` the
request is executed first, so the client cannot know whether it happened), ``stale_synctoken``
(next matching write fails with 5010 and changes nothing) and ``malformed_json`` (the request runs,
the 200 body is cut in half).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("http_500", "http_503", "http_429", "timeout", "stale_synctoken", "malformed_json")
INFRA_KINDS = ("http_500", "http_503", "http_429", "timeout")


@dataclass
class FaultRule:
    kind: str
    count: int = 1
    method: str | None = None
    path: str | None = None
    seconds: float = 5.0
    format: str = "json"
    commit: bool = False
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path and self.path not in path)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rule_from_json(data: dict[str, Any]) -> FaultRule:
    kind = data.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    count = int(data.get("count", 1))
    if count < 1:
        raise ValueError("count must be >= 1")
    fmt = str(data.get("format", "json"))
    if fmt not in ("json", "xml"):
        raise ValueError("format must be json or xml")
    seconds = float(data.get("seconds", 5.0))
    if not 0 <= seconds <= 600:
        raise ValueError("seconds must be between 0 and 600")
    return FaultRule(
        kind=str(kind),
        count=count,
        method=str(data["method"]).upper() if data.get("method") else None,
        path=str(data["path"]) if data.get("path") else None,
        seconds=seconds,
        format=fmt,
        commit=bool(data.get("commit", False)),
    )


class FaultInjector:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.as_dict() for rule in self._rules]

    def take(self, method: str, path: str, kinds: tuple[str, ...]) -> FaultRule | None:
        """Consume one firing of the first matching rule of the given kinds."""
        with self._lock:
            for rule in self._rules:
                if rule.kind in kinds and rule.count > rule.fired and rule.matches(method, path):
                    rule.fired += 1
                    return rule
            return None
