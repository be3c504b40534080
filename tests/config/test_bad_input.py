"""Bad configs and bad store URLs: one line on stderr naming what is wrong, a documented exit
status (2: fix the config or environment; 1: the database server is down), no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL

ORG = """
[[orgs]]
name = "acme"
connector = "quickbooks"
policy = "standard"
[orgs.credentials]
client_id = "cid"
client_secret = "s"
refresh_token = "rt"
realm_id = "123"
"""
EMAIL = '[email]\nhost = "smtp.example.com"\n'


def syncd(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncd", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "SYNCD_CONFIG"},
        check=False,
        timeout=120,
    )


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "syncd.toml"
    path.write_text(body, encoding="utf-8")
    return path


# -- configs ---------------------------------------------------------------------------------


def test_binary_config_file(tmp_path: Path) -> None:
    path = tmp_path / "syncd.toml"
    path.write_bytes(b"[store]\nurl = 'sqlite:///x.db'\n\xff\xfe\x00binary")
    proc = syncd(path, "config", "check")
    assert proc.returncode == 2
    assert one_line(proc) == (
        f"syncd: config error: {path}: (file): expected UTF-8 TOML text, found byte 0xff at "
        "offset 31 (a binary or differently encoded file?)"
    )


@pytest.mark.parametrize(
    ("body", "path", "expected"),
    [
        (
            '[daemon]\ndunning_cron = "61 25 * * *"\n',
            "daemon.dunning_cron",
            "expected a cron expression 'minute hour day month weekday' such as "
            "'0 9 * * mon-fri' (Error validating expression '25': the last value (25) is "
            "higher than the maximum value (23)) (got '61 25 * * *')",
        ),
        (
            '[daemon]\ndunning_cron = "every day"\n',
            "daemon.dunning_cron",
            "expected a cron expression 'minute hour day month weekday' such as "
            "'0 9 * * mon-fri' (Wrong number of fields; got 2, expected 5) (got 'every day')",
        ),
        (
            '[store]\nsecret_key = "not-a-fernet-key"\n',
            "store.secret_key",
            "expected a Fernet key: 32 random bytes in URL-safe base64 (44 characters), e.g. "
            "from python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())' (got <hidden>)",
        ),
        (
            ORG.replace(
                'policy = "standard"', 'policy = "standard"\nbase_url = "http://qb.example/v3"'
            ),
            "orgs[0].base_url",
            "expected an https:// URL: credentials never travel over plain HTTP except to this "
            "machine (got 'http://qb.example/v3')",
        ),
        (
            ORG.replace(
                'policy = "standard"', 'policy = "standard"\ntoken_url = "http://10.0.0.5/token"'
            ),
            "orgs[0].token_url",
            "expected an https:// URL: credentials never travel over plain HTTP except to this "
            "machine (got <hidden>)",  # a key path naming a token is never echoed
        ),
        (
            ORG,
            "email",
            "section [email] is missing, but policy 'standard' of org 'acme' sends reminder "
            "emails: add [email] with host, port, security and from_address",
        ),
    ],
    ids=["cron-range", "cron-fields", "fernet", "http-base-url", "http-token-url", "no-email"],
)
def test_config_check_reports_before_anything_runs(
    tmp_path: Path, body: str, path: str, expected: str
) -> None:
    file = write(tmp_path, body)
    proc = syncd(file, "config", "check")
    assert proc.returncode == 2
    assert one_line(proc) == f"syncd: config error: {file}: {path}: {expected}"
    assert "not-a-fernet-key" not in proc.stderr


def test_the_same_checks_stop_run_once_before_it_touches_anything(tmp_path: Path) -> None:
    file = write(tmp_path, "[store]\nurl = 'sqlite:///s.db'\n" + ORG)
    proc = syncd(file, "run-once")
    assert proc.returncode == 2
    assert "section [email] is missing" in one_line(proc)
    assert not (tmp_path / "s.db").exists()


def test_good_values_pass(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    body = (
        f'[store]\nsecret_key = "{key}"\n[daemon]\ndunning_cron = "30 8 * * mon-fri"\n'
        + EMAIL
        + ORG.replace('policy = "standard"', 'policy = "standard"\nbase_url = "http://[::1]:8/v3"')
    )
    proc = syncd(write(tmp_path, body), "config", "check")
    assert proc.returncode == 0, proc.stderr
    assert key not in proc.stdout + proc.stderr


# -- store URLs ------------------------------------------------------------------------------


def store_case(tmp_path: Path, url: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    file = write(tmp_path, f'[store]\nurl = "{url}"\n')
    return file, syncd(file, "actions")


def test_sqlite_path_with_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    _, proc = store_case(tmp_path, f"sqlite:///{tmp_path}/afile/s.db")
    assert proc.returncode == 2
    assert one_line(proc) == (
        f"syncd: store error: cannot create the folder {tmp_path}/afile for the SQLite store: "
        "a file of that name is in the way"
    )


def test_sqlite_in_a_folder_that_cannot_be_written(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # root ignores modes: use a folder nobody may write
        folder = Path("/proc/self/fdinfo")
    try:
        _, proc = store_case(tmp_path, f"sqlite:///{folder}/s.db")
    finally:
        (tmp_path / "ro").chmod(0o700)
    assert proc.returncode == 2
    assert one_line(proc) == (
        f"syncd: store error: cannot open the SQLite store {folder}/s.db: unable to open "
        "database file (is its folder writable?)"
    )


def test_unsupported_database(tmp_path: Path) -> None:
    file, proc = store_case(tmp_path, "mysql://app:hunter22@db.example/syncd")
    assert proc.returncode == 2
    assert one_line(proc) == (
        f"syncd: config error: {file}: store.url: unsupported database 'mysql': syncd stores "
        "data in sqlite or postgresql"
    )
    assert "hunter22" not in proc.stderr


@pytest.mark.parametrize("url", ["not a url", "postgresql://app:hunter22@db:port/syncd"])
def test_url_that_does_not_parse(tmp_path: Path, url: str) -> None:
    file, proc = store_case(tmp_path, url)
    assert proc.returncode == 2
    assert one_line(proc) == (
        f"syncd: config error: {file}: store.url: expected a database URL such as "
        "sqlite:///syncd.db or postgresql://user@host/dbname"
    )
    assert "hunter22" not in proc.stderr


def test_postgresql_not_listening_is_an_outage(tmp_path: Path) -> None:
    _, proc = store_case(tmp_path, "postgresql://postgres:hunter22@127.0.0.1:1/syncd")
    assert proc.returncode == 1
    assert one_line(proc) == (
        "syncd: store error: cannot connect to PostgreSQL at 127.0.0.1:1: connection refused "
        "(is the server running and accepting TCP/IP connections?)"
    )
    assert "hunter22" not in proc.stderr


@pytest.mark.skipif(POSTGRES_URL is None, reason="SYNCD_TEST_POSTGRES_URL is not set")
def test_postgresql_database_that_does_not_exist(tmp_path: Path) -> None:
    assert POSTGRES_URL is not None
    base = make_url(POSTGRES_URL)
    url = base.set(database="syncd_no_such_db").render_as_string(hide_password=False)
    _, proc = store_case(tmp_path, url)
    assert proc.returncode == 2
    assert one_line(proc) == (
        f"syncd: store error: PostgreSQL database 'syncd_no_such_db' does not exist on "
        f"{base.host}:{base.port or 5432} (create it, e.g. createdb syncd_no_such_db)"
    )
