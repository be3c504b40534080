"""``syncd check`` against the QuickBooks sandbox and a real SMTP server: what would fail is
reported before any run, nothing is written to the provider and no email is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from connectors.quickbooks.sandbox import QuickBooksSandbox
from syncd.cli.app import app
from syncd.config import load_config
from syncd.connections import connect, org_id_for
from syncd.store import open_store
from syncd.store.models import Org
from syncd.sync import Syncer
from tests.check.conftest import PASSWORD, LoginServer
from tests.connectors.quickbooks.conftest import SANDBOX_NOW, TrackingClock, write_config
from tests.support.smtp import free_port

runner = CliRunner()
NOW = "2026-11-03T17:00:00+00:00"


@pytest.fixture
def sandbox() -> Iterator[QuickBooksSandbox]:
    with QuickBooksSandbox(seed=11, invoices=150, now=SANDBOX_NOW) as sandbox:
        yield sandbox


def _config(
    tmp_path: Path, sandbox: QuickBooksSandbox, email: str, extra: str = "", **options: Any
) -> Path:
    path = write_config(
        tmp_path / "syncd.toml",
        f"sqlite:///{tmp_path / 'store.db'}",
        sandbox.org_config(),
        email=email,
        **options,
    )
    if extra:
        path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def _backfill(path: Path, sandbox: QuickBooksSandbox) -> None:
    config = load_config(path)
    store = open_store(config.store_url)
    clock = TrackingClock(sandbox)
    try:
        connector = connect(store, config, "qbo", clock)
        org_id = org_id_for(store, config, "qbo", clock)
        Syncer(store, org_id, "qbo", connector, clock).backfill()
        connector.close()
    finally:
        store.close()


def _check(path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["--config", str(path), "--now", NOW, "check", "--json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def _by_check(report: dict[str, Any], check: str, org: str | None = "qbo") -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["check"] == check and f["org"] == org]


def _no_email_customers(sandbox: QuickBooksSandbox) -> set[str]:
    """From the provider's own books, not from syncd: customers owing money, no address."""
    truth = sandbox.control.truth()
    owing = {
        i["customer_id"]
        for i in truth["invoices"]
        if i["status"] == "open" and Decimal(i["balance"]) > 0
    }
    return {c["id"] for c in truth["customers"] if c["id"] in owing and not c["email"]}


def test_missing_fee_item_and_customers_without_email_are_reported_before_any_run(
    tmp_path: Path, sandbox: QuickBooksSandbox, login_smtp: LoginServer
) -> None:
    path = _config(tmp_path, sandbox, login_smtp.email_block(), late_fee_item_id="404")
    _backfill(path, sandbox)
    posts_before = [r for r in sandbox.control.requests() if r["method"] == "POST"]

    code, report = _check(path)

    assert code == 1 and report["ok"] is False
    (item,) = _by_check(report, "late_fee_item")
    assert item["severity"] == "error" and 'late_fee_item_id = "404"' in item["detail"]
    expected = _no_email_customers(sandbox)
    assert expected, "the seeded company has customers without email"
    listed = _by_check(report, "customer_email")
    assert {f["data"]["customer"] for f in listed} == expected
    for finding in listed:
        assert finding["severity"] == "error"
        assert "no reminder email" in finding["data"]["instead"]
        assert "Add an address to the customer in QuickBooks" in finding["detail"]
    (smtp,) = _by_check(report, "smtp", org=None)
    assert smtp["severity"] == "ok" and "login accepted" in smtp["detail"]
    assert login_smtp.logins == [("syncd", True)] and login_smtp.messages == []
    (company,) = _by_check(report, "company")
    assert company["data"]["name"] and company["severity"] in ("ok", "warning")
    # Read-only towards the provider: queries only (QuickBooks queries are POSTs too).
    posts = [r for r in sandbox.control.requests() if r["method"] == "POST"][len(posts_before) :]
    assert all(r["path"].endswith("/query") or "/oauth2/" in r["path"] for r in posts), posts


def test_human_output_is_one_table_and_the_exit_status_follows_errors(
    tmp_path: Path, sandbox: QuickBooksSandbox, login_smtp: LoginServer
) -> None:
    path = _config(tmp_path, sandbox, login_smtp.email_block())
    _backfill(path, sandbox)
    result = runner.invoke(app, ["--config", str(path), "--now", NOW, "check"])
    assert "syncd pre-flight check" in result.stdout
    assert "late_fee_item" in result.stdout and "customer_email" in result.stdout
    # The seed has customers without email: that alone would fail at execution.
    assert result.exit_code == 1 and "would fail" in result.stdout


def test_bad_smtp_password_is_reported_and_never_printed(
    tmp_path: Path, sandbox: QuickBooksSandbox, login_smtp: LoginServer
) -> None:
    path = _config(tmp_path, sandbox, login_smtp.email_block(password="wrong-horse-42"))
    code, report = _check(path)
    (smtp,) = _by_check(report, "smtp", org=None)
    assert code == 1 and smtp["severity"] == "error"
    assert "AUTH" in smtp["detail"] and "535" in smtp["detail"]
    assert "wrong-horse-42" not in json.dumps(report) and PASSWORD not in json.dumps(report)
    # smtplib tries each mechanism the server offers (PLAIN, LOGIN): every try refused.
    assert login_smtp.logins and set(login_smtp.logins) == {("syncd", False)}


