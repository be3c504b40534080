"""A/B tests of policies: which arm a customer is in.

The arm is a pure function of (seed, org, customer id), so every run, every machine and
every replay agree without coordination; syncd records the first assignment in its store
and passes it back in the customer snapshot, so that changing ``share`` or ``seed`` later
never moves a customer who was already dunned under one arm (that would mix the groups
the comparison relies on).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from enum import StrEnum


class Arm(StrEnum):
    CONTROL = "control"
    """The rule's own policy."""
    CANDIDATE = "candidate"
    """The experiment's policy."""


def bucket(seed: str, org: str, customer_id: str) -> Decimal:
    """A uniform number in [0, 1) from the hash; length-prefixed so parts cannot run
    into each other (``a|bc`` vs ``ab|c``)."""
    blob = "".join(f"{len(p)}:{p}" for p in (seed, org, customer_id)).encode()
    value = int.from_bytes(hashlib.sha256(blob).digest()[:8], "big")
    return Decimal(value) / Decimal(2**64)


def assign_arm(seed: str, org: str, customer_id: str, share: Decimal) -> Arm:
    """The arm for a customer not yet assigned: candidate with probability ``share``."""
    return Arm.CANDIDATE if bucket(seed, org, customer_id) < share else Arm.CONTROL
