"""Where Intuit's documentation is silent, the sandbox can give the answer a client likes least.

Each setting is an undocumented behaviour of QBO; the kind default is what the sandbox did
before, ``strict`` turns every unfavourable choice on at once. Settable by constructor
(``QuickBooksSandbox(strict=True)`` or ``unkind={...}``), by ``POST /_sandbox/settings`` and by
``syncd sandbox quickbooks --strict``.

* ``cdc_keep``: which objects a CDC answer over the 1,000-object cap keeps: ``oldest`` (kind),
  ``newest``, or ``arbitrary`` (a different random subset on every call).
* ``shuffle_ties``: query rows that tie on every ORDER BY key come back in a fresh random
  order on every call (no hidden tie-break on Id).
* ``replay_ttl_seconds``: how long a ``requestid`` is remembered (sandbox clock); ``None`` =
  forever (kind).
* ``replay_covers_send``: whether ``POST /invoice/{id}/send`` is deduplicated by
  ``requestid`` at all.
* ``bulk_import`` (seed time only): the history includes bulk imports, hundreds of invoices and
  payments stamped with one ``LastUpdatedTime``.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field, fields
from typing import Any

CDC_KEEP = ("oldest", "newest", "arbitrary")
STRICT_REPLAY_TTL_SECONDS = 300.0


@dataclass
class Unkindness:
    cdc_keep: str = "oldest"
    shuffle_ties: bool = False
    replay_ttl_seconds: float | None = None
    replay_covers_send: bool = True
    bulk_import: bool = False
    rng: random.Random = field(
        default_factory=lambda: random.Random(20261126),  # noqa: S311 - test data
        repr=False,
        compare=False,
    )
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def strict(cls) -> Unkindness:
        return cls(
            cdc_keep="newest",
            shuffle_ties=True,
            replay_ttl_seconds=STRICT_REPLAY_TTL_SECONDS,
            replay_covers_send=False,
            bulk_import=True,
        )

    def update(self, changes: dict[str, Any], *, seeding: bool = False) -> None:
        """Apply settings from the constructor or the control API; ``ValueError`` if bad."""
        names = {f.name for f in fields(self)} - {"rng", "lock"}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown sandbox settings: {', '.join(sorted(unknown))}")
        if "bulk_import" in changes and not seeding:
            raise ValueError("bulk_import shapes the seeded history: set it at construction")
        if "cdc_keep" in changes:
            if changes["cdc_keep"] not in CDC_KEEP:
                raise ValueError(f"cdc_keep must be one of {', '.join(CDC_KEEP)}")
            self.cdc_keep = str(changes["cdc_keep"])
        for flag in ("shuffle_ties", "replay_covers_send", "bulk_import"):
            if flag in changes:
                if not isinstance(changes[flag], bool):
                    raise ValueError(f"{flag} must be true or false")
                setattr(self, flag, changes[flag])
        if "replay_ttl_seconds" in changes:
            ttl = changes["replay_ttl_seconds"]
            if ttl is not None and (not isinstance(ttl, int | float) or ttl < 0):
                raise ValueError("replay_ttl_seconds must be a number >= 0 or null")
            self.replay_ttl_seconds = None if ttl is None else float(ttl)

    def as_json(self) -> dict[str, Any]:
        return {
            "cdc_keep": self.cdc_keep,
            "shuffle_ties": self.shuffle_ties,
            "replay_ttl_seconds": self.replay_ttl_seconds,
            "replay_covers_send": self.replay_covers_send,
            "bulk_import": self.bulk_import,
        }

    def shuffle(self, rows: list[Any]) -> None:
        with self.lock:
            self.rng.shuffle(rows)

    def sample(self, rows: list[Any], k: int) -> list[Any]:
        with self.lock:
            return self.rng.sample(rows, k)