def test_unreachable_smtp_is_reported_and_the_org_is_still_checked(
    tmp_path: Path, sandbox: QuickBooksSandbox
) -> None:
    dead = free_port()
    email = (
        f'[email]\nhost = "127.0.0.1"\nport = {dead}\nsecurity = "none"\n'
        'from_address = "ar@acme.test"\ntimeout_seconds = 5\n'
    )
    path = _config(tmp_path, sandbox, email)
    code, report = _check(path)
    (smtp,) = _by_check(report, "smtp", org=None)
    assert code == 1 and smtp["severity"] == "error" and "cannot connect" in smtp["detail"]
    assert _by_check(report, "late_fee_item")[0]["severity"] == "ok"


def test_one_org_that_cannot_connect_does_not_stop_the_others(
    tmp_path: Path, sandbox: QuickBooksSandbox, login_smtp: LoginServer
) -> None:
    org = sandbox.org_config()
    broken = f"""
[[orgs]]
name = "broken"
connector = "quickbooks"
policy = "standard"
base_url = "{org["base_url"]}"
token_url = "{org["token_url"]}"

[orgs.credentials]
client_id = "{org["client_id"]}"
client_secret = "{org["client_secret"]}"
refresh_token = "not-a-valid-refresh-token"
realm_id = "{org["realm_id"]}"

[orgs.options]
late_fee_item_id = "10"
"""
    path = _config(tmp_path, sandbox, login_smtp.email_block(), extra=broken)
    code, report = _check(path)
    failed = [f for f in report["findings"] if f["org"] == "broken" and f["severity"] == "error"]
    assert code == 1 and failed
    assert any(f["check"] == "connection" for f in failed), failed
    assert _by_check(report, "late_fee_item")[0]["severity"] == "ok"
    assert "not-a-valid-refresh-token" not in json.dumps(report)
    only = _check(path, "--org", "qbo")[1]
    assert {f["org"] for f in only["findings"]} == {None, "qbo"}


def test_config_check_lists_the_customer_groups_found(
    tmp_path: Path, sandbox: QuickBooksSandbox, login_smtp: LoginServer
) -> None:
    path = _config(tmp_path, sandbox, login_smtp.email_block())
    before = runner.invoke(app, ["--config", str(path), "config", "check"])
    assert before.exit_code == 0 and "no store yet" in before.stdout
    assert not (tmp_path / "store.db").exists(), "config check must not create the store"
    _backfill(path, sandbox)
    # QuickBooks names the type in CustomerType; the customer only carries its id.
    names = {"1": "Commercial", "2": "Residential", "3": "Government", "4": "Non-profit"}
    names["5"] = "Trade partner"
    customers = sandbox.control.snapshot()["entities"]["Customer"]
    expected: dict[str, int] = {}
    for customer in customers:
        ref = (customer.get("CustomerTypeRef") or {}).get("value")
        if ref:
            expected[names[ref]] = expected.get(names[ref], 0) + 1
    assert len(expected) >= 3
    result = runner.invoke(app, ["--config", str(path), "config", "check"], terminal_width=400)
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("customer groups in qbo"))
    for name, count in expected.items():
        assert f"{name!r} ({count})" in line


def test_sync_caches_the_business_name_for_emails(
    tmp_path: Path, sandbox: QuickBooksSandbox, login_smtp: LoginServer
) -> None:
    path = _config(tmp_path, sandbox, login_smtp.email_block())
    result = runner.invoke(app, ["--config", str(path), "backfill"])
    assert result.exit_code == 0, result.output
    (info,) = sandbox.control.snapshot()["entities"]["CompanyInfo"]
    store = open_store(load_config(path).store_url)
    try:
        with store.sessions() as session:
            org = session.scalars(select(Org)).one()
            assert org.company_name == info["CompanyName"]
            assert org.company_info is not None and org.company_info["address"]
    finally:
        store.close()


def test_customers_excluded_from_dunning_are_not_listed(
    tmp_path: Path, sandbox: QuickBooksSandbox, login_smtp: LoginServer
) -> None:
    expected = sorted(_no_email_customers(sandbox))
    excluded = expected[0]
    rule = f'\n[[dunning.rules]]\ncustomer_ids = ["{excluded}"]\nexclude = true\n'
    path = _config(tmp_path, sandbox, login_smtp.email_block(), extra=rule)
    _backfill(path, sandbox)
    _, report = _check(path)
    listed = {f["data"]["customer"] for f in _by_check(report, "customer_email")}
    assert listed == set(expected) - {excluded}


def test_a_timezone_outside_the_companys_country_is_a_warning(
    tmp_path: Path, login_smtp: LoginServer
) -> None:
    """The company's country comes from the provider (CompanyInfo); the config's zone is the
    benches' America/Los_Angeles, which is the US sandbox's own and not the British one's."""
    with QuickBooksSandbox(seed=11, invoices=20, now=SANDBOX_NOW, country="GB") as british:
        path = _config(tmp_path, british, login_smtp.email_block(), late_fee_tax_code_id="12")
        _, report = _check(path)
        (zone,) = _by_check(report, "timezone")
        assert zone["severity"] == "warning" and zone["data"]["country"] == "GB"
        assert "timezone America/Los_Angeles is not a timezone of GB" in zone["detail"]
        assert 'set timezone = "Europe/London"' in zone["detail"]
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("America/Los_Angeles", "Europe/London"), encoding="utf-8")
        _, report = _check(path)
        (zone,) = _by_check(report, "timezone")
        assert zone["severity"] == "ok" and "Europe/London is in GB" in zone["detail"]


def test_the_us_sandbox_in_its_own_zone_passes(
    tmp_path: Path, sandbox: QuickBooksSandbox, login_smtp: LoginServer
) -> None:
    _, report = _check(_config(tmp_path, sandbox, login_smtp.email_block()))
    (zone,) = _by_check(report, "timezone")
    assert zone["severity"] == "ok" and zone["data"]["country"] == "US"
