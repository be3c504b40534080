"""Pin the exact requests the QuickBooks connector sends (method, path, query, body).

The cassette was recorded against the local QuickBooks sandbox (never against Intuit) and is
replayed with ``record_mode="none"``: any change in what goes over the wire fails here.
Re-record after a deliberate wire change with:

    SYNCD_RECORD_CASSETTES=1 .venv/bin/pytest tests/connectors/quickbooks/test_qbo_cassettes.py
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import vcr

from connectors.base import EntityKind, InvoiceStatus, LateFee, OrgConnection, TokenState
from connectors.quickbooks.client import QuickBooksConnector
from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.quickbooks.settings import QuickBooksCredentials, QuickBooksOptions

CASSETTE = Path(__file__).parent / "cassettes" / "backfill_and_writes.recorded-against-sandbox.yaml"
RECORD = os.environ.get("SYNCD_RECORD_CASSETTES") == "1"
NOW = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
TOKEN_PATH = "/oauth2/v1/tokens/bearer"


class MemoryTokens:
    def __init__(self) -> None:
        self.state = TokenState()

    def load(self) -> TokenState:
        return self.state

    def save(self, state: TokenState) -> None:
        self.state = state


def _same_body_unless_token(r1: Any, r2: Any) -> None:
    # The token request carries a credential; it is matched by path only.
    if r1.path.endswith(TOKEN_PATH):
        return
    assert r1.body == r2.body, f"{r1.method} {r1.path}: body differs"


def _scrub(request: Any) -> Any:
    if request.path.endswith(TOKEN_PATH):
        request.body = b"<credentials removed>"
    return request


recorder = vcr.VCR(
    record_mode="all" if RECORD else "none",
    match_on=["method", "path", "query", "body_unless_token"],
    filter_headers=["authorization"],
    before_record_request=_scrub,
    decode_compressed_response=True,
)
recorder.register_matcher("body_unless_token", _same_body_unless_token)


def _connector(org: dict[str, str]) -> QuickBooksConnector:
    connection = OrgConnection(
        org_name="cassette",
        credentials=QuickBooksCredentials.model_validate(
            {k: org[k] for k in ("client_id", "client_secret", "refresh_token", "realm_id")}
        ),
        options=QuickBooksOptions(page_size=5, late_fee_item_id="10"),
        base_url=org["base_url"],
        token_url=org["token_url"],
        tokens=MemoryTokens(),
        now=lambda: NOW,
    )
    return QuickBooksConnector(connection, sleep=lambda _s: None)


def _scenario(connector: QuickBooksConnector) -> dict[str, Any]:
    invoices = [
        inv
        for entity in EntityKind
        for page in connector.backfill(entity, None)
        for inv in page.invoices
    ]
    target = next(i for i in invoices if i.status is InvoiceStatus.OPEN and i.currency == "USD")
    connector.add_note(target.provider_id, "First reminder sent", idempotency_key="cas:1:note")
    connector.send_provider_email(target.provider_id, to=None, idempotency_key="cas:1:email")
    fee = connector.add_charge(
        target.provider_id,
        LateFee(Decimal("12.50"), "USD", "Late fee"),
        idempotency_key="cas:1:fee",
    )
    assert fee.invoice is not None
    return {
        "invoices": len(invoices),
        "target": target.provider_id,
        "fee_line": fee.invoice.lines[-1].fee_key,
        "balance_after_fee": fee.invoice.balance - target.balance,
    }


def test_wire_requests_match_the_recorded_cassette() -> None:
    if RECORD:
        with QuickBooksSandbox(seed=5, invoices=14, now=NOW) as sandbox:
            sandbox.control.freeze_clock()
            connector = _connector(sandbox.org_config())
            with recorder.use_cassette(str(CASSETTE)):
                result = _scenario(connector)
    else:
        if not CASSETTE.exists():
            pytest.fail(f"cassette missing: {CASSETTE}")
        # Nothing listens on port 9: every request must be answered from the cassette.
        connector = _connector(
            {
                "client_id": "replay",
                "client_secret": "replay",
                "refresh_token": "replay",
                "realm_id": "9341000000000005",
                "base_url": "http://127.0.0.1:9/v3",
                "token_url": f"http://127.0.0.1:9{TOKEN_PATH}",
            }
        )
        with recorder.use_cassette(str(CASSETTE), allow_playback_repeats=False) as cassette:
            result = _scenario(connector)
            assert cassette.all_played, "the connector sent fewer requests than recorded"
    assert result["fee_line"] == "cas:1:fee"
    assert result["balance_after_fee"] == Decimal("12.50")
    assert result["invoices"] > 5  # more than one page of 5
