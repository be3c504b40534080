"""A record's fingerprint is hashed in pieces small enough to keep the GIL, with the digest of
the whole: stored fingerprints stay valid (no row is rewritten because of the pieces)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec
import pytest

from syncd.store.bulk import FINGERPRINT_VERSION, record_fingerprint

FIELDS = ("INV-1", Decimal("10.50"), date(2026, 3, 1), datetime(2026, 3, 1, tzinfo=UTC), None)


def _whole(raw_text: str) -> str:
    encoded = msgspec.json.Encoder(decimal_format="number").encode(FIELDS)
    data = FINGERPRINT_VERSION + encoded + b"\x1e" + raw_text.encode()
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [0, 1, 2046, 2047, 2048, 2049, 4094, 4095, 4096, 10_000])
def test_the_digest_is_that_of_the_whole_text(size: int) -> None:
    raw_text = "".join(chr(ord("a") + i % 26) for i in range(size - 2)) + "é" if size else ""
    assert record_fingerprint(FIELDS, raw_text) == _whole(raw_text)
