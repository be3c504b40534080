"""The exact requests the Xero connector sends, pinned by a vcrpy cassette.

The cassette was recorded against the local Xero sandbox (``connectors/xero/sandbox``), not
against api.xero.com: a tiny seeded organisation with its clock frozen, backfilled, then one
of each write. The normal run replays it with ``record_mode="none"``, matching method, path,
query and body (never host or port, so no sandbox needs to run), and fails if the connector
sends anything the cassette does not hold or leaves any recorded request unsent. Keyset pages
share a query string and differ in ``If-Modified-Since``, writes in ``Idempotency-Key``, so
those headers (and ``xero-tenant-id``) are matched too.

Re-record after an intended change to what the connector sends:

    SYNCD_XERO_RECORD=1 .venv/bin/pytest tests/connectors/xero/test_xero_cassettes.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import vcr
import yaml
from vcr.serializers import yamlserializer

from connectors.base import LateFee
from connectors.xero.client import XeroConnector
from connectors.xero.sandbox import XeroSandbox, XeroSandboxClient
from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.connections import connect, org_id_for
from syncd.store import open_store
from syncd.sync import Syncer
from tests.support.xero_truth import mismatches

from .conftest import ORG, write_config

CASSETTES = Path(__file__).parent / "cassettes"
CASSETTE = "backfill_and_writes.recorded-against-local-sandbox.yaml"
FROZEN = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
SEED, INVOICES = 5, 8
RECORD = os.environ.get("SYNCD_XERO_RECORD") == "1"
HEADER = (
    "# Recorded against the local Xero sandbox (connectors/xero/sandbox, seed 5, 8 invoices,\n"
    "# clock frozen at 2026-05-01T09:30Z), NOT against api.xero.com. Tokens are the sandbox's\n"
    "# and are redacted. Re-record: SYNCD_XERO_RECORD=1 .venv/bin/pytest "
    "tests/connectors/xero/test_xero_cassettes.py\n"
)


class HeaderSerializer:
    """vcrpy's YAML with a header comment saying where the recording came from."""

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        return HEADER + str(yamlserializer.serialize(cassette_dict))

    @staticmethod
    def deserialize(cassette_string: str) -> dict[str, Any]:
        return dict(yaml.safe_load(cassette_string))


def redact_tokens(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {}).get("string", b"")
    if isinstance(body, bytes) and b'"access_token"' in body:
        import json

        data = json.loads(body)
        data.update(access_token="redacted-access", refresh_token="redacted-refresh")
        response["body"]["string"] = json.dumps(data).encode()
    return response


PINNED_HEADERS = ("If-Modified-Since", "Idempotency-Key", "xero-tenant-id")


def xero_headers(r1: Any, r2: Any) -> None:
    """Keyset pages differ only in If-Modified-Since, writes in their Idempotency-Key."""
    for name in PINNED_HEADERS:
        assert r1.headers.get(name) == r2.headers.get(name), name


def recorder() -> vcr.VCR:
    v = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        serializer="yaml-with-header",
        record_mode="all" if RECORD else "none",
        match_on=["method", "path", "query", "body", "xero_headers"],
        filter_headers=["authorization"],
        filter_post_data_parameters=["refresh_token", "client_id", "client_secret"],
        before_record_response=redact_tokens,
        decode_compressed_response=True,
    )
    v.register_serializer("yaml-with-header", HeaderSerializer)
    v.register_matcher("xero_headers", xero_headers)
    return v


@contextmanager
def organisation() -> Iterator[XeroSandbox]:
    """Recording: a live sandbox with a frozen clock. Replaying: the same seed, never started
    (its config and ids are all the test needs; nothing reaches its port)."""
    sandbox = XeroSandbox(seed=SEED, invoices=INVOICES, now=FROZEN, port=0 if RECORD else 9)
    sandbox.clock._monotonic = lambda: 0.0  # frozen, so re-recordings differ only by intent
    sandbox.clock._anchor_mono = 0.0
    if not RECORD:
        yield sandbox
        return
    with sandbox:
        yield sandbox


def test_backfill_and_one_of_each_write_send_exactly_the_recorded_requests(
    tmp_path: Path,
) -> None:
    with organisation() as sandbox:
        truth = sandbox.org.truth()
        path = write_config(
            tmp_path / "syncd.toml",
            f"sqlite:///{tmp_path / 'syncd.db'}",
            {ORG: sandbox.org_config()},
            page_size=4,
        )
        config = load_config(path)
        store = open_store(config.store_url)
        clock = FixedClock(FROZEN)
        try:
            with recorder().use_cassette(CASSETTE) as cassette:
                connector = connect(store, config, ORG, clock)
                assert isinstance(connector, XeroConnector)
                connector.sleep = connector.governor.sleep = _no_sleep
                org_id = org_id_for(store, config, ORG, clock)
                Syncer(store, org_id, ORG, connector, clock).backfill()
                with store.sessions() as s:
                    assert mismatches(s, truth) == []

                contacts = {c["contact_id"] for c in truth["contacts"] if c["email_recipients"]}
                target = next(
                    t
                    for t in truth["invoices"]
                    if t["status"] == "AUTHORISED"
                    and t["contact_id"] in contacts
                    and Decimal(t["amount_paid"]) == 0
                    and Decimal(t["amount_credited"]) == 0
                )
                invoice_id = target["invoice_id"]
                fee = LateFee(Decimal("15.00"), target["currency"], "Late fee")
                note = connector.add_note(invoice_id, "Reminder 1", idempotency_key="k:note")
                sent = connector.send_provider_email(invoice_id, to=None, idempotency_key="k:email")
                line = connector.add_charge(invoice_id, fee, idempotency_key="k:fee/line:1")
                connector.options = connector.options.model_copy(
                    update={"late_fee_mode": "invoice"}
                )
                other = connector.add_charge(invoice_id, fee, idempotency_key="k:fee/inv:1")
                assert note.detail == "[syncd:k:note] Reminder 1"
                assert sent.detail and sent.detail.startswith("emailed by Xero")
                assert line.invoice is not None and line.invoice.lines[0].fee_key == "k:fee/line:1"
                assert other.invoice is not None and other.invoice.total == Decimal("15.00")
                if not RECORD:
                    assert cassette.all_played, "a recorded request was not sent"
                writes = [r for r in cassette.requests if r.method in ("PUT", "POST")]
                keys = [r.headers.get("Idempotency-Key") for r in writes if "/api.xro" in r.uri]
                assert keys == [
                    "k:note",
                    "k:email:intent",
                    "k:email",
                    "k:email:note",
                    "k:fee/line:1",
                    "k:fee/inv:1:fee-invoice",
                ]
                assert all(
                    "xero-tenant-id" in r.headers for r in cassette.requests if "/api.xro" in r.uri
                )
            if RECORD:
                control = XeroSandboxClient(sandbox.base_url)
                assert len(control.writes()["emails"]) == 1
        finally:
            store.close()


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"the recorded scenario should never wait ({seconds} s)")
