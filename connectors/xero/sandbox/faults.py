"""Injected failures, so clients can be tested against Xero having a bad day.

A fault fires for the next ``count`` requests that match its optional method
and path prefix, after authentication and rate limiting (so it behaves like a
failure inside Xero and consumes rate-limit budget, as a real 5xx does).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

#: ``lost``: the request is carried out, then the connection drops before the answer (what a
#: client sees when Xero did the work and a proxy or the network lost the response).
KINDS = ("500", "503", "429", "timeout", "malformed", "lost")
PROBLEMS = ("minute", "day", "concurrent", "appminute")


@dataclass
class Fault:
    kind: str
    count: int = 1
    method: str | None = None
    path: str | None = None
    problem: str = "minute"
    retry_after: int = 60
    seconds: float = 30.0
    #: Matching requests to let through untouched before the fault starts firing.
    skip: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or path.lower().startswith(self.path.lower())

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_fault(data: dict[str, Any]) -> Fault:
    kind = str(data.get("kind", ""))
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    problem = str(data.get("problem", "minute"))
    if problem not in PROBLEMS:
        raise ValueError(f"problem must be one of {', '.join(PROBLEMS)}")
    count = int(data.get("count", 1))
    if count < 1:
        raise ValueError("count must be >= 1")
    method = data.get("method")
    path = data.get("path")
    return Fault(
        kind=kind,
        count=count,
        method=str(method) if method else None,
        path=str(path) if path else None,
        problem=problem,
        retry_after=int(data.get("retry_after", 60)),
        seconds=float(data.get("seconds", 30.0)),
        skip=max(0, int(data.get("skip", 0))),
    )


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.count > 0 and fault.matches(method, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    fault.count -= 1
                    fault.fired += 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
            return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_json() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
