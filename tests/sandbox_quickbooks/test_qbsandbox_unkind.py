"""The sandbox's unkind settings, through the real SDK and the control API."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest
import requests
from quickbooks import QuickBooks

from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.quickbooks.sandbox.client import ControlAPIError


def _send(qb: QuickBooks, invoice_id: str, request_id: str) -> None:
    url = f"{qb.api_url}/company/{qb.company_id}/invoice/{invoice_id}/send"
    qb.post(url, None, content_type="application/octet-stream", request_id=request_id)


def _open_with_email(sandbox: QuickBooksSandbox) -> str:
    return next(
        t["id"]
        for t in sandbox.control.truth()["invoices"]
        if t["status"] == "open" and t["bill_email"]
    )


def _emails(sandbox: QuickBooksSandbox, invoice_id: str) -> int:
    return len([e for e in sandbox.control.writes()["emails"] if e["invoice_id"] == invoice_id])


def test_settings_are_validated(sandbox: QuickBooksSandbox) -> None:
    for bad in ({"cdc_keep": "middle"}, {"shuffle_ties": "yes"}, {"bulk_import": True}, {"x": 1}):
        with pytest.raises(ControlAPIError):
            sandbox.control.settings(**bad)
    assert sandbox.control.settings()["cdc_keep"] == "oldest"


def test_replay_expires_after_its_ttl(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    sandbox.control.settings(replay_ttl_seconds=60)
    invoice_id = _open_with_email(sandbox)
    _send(qb, invoice_id, "same-id")
    _send(qb, invoice_id, "same-id")
    assert _emails(sandbox, invoice_id) == 1  # replayed inside the window
    sandbox.control.advance_clock(seconds=61)
    _send(qb, invoice_id, "same-id")
    assert _emails(sandbox, invoice_id) == 2


def test_send_outside_replay_when_configured(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    sandbox.control.settings(replay_covers_send=False)
    invoice_id = _open_with_email(sandbox)
    _send(qb, invoice_id, "one-id")
    _send(qb, invoice_id, "one-id")
    assert _emails(sandbox, invoice_id) == 2


def _cdc_stamps(box: QuickBooksSandbox, since: datetime) -> list[str]:
    answer = requests.get(
        f"{box.api_url}/company/{box.realm_id}/cdc",
        params={
            "entities": "Invoice,Payment",
            "changedSince": since.isoformat(),
            "minorversion": "75",
        },
        headers={
            "Authorization": f"Bearer {box.control.mint_access_token()}",
            "Accept": "application/json",
        },
        timeout=30,
    ).json()
    blocks = answer["CDCResponse"][0]["QueryResponse"]
    rows = [r for block in blocks for v in block.values() if isinstance(v, list) for r in v]
    return sorted(r["MetaData"]["LastUpdatedTime"] for r in rows)


@pytest.mark.parametrize("keep", ["oldest", "newest", "arbitrary"])
def test_capped_cdc_keeps_what_the_setting_says(keep: str) -> None:
    with QuickBooksSandbox(seed=4, invoices=60, unkind={"cdc_keep": keep}) as box:
        box.control.set_cdc_max_objects(5)
        box.control.advance_clock(seconds=60)
        since = datetime.fromisoformat(box.control.now())
        for t in [t for t in box.control.truth()["invoices"] if t["status"] == "open"][:6]:
            box.control.add_payment([{"invoice_id": t["id"], "amount": "1.00"}])
            box.control.advance_clock(seconds=2)
        everything = sorted(
            p["MetaData"]["LastUpdatedTime"]
            for e in ("Invoice", "Payment")
            for p in box.company.entities[e].values()
            if datetime.fromisoformat(p["MetaData"]["LastUpdatedTime"]) >= since
        )
        answers = [_cdc_stamps(box, since) for _ in range(4)]
    assert len(everything) > 5 and all(len(a) == 5 for a in answers)
    if keep == "oldest":
        assert answers[0] == everything[:5]
    elif keep == "newest":
        assert answers[0] == everything[-5:]
    else:
        assert len({tuple(a) for a in answers}) > 1  # a different subset on some call


def test_strict_cli_prints_every_option_a_fee_needs() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncd",
            "sandbox",
            "quickbooks",
            "--print-config",
            "--port",
            "0",
            "--strict",
            "--country",
            "GB",
            "--invoices",
            "10",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    options = out.split("[orgs.options]")[1]
    assert 'late_fee_item_id = "10"' in options
    assert 'late_fee_tax_code_id = "12"' in options and 'home_currency = "GBP"' in options


def test_bulk_import_is_reproducible_and_leaves_the_history_alone() -> None:
    now = datetime(2026, 11, 2, 17, 0).astimezone()
    with QuickBooksSandbox(seed=9, invoices=30, now=now) as plain:
        base = plain.control.snapshot()["entities"]["Customer"]
    with QuickBooksSandbox(seed=9, invoices=30, now=now, unkind={"bulk_import": True}) as bulk:
        assert (
            bulk.control.snapshot()["entities"]["Customer"][0]["DisplayName"]
            == base[0]["DisplayName"]
        )
        invoices = bulk.company.entities["Invoice"].values()
        migrated = [i for i in invoices if i.get("PrivateNote") == "Imported"]
        assert len(migrated) >= 300 + 15
        assert len({i["MetaData"]["CreateTime"] for i in migrated}) == 2
