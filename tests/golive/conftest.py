"""A seeded sandbox company (QuickBooks or Xero) with an 18-month backlog, backfilled under the
default go-live settings (no ``go_live``, no ``review`` key), driven through the real CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.review.conftest import World, make_world
from tests.support.smtp import smtp_server


@pytest.fixture(params=["quickbooks", "xero"])
def backlog(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        # An 18-month backlog: the first cycle's shape is what counts.
        yield from make_world(request.param, tmp_path, store_url, port, inbox, invoices=450)
