"""Cheaper serving (issue 19, cached row bytes joined into query and CDC pages) sends the bytes
main sent: every query kind the SDK, syncd and the benchmarks ask, CDC answers (capped too), the
control API's answers, API and control-API writes of every entity, and all of it again after
the writes.

The digests were recorded by running ``servedbytes.py`` against main at 123eecc (before this
change). If the seeded history or a served shape is ever changed on purpose, record them again
from the code that made the change - never from the code under test. Larger companies (20,000
and 100,000 invoices) are compared between two checkouts with the script itself (see its
docstring); they are too slow to pin here.
"""

from __future__ import annotations

import hashlib

import pytest

from .servedbytes import digests

RECORDED_ON_MAIN = {
    "1:100:US": "227d130b725dd6594c62246118bddd24ac70b5e125c63669192163572a398783",
    "2:2000:CA:strict": "2c147cbff2775b862e2a0a621b948d77c31d1b4e9e75f7710c5dc7fc72763eec",
    "7:2000:GB": "3a84d64532c169a4f89f465d2ec7d5a2598d6078d2c24510ec9cc40eb5241a7a",
}


@pytest.mark.parametrize("label", sorted(RECORDED_ON_MAIN))
def test_served_bytes_are_the_ones_main_served(label: str) -> None:
    found = digests(label)
    assert len(found) == 165
    assert hashlib.sha256("".join(found.values()).encode()).hexdigest() == RECORDED_ON_MAIN[label]
