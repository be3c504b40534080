"""Every report figure on a hand-made history (partial payments, a credit note, a refund, a
late fee, three currencies) in a real store, checked against the independent replay in
``history.py``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from syncd.cli.app import app
from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.connections import org_id_for
from syncd.store import open_store
from tests.reports import history as h

runner = CliRunner()
BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_90_plus")


@dataclass
class Books:
    config: Path

    def run(self, *args: str) -> str:
        result = runner.invoke(
            app, ["--config", str(self.config), "--now", "2026-06-30T18:00:00+00:00", *args]
        )
        assert result.exit_code == 0, result.output
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))


@pytest.fixture
def books(tmp_path: Path, store_url: str) -> Iterator[Books]:
    path = h.write_config(tmp_path, store_url)
    config = load_config(path)
    store = open_store(config.store_url)
    try:
        org_id = org_id_for(store, config, h.ORG, FixedClock(h._at(h.TODAY)))
        with store.sessions.begin() as session:
            h.write_history(session, org_id)
    finally:
        store.close()
    yield Books(path)


@pytest.mark.parametrize("as_of", [date(2026, 2, 28), date(2026, 4, 3), date(2026, 5, 10), h.TODAY])
def test_aging_at_past_days_matches_the_replay(books: Books, as_of: date) -> None:
    rows = books.json("report", "aging", "--as-of", as_of.isoformat())
    expected = h.expected_aging(as_of)
    got = {(r["customer"], r["currency"]): r for r in rows}
    assert set(got) == set(expected)
    for key, row in got.items():
        assert row["org"] == h.ORG and row["customer_name"] == h.CUSTOMERS[key[0]]
        for b in BUCKETS:
            assert Decimal(row[b]) == expected[key].get(b, Decimal(0)), (key, b)
        assert Decimal(row["total"]) == sum(expected[key].values(), Decimal(0))


def test_aging_figures_by_hand(books: Books) -> None:
    """Two figures worked out on paper, so the replay itself is checked too."""
    rows = books.json("report", "aging", "--as-of", "2026-04-03")
    by = {(r["customer"], r["currency"]): r for r in rows}
    # i1: 1000 - 300 paid = 700, 58 days late; i2: 500 - 120 credit = 380, 22 days late.
    assert by[("c1", "USD")]["days_31_60"] == "700.00"
    assert by[("c1", "USD")]["days_1_30"] == "380.00"
    # i3 paid on 2 April (refunded in May): nothing owed on 3 April; i4 is 93 days late.
    assert by[("c2", "EUR")]["days_1_30"] == "0.00"
    assert by[("c2", "EUR")]["days_90_plus"] == "260.50"
    # The refund reopens i3 from 5 May.
    later = {
        (r["customer"], r["currency"]): r
        for r in books.json("report", "aging", "--as-of", "2026-05-06")
    }
    assert later[("c2", "EUR")]["days_31_60"] == "800.00"
    # A zero-decimal currency keeps no decimals (i5: 54000 JPY, 10 days late on 1 March).
    march = books.json("report", "aging", "--as-of", "2026-03-01")
    jpy = next(r for r in march if r["currency"] == "JPY")
    assert jpy["days_1_30"] == "54000" and jpy["total"] == "54000"


def test_aging_by_currency_and_csv(books: Books) -> None:
    rows = books.json("report", "aging", "--by", "currency", "--as-of", "2026-05-06")
    expected = h.expected_aging(date(2026, 5, 6))
    for row in rows:
        assert row["customer"] is None
        want = sum(
            (
                sum(v.values(), Decimal(0))
                for (c, cur), v in expected.items()
                if cur == row["currency"]
            ),
            Decimal(0),
        )
        assert Decimal(row["total"]) == want
    text = books.run("report", "aging", "--csv", "--as-of", "2026-05-06")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert {(r["customer_name"], r["total"]) for r in parsed} == {
        (r["customer_name"], r["total"])
        for r in books.json("report", "aging", "--as-of", "2026-05-06")
    }


def test_dso_per_month_matches_the_replay(books: Books) -> None:
    rows = books.json("report", "dso", "--from", "2026-01-01", "--to", "2026-06-30")
    assert rows
    for row in rows:
        start, end = date.fromisoformat(row["from"]), date.fromisoformat(row["to"])
        mine = [i for i in h.INVOICES if i.currency == row["currency"]]
        receivables = sum((i.owed(end) for i in mine), Decimal(0))
        sales = sum(
            (
                i.principal + (i.fee[1] if i.fee and i.fee[0] <= end else 0)
                for i in mine
                if start <= i.issued <= end
            ),
            Decimal(0),
        )
        assert Decimal(row["receivables"]) == receivables
        assert Decimal(row["sales"]) == sales
        days = (end - start).days + 1
        if sales:
            assert abs(Decimal(row["dso"]) - receivables / sales * days) <= Decimal("0.05")
        else:
            assert row["dso"] is None
    # January USD: i1 (1000) issued and unpaid at month end: DSO = 1000/1000 x 31 = 31.
    jan = next(r for r in rows if r["from"] == "2026-01-01" and r["currency"] == "USD")
    assert jan["dso"] == "31.0"
    weekly = books.json(
        "report", "dso", "--from", "2026-03-02", "--to", "2026-03-15", "--every", "week"
    )
    assert {(r["from"], r["to"]) for r in weekly} == {
        ("2026-03-02", "2026-03-08"),
        ("2026-03-09", "2026-03-15"),
    }


def test_effectiveness_matches_the_replay(books: Books) -> None:
    doc = books.json("report", "effectiveness", "--from", "2026-01-01", "--to", "2026-06-30")
    body = doc["orgs"][h.ORG]
    steps = {s["step"]: s for s in body["steps"]}
    assert set(steps) == {"reminder-1", "final", "late-fee"}
    for name, row in steps.items():
        want = h.expected_step(name)
        assert row["reached"] == want["reached"], name
        for w in (7, 14, 30):
            assert (row[f"paid_{w}d_count"], row[f"paid_{w}d_n"]) == want[w], (name, w)
        assert row["median_days_to_payment"] == want["median"], name
    # Money received, credited to the last step reached before it (worked out by hand):
    # i1: 700 on 20 May after "final" (10 Apr), 300 on 1 Mar after reminder-1; i2: the
    # credit note brings no money, 100 on 10 Jun after late-fee (15 Apr); i3: 800 on 2 Apr
    # after reminder-1, refunded on 5 May before "final" (nets to nothing); i5: 54000 JPY;
    # i8: 400 of money (and a 100 credit memo) in one payment after reminder-1.
    assert steps["reminder-1"]["collected"] == {"JPY": "54000", "USD": "700.00"}
    assert steps["final"]["collected"] == {"USD": "700.00"}
    assert steps["late-fee"]["collected"] == {"USD": "100.00"}
    fees = body["fees"]
    assert fees["charged"] == {"USD": "25.00"} and fees["charged_count"] == 1
    assert fees["collected"] == {} and fees["waived"] == {"EUR": "30.00"}
    recovery = body["recovery"]  # this history has no plans, settlements or hand-offs
    assert (recovery["plans_kept"], recovery["plans_broken"], recovery["handoffs"]) == (0, 0, 0)
    assert recovery["settlements"] == 0 and not recovery["written_off"]
    # --policy filters; an unknown one leaves nothing.
    assert (
        books.json(
            "report",
            "effectiveness",
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
            "--policy",
            "gentle",
        )["orgs"][h.ORG]["steps"]
        == []
    )


def test_tables_and_bad_input(books: Books) -> None:
    text = books.run("report", "effectiveness", "--from", "2026-01-01", "--to", "2026-06-30")
    assert "reminder-1" in text and "fees charged 1 (25.00 USD)" in text
    assert "Alder Ltd" in books.run("report", "aging", "--as-of", "2026-04-03")
    bad = runner.invoke(
        app,
        [
            "--config",
            str(books.config),
            "report",
            "dso",
            "--from",
            "2026-13-01",
            "--to",
            "2026-12-01",
        ],
    )
    assert bad.exit_code == 2 and "expected a date" in bad.output and "Traceback" not in bad.output
    bad = runner.invoke(app, ["--config", str(books.config), "report", "aging", "--by", "region"])
    assert bad.exit_code == 2 and "customer or currency" in bad.output
