"""A seeded sandbox company (QuickBooks or Xero) with an 18-month backlog, backfilled under the
default go-live settings (no ``go_live``, no ``review`` key), driven through the real CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.quickbooks import conftest as qbo
from tests.connectors.xero import conftest as xero
from tests.review.conftest import World, default_review
from tests.support.smtp import Inbox, smtp_server


def backlog_world(
    provider: str, tmp_path: Path, store_url: str, port: int, inbox: Inbox, invoices: int
) -> Iterator[World]:
    """Like the review worlds, with a bigger backlog: the first cycle's shape is what counts."""
    if provider == "quickbooks":
        for qb in qbo.make_bench(tmp_path, store_url, invoices=invoices, smtp_port=port):
            qb.config = default_review(qb.config.path, port, add_email=False)
            qb.syncer().backfill()
            yield World(
                provider,
                "qbo",
                qb.config,
                qb.store,
                inbox,
                qb.clock.now,
                qb.sandbox.control.writes,
                qb,
            )
    else:
        for xb in xero.make_bench(tmp_path, store_url, invoices=invoices, minute_limit=5000):
            xb.config = default_review(xb.config.path, port, add_email=True)
            xb.syncer().backfill()
            yield World(
                provider,
                xero.ORG,
                xb.config,
                xb.store,
                inbox,
                xb.clock.now,
                xb.control.writes,
                xb,
            )


@pytest.fixture(params=["quickbooks", "xero"])
def backlog(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        yield from backlog_world(request.param, tmp_path, store_url, port, inbox, 450)
