"""A QuickBooks company in GB (the sandbox over HTTP), a real SMTP server and a store, with
two debtors the tests know to the penny: an individual (customer type "Residential", marked
by ``individual_groups``) and a limited company (QuickBooks ``CompanyName``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from syncd.cli.app import app
from syncd.config import load_config
from tests.connectors.quickbooks import conftest as qbo
from tests.support.smtp import Inbox, smtp_server

runner = CliRunner()

LETTER_STEP = """
[policies.ladder]
extends = "standard"

[[policies.ladder.steps]]
id = "final-notice"
days = 30
actions = [
    {{ kind = "email", template = "final-notice" }},
    {{ {escalate} }},
]
"""
ESCALATE = (
    'kind = "escalate", level = "letter", letter = "{letter}", pay_within_days = {days}, '
    'consequences = ["collection-agency", "legal-proceedings"], attach_to_email = true, '
    "by_post = true"
)


@dataclass
class Debtor:
    id: str
    name: str
    invoices: list[dict[str, Any]]


@dataclass
class LetterWorld:
    bench: qbo.Bench
    inbox: Inbox
    jane: Debtor
    works: Debtor
    #: Neither the provider nor the org says whether Sam is a business.
    sam: Debtor

    @property
    def today(self) -> date:
        return self.bench.clock.now().date()

    def cli(self, *args: str, ok: bool = True) -> Any:
        result = runner.invoke(
            app,
            [
                "--config",
                str(self.bench.config.path),
                "--now",
                self.bench.clock.now().isoformat(),
                *args,
            ],
        )
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.cli(*args).stdout)

    def truth_invoice(self, invoice_id: str) -> dict[str, Any]:
        snap = self.bench.sandbox.control.snapshot()
        found = snap["Invoice"][invoice_id] if isinstance(snap.get("Invoice"), dict) else None
        assert found is not None, invoice_id
        return dict(found)


def _debtor(
    control: Any,
    today: date,
    name: str,
    fields: dict[str, Any],
    invoices: list[tuple[str, int, int]],
) -> Debtor:
    customer = control.create_customer(
        {
            "DisplayName": name,
            "PrimaryEmailAddr": {"Address": f"{name.split()[0].lower()}@debtor.test"},
            "BillAddr": {
                "Line1": "12 Mill Lane",
                "City": "Leeds",
                "PostalCode": "LS1 4AB",
                "Country": "GB",
            },
            **fields,
        }
    )
    made = []
    for amount, issued_ago, due_ago in invoices:
        made.append(
            control.create_invoice(
                customer["Id"],
                [{"amount": amount, "description": "Joinery work"}],
                txn_date=(today - timedelta(days=issued_ago)).isoformat(),
                due_date=(today - timedelta(days=due_ago)).isoformat(),
            )
        )
    return Debtor(customer["Id"], name, made)


def make_world(
    tmp_path: Path, store_url: str, *, letter: str = "pre-action-ew", days: int = 30
) -> Iterator[LetterWorld]:
    with smtp_server() as (inbox, port):
        for bench in qbo.make_bench(
            tmp_path,
            store_url,
            invoices=6,
            smtp_port=port,
            late_fee_tax_code_id="12",
            sandbox_options={"country": "GB"},
        ):
            control = bench.sandbox.control
            today = bench.clock.now().date()
            jane = _debtor(
                control,
                today,
                "Jane Doe",
                {"CustomerTypeRef": {"value": "2"}},
                [("500.00", 50, 20), ("240.00", 40, 17)],
            )
            works = _debtor(
                control,
                today,
                "Widget Works Ltd",
                {"CompanyName": "Widget Works Ltd"},
                [("1200.00", 45, 19)],
            )
            sam = _debtor(control, today, "Sam Unknown", {}, [("300.00", 48, 18)])
            control.add_payment(
                [{"invoice_id": jane.invoices[0]["Id"], "amount": "100.00"}],
                customer_id=jane.id,
                txn_date=(today - timedelta(days=20)).isoformat(),
            )
            text = bench.config.path.read_text(encoding="utf-8")
            text = text.replace('policy = "standard"', 'policy = "ladder"').replace(
                'review = "off"\n',
                'review = "off"\nindividual_groups = ["Residential"]\n'
                'business_groups = ["Commercial"]\n',
            )
            text += f'\n[letters]\nfolder = "{tmp_path / "letters"}"\n'
            text += LETTER_STEP.format(escalate=ESCALATE.format(letter=letter, days=days))
            bench.config.path.write_text(text, encoding="utf-8")
            bench.config = load_config(bench.config.path)
            bench.syncer().backfill()
            yield LetterWorld(bench, inbox, jane, works, sam)


@pytest.fixture
def letter_world(tmp_path: Path, store_url: str) -> Iterator[LetterWorld]:
    yield from make_world(tmp_path, store_url)
