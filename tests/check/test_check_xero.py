"""The pre-flight check against the Xero sandbox: the connector's own findings, customers
Xero could not email, and the organisation's name and address."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.base import FindingSeverity
from syncd.check import Finding, run_checks
from syncd.config.models import EmailSettings
from syncd.store.models import Org
from tests.check.conftest import PASSWORD, USER, LoginServer
from tests.connectors.xero.conftest import Bench, make_bench


@pytest.fixture
def bench(tmp_path: Path, store_url: str) -> Iterator[Bench]:
    for bench in make_bench(
        tmp_path, store_url, invoices=60, minute_limit=600, late_fee_account_code="999"
    ):
        bench.syncer().backfill()
        yield bench


def _of(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def test_xero_org_is_checked_end_to_end(bench: Bench, login_smtp: LoginServer) -> None:
    settings = bench.config.settings.model_copy(
        update={
            "email": EmailSettings(
                host="127.0.0.1",
                port=login_smtp.port,
                security="none",
                username=USER,
                password=PASSWORD,  # type: ignore[arg-type]
                from_address="ar@acme.test",
            )
        }
    )
    config = replace(bench.config, settings=settings)
    bench.control.clear_requests()

    report = run_checks(config, bench.store, bench.clock, ["xero"])

    assert not report.ok
    (account,) = _of(report.findings, "late_fee_account_code")
    assert account.severity is FindingSeverity.ERROR and "does not exist" in account.detail
    (smtp,) = _of(report.findings, "smtp")
    assert smtp.severity is FindingSeverity.OK and smtp.org is None
    # Expected from the sandbox's own books: open invoices, nobody Xero would email.
    truth = bench.truth()
    owing = {
        i["contact_id"]
        for i in truth["invoices"]
        if i["status"] == "AUTHORISED" and Decimal(i["amount_due"]) > 0
    }
    unreachable = {
        c["contact_id"]
        for c in truth["contacts"]
        if c["contact_id"] in owing and not c["email_recipients"]
    }
    assert unreachable, "the seed forces a contact that cannot be emailed"
    listed = _of(report.findings, "customer_email")
    assert {f.data["customer"] for f in listed} == unreachable
    assert all("in Xero" in f.detail for f in listed)
    (company,) = _of(report.findings, "company")
    assert company.severity is FindingSeverity.OK and company.data["address"]
    with bench.store.sessions() as session:
        org = session.query(Org).filter_by(name="xero").one()
        assert org.company_name == company.data["name"]
    assert {r["method"] for r in bench.api_requests()} == {"GET"}, "pre-flight only reads"
