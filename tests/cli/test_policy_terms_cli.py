"""``syncd policy terms``: the terms paragraph from the configured policy, JSON, and clear
errors (no traceback) for an unknown policy or locale."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from syncd.cli.app import app

EXAMPLE = str(Path(__file__).resolve().parents[2] / "config.example.toml")
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", EXAMPLE, "policy", "terms", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


def test_terms_of_the_configured_policy_follow_its_override() -> None:
    code, out, _ = run("firm")
    assert code == 0
    # config.example.toml's firm extends standard with the fee step moved to day 10
    assert "10 days after the due date: we email you a payment reminder; a charge of" in out
    assert "never exceed 10% of the invoice total" in out


def test_json_and_locale() -> None:
    code, out, _ = run("uk-statutory", "--locale", "de_DE", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["policy"] == "uk-statutory" and data["locale"] == "de_DE"
    assert "40,00\xa0£" in data["text"] and "in English" in data["note"]
    assert data["text"] == " ".join(data["sentences"])


def test_unknown_policy_and_locale_are_clear_errors() -> None:
    code, out, err = run("nope")
    assert code == 2 and out == ""
    assert "no policy named 'nope' (known: firm, gentle, standard, uk-statutory)" in err
    code, out, err = run("standard", "--locale", "xx_QQ")
    assert code == 2 and "unknown locale 'xx_QQ'" in err
    assert "Traceback" not in err
