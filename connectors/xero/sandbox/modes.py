"""Unkind modes: where Xero's documentation is silent, the answer a client likes least.

Xero documents neither the order of rows that tie on the sort field, nor how long an
``Idempotency-Key`` is remembered, nor whether ``POST /Invoices/{id}/Email`` honours the key
at all. The sandbox's defaults are the kind answers (ties by id, keys kept for ever, every
write covered); each unkind answer is a setting here, switched on by ``XeroSandbox(...,
strict=True)``, ``syncd sandbox xero --strict`` or ``POST /_sandbox/modes``:

* ``shuffle_ties``: rows that tie on the sort field (``UpdatedDateUTC`` by default, or the
  ``order`` given) come back in a new random order on every call, so page N of one call and
  page N+1 of the next can overlap and skip rows.
* ``idempotency_ttl``: seconds (by the sandbox clock) a key is replayed; after that the same
  key runs the request again. ``None`` keeps keys for ever.
* ``email_idempotent``: ``False`` means ``/Invoices/{id}/Email`` ignores the key: every call
  sends the email again.
* ``bulk_import`` (seed only): that many extra invoices, half of them paid, imported in one
  go so that invoices and payments share one ``UpdatedDateUTC`` to the millisecond.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

T = TypeVar("T")

#: What ``strict=True`` turns on.
STRICT_TTL_SECONDS = 60.0
STRICT_BULK_IMPORT = 240


@dataclass
class Modes:
    shuffle_ties: bool = False
    idempotency_ttl: float | None = None
    email_idempotent: bool = True

    @classmethod
    def strict(cls) -> Modes:
        return cls(shuffle_ties=True, idempotency_ttl=STRICT_TTL_SECONDS, email_idempotent=False)

    def update(self, data: dict[str, Any]) -> None:
        unknown = set(data) - {"shuffle_ties", "idempotency_ttl", "email_idempotent", "strict"}
        if unknown:
            raise ValueError(f"unknown mode(s): {', '.join(sorted(unknown))}")
        if data.get("strict"):
            strict = Modes.strict()
            self.shuffle_ties, self.idempotency_ttl = strict.shuffle_ties, strict.idempotency_ttl
            self.email_idempotent = strict.email_idempotent
        if "shuffle_ties" in data:
            self.shuffle_ties = bool(data["shuffle_ties"])
        if "idempotency_ttl" in data:
            ttl = data["idempotency_ttl"]
            if ttl is not None and float(ttl) < 0:
                raise ValueError("idempotency_ttl must be >= 0 seconds, or null for ever")
            self.idempotency_ttl = None if ttl is None else float(ttl)
        if "email_idempotent" in data:
            self.email_idempotent = bool(data["email_idempotent"])

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def shuffle_ties(rows: Sequence[T], key: Callable[[T], Any]) -> list[T]:
    """Shuffle each run of consecutive rows that share ``key`` (rows already sorted by it).

    A fresh system-seeded generator every call: the point is that no two calls agree.
    """
    rng = random.SystemRandom()
    out: list[T] = []
    run: list[T] = []
    for row in rows:
        if run and key(run[-1]) != key(row):
            rng.shuffle(run)
            out.extend(run)
            run = []
        run.append(row)
    rng.shuffle(run)
    out.extend(run)
    return out
