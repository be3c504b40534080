"""Config errors name the file, the key path and what was expected, and exit with status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syncd.cli.app import app
from syncd.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"

ORG = """
[[orgs]]
name = "acme"
connector = "quickbooks"
policy = "standard"
[orgs.credentials]
client_id = "cid"
client_secret = "{secret}"
refresh_token = "rt"
realm_id = "123"
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "syncd.toml"
    path.write_text(body, encoding="utf-8")
    return path


def run_check(path: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--config", str(path), "config", "check"], env=env)
    return result.exit_code, result.output


def test_example_config_passes_through_the_installed_command() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QBO_", "XERO_", "SMTP_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "syncd", "--config", str(EXAMPLE), "config", "check"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "acme-us" in proc.stdout and "acme-uk" in proc.stdout


@pytest.mark.parametrize(
    ("body", "path", "expected"),
    [
        (ORG.format(secret="s") + 'colour = "red"\n', "orgs[0].credentials.colour", "unknown key"),
        (
            ORG.format(secret="s").replace('policy = "standard"', "policy = 3"),
            "orgs[0].policy",
            "expected a valid string",
        ),
        (
            "[daemon]\nsync_interval_minutes = 'often'\n",
            "daemon.sync_interval_minutes",
            "expected a valid integer",
        ),
        ("[store]\nurl = 'sqlite:///x.db'\nflavour = 1\n", "store.flavour", "unknown key"),
        (
            ORG.format(secret="${SYNCD_TEST_MISSING_VAR}"),
            "orgs[0].credentials.client_secret",
            "SYNCD_TEST_MISSING_VAR",
        ),
        (
            ORG.format(secret="s").replace('"standard"', '"standard"\ntimezone = "Mars/Olympus"'),
            "orgs[0].timezone",
            "IANA timezone",
        ),
        (
            ORG.format(secret="s").replace('"quickbooks"', '"sage"'),
            "orgs[0].connector",
            "unknown connector 'sage'",
        ),
        (
            # realm_id may wait for `syncd connect`; the app's client secret may not.
            ORG.format(secret="s").replace('client_secret = "s"', ""),
            "orgs[0].credentials.client_secret",
            "required key is missing",
        ),
        ("[[orgs]\n", "(syntax)", "invalid TOML"),
    ],
)
def test_bad_config_exits_2_with_one_line_naming_the_key(
    tmp_path: Path, body: str, path: str, expected: str
) -> None:
    file = write(tmp_path, body)
    code, output = run_check(file)
    assert code == 2
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith(f"syncd: config error: {file}: {path}: ")
    assert expected in lines[0]
    assert "Traceback" not in output


def test_secret_values_never_appear_in_errors(tmp_path: Path) -> None:
    body = ORG.format(secret="s").replace('client_secret = "s"', "client_secret = 12345678")
    code, output = run_check(write(tmp_path, body))
    assert code == 2 and "12345678" not in output and "<hidden>" in output


def test_env_substitution_with_defaults_and_escapes(tmp_path: Path) -> None:
    body = ORG.format(secret="${QBO_SECRET}").replace(
        'policy = "standard"',
        'policy = "standard"\nbase_url = "http://${HOST:-127.0.0.1}:8080/v3/"',
    )
    body = body.replace('client_id = "cid"', 'client_id = "cost$$1"')
    cfg = load_config(write(tmp_path, body), env={"QBO_SECRET": "from-env"})
    org = cfg.settings.orgs[0]
    assert org.base_url == "http://127.0.0.1:8080/v3"
    creds = cfg.connectors["acme"].credentials
    assert creds.client_secret.get_secret_value() == "from-env"  # type: ignore[attr-defined]
    assert creds.client_id == "cost$1"  # type: ignore[attr-defined]


def test_relative_sqlite_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "[store]\nurl = 'sqlite:///data/syncd.db'\n"))
    assert cfg.store_url == f"sqlite:///{tmp_path.resolve() / 'data' / 'syncd.db'}"


def test_duplicate_org_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="used twice"):
        load_config(write(tmp_path, ORG.format(secret="s") * 2))


def test_config_location_falls_back_to_env_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, ORG.format(secret="s"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNCD_CONFIG", raising=False)
    assert load_config().path == Path("syncd.toml")
    other = tmp_path / "other.toml"
    other.write_text("", encoding="utf-8")
    monkeypatch.setenv("SYNCD_CONFIG", str(other))
    assert load_config().path == other


@pytest.mark.parametrize(
    ("extra", "path", "expected"),
    [
        (
            "[policies.mine]\nextends = 'standard'\n[[policies.mine.steps]]\ndays = 'x'\n",
            "policies.mine.steps[0].days",
            "integer",
        ),
        ("[policies.mine]\nextends = 'nonexistent'\n", "policies.mine.extends", "nonexistent"),
        ("[dunning.calendar]\nsend_days = ['someday']\n", "dunning.calendar.send_days", ""),
    ],
)
def test_policy_errors_name_their_key(tmp_path: Path, extra: str, path: str, expected: str) -> None:
    code, output = run_check(write(tmp_path, ORG.format(secret="s") + extra))
    assert code == 2, output
    assert f": {path}" in output and expected in output


def test_org_policy_must_exist_and_interest_needs_rates(tmp_path: Path) -> None:
    body = ORG.format(secret="s").replace('policy = "standard"', 'policy = "lenient"')
    code, output = run_check(write(tmp_path, body))
    assert code == 2 and "orgs[0].policy: no policy named 'lenient'" in output
    body = ORG.format(secret="s").replace('policy = "standard"', 'policy = "uk-statutory"')
    code, output = run_check(write(tmp_path, body))
    assert code == 2 and "orgs[0].dunning.rates.boe_base" in output
    body += "[dunning.rates]\nboe_base = [{ since = 2024-08-01, percent = '5.00' }]\n"
    body = '[email]\nhost = "smtp.example.com"\n' + body  # the policy sends email
    code, output = run_check(
        write(tmp_path, body.replace("[orgs.credentials]", "[orgs.credentials]"))
    )
    assert code == 0, output
