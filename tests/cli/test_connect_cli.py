"""``syncd connect`` / ``disconnect`` end to end over HTTP against both sandboxes.

``syncd connect --no-browser`` runs as a separate process; the test reads the sign-in URL from
its stdout and plays the browser: it loads the sandbox's consent page, submits it, and follows
the redirect to syncd's loopback listener. Then ``syncd backfill`` must work with no token
copied by hand.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import select
from typer.testing import CliRunner

from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.xero.sandbox import XeroSandbox, XeroSandboxClient
from syncd.cli.app import app
from syncd.clock import SystemClock
from syncd.config import load_config
from syncd.connections import org_id_for
from syncd.oauth.flow import ConnectFlowError
from syncd.store import open_store
from syncd.store.models import AuditEntry
from syncd.tokens import StoredTokens, load_cipher

SYNCD = [sys.executable, "-m", "syncd"]
PROVIDERS = ["quickbooks", "xero"]
FLOW = ["--no-browser", "--port", "0", "--timeout", "60"]


@pytest.fixture(params=PROVIDERS)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Any]:
    box: Any = (
        QuickBooksSandbox(seed=5, invoices=15)
        if request.param == "quickbooks"
        else XeroSandbox(seed=5, invoices=15)
    )
    box.provider = request.param
    box.start()
    try:
        yield box
    finally:
        box.stop()


def control(box: Any) -> Any:
    return box.control if box.provider == "quickbooks" else XeroSandboxClient(box.base_url)


def write_config(path: Path, box: Any) -> Path:
    """The org as a user writes it before connecting: app credentials and nothing else."""
    cfg = box.org_config()
    if box.provider == "xero":
        options = box.org_options()
    else:
        options = {k[8:]: v for k, v in cfg.items() if k.startswith("options.")}
    text = (
        '[store]\nurl = "sqlite:///syncd.db"\n\n# the shop, connected by syncd connect\n'
        f'[[orgs]]\nname = "shop"\nconnector = "{box.provider}"\npolicy = "standard"\n'
        f'base_url = "{cfg["base_url"]}"\ntoken_url = "{cfg["token_url"]}"\n\n'
        f'[orgs.credentials]\nclient_id = "{cfg["client_id"]}"\n'
        f'client_secret = "{cfg["client_secret"]}"\n\n[orgs.options]\n'
        + "".join(f'{k} = "{v}"\n' for k, v in options.items())
    )
    config = path / "syncd.toml"
    config.write_text(text, encoding="utf-8")
    return config


def start_connect(config: Path, provider: str, *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*SYNCD, "--config", str(config), "connect", provider, "--org", "shop", *FLOW, *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), proc.communicate(timeout=30)
    return proc, url


def consent(box: Any, url: str, decision: str = "allow") -> str:
    """Be the browser: load the consent page, submit it; the redirect's Location."""
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "<form" in page.text
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
    action = re.search(r'action="([^"]+)"', page.text)
    assert ticket and action
    answer = requests.post(
        box.base_url + action.group(1),
        data={"ticket": ticket.group(1), "decision": decision},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def finish(proc: subprocess.Popen[str], pasted: str | None = None) -> tuple[int, str, str]:
    out, err = proc.communicate(pasted, timeout=60)
    return proc.returncode, out, err


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SYNCD, "--config", str(config), *args], capture_output=True, text=True, timeout=120
    )


def stored_refresh_token(config: Path) -> str | None:
    loaded = load_config(config)
    store = open_store(loaded.store_url)
    try:
        org_id = org_id_for(store, loaded, "shop", SystemClock())
        tokens = StoredTokens(store.sessions, org_id, load_cipher(loaded), SystemClock())
        return tokens.load().refresh_token
    finally:
        store.close()


def audit_events(config: Path) -> list[str]:
    store = open_store(load_config(config).store_url)
    try:
        with store.sessions() as session:
            return list(session.scalars(select(AuditEntry.event).order_by(AuditEntry.id)))
    finally:
        store.close()


def connect_ok(tmp_path: Path, box: Any) -> Path:
    config = write_config(tmp_path, box)
    proc, url = start_connect(config, box.provider, "--write-config")
    callback = requests.get(consent(box, url), timeout=10)
    assert callback.status_code == 200 and "Connected" in callback.text
    code, _, err = finish(proc)
    assert code == 0, err
    return config


def test_connect_then_backfill_with_no_hand_copied_token(tmp_path: Path, sandbox: Any) -> None:
    config = connect_ok(tmp_path, sandbox)
    text = config.read_text(encoding="utf-8")
    key, org_id = (
        ("realm_id", sandbox.realm_id)
        if sandbox.provider == "quickbooks"
        else ("tenant_id", sandbox.tenant_id)
    )
    assert f'{key} = "{org_id}"' in text
    assert "refresh_token" not in text and "# the shop, connected by syncd connect" in text
    assert "refresh_token" not in (tmp_path / "syncd.toml.bak").read_text(encoding="utf-8")
    assert key not in (tmp_path / "syncd.toml.bak").read_text(encoding="utf-8")
    backfill = run(config, "backfill")
    assert backfill.returncode == 0, backfill.stderr
    listed = run(config, "invoices", "--json")
    assert listed.returncode == 0 and '"org": "shop"' in listed.stdout
    token = stored_refresh_token(config)
    assert token and token.startswith("sandbox-rt-")
    # Encrypted at rest: the store file never holds the token in the clear.
    assert token.encode() not in (tmp_path / "syncd.db").read_bytes()
    assert audit_events(config)[0] == "org.connected"


def test_printed_block_without_write_config(tmp_path: Path, sandbox: Any) -> None:
    config = write_config(tmp_path, sandbox)
    before = config.read_text(encoding="utf-8")
    proc, url = start_connect(config, sandbox.provider)
    requests.get(consent(sandbox, url), timeout=10)
    code, out, err = finish(proc)
    assert code == 0, err
    assert config.read_text(encoding="utf-8") == before
    block = out  # the URL line was read already
    assert block.startswith("[[orgs]]") and 'name = "shop"' in block
    assert "[orgs.credentials]" in block and "refresh_token" not in block
    assert stored_refresh_token(config)


@pytest.mark.parametrize("sandbox", ["quickbooks"], indirect=True)
def test_pasted_redirect_for_a_redirect_uri_nothing_listens_on(
    tmp_path: Path, sandbox: Any
) -> None:
    """Intuit's production keys take only https redirect URIs: the user pastes the address."""
    config = write_config(tmp_path, sandbox)
    redirect = "http://localhost:9/callback"
    proc, url = start_connect(config, sandbox.provider, "--redirect-uri", redirect)
    assert parse_qs(urlsplit(url).query)["redirect_uri"] == [redirect]
    location = consent(sandbox, url)
    code, out, err = finish(proc, location + "\n")
    assert code == 0, err
    assert f'realm_id = "{sandbox.realm_id}"' in out
    assert stored_refresh_token(config)


def test_denied_consent_is_a_clear_error_and_stores_nothing(tmp_path: Path, sandbox: Any) -> None:
    config = write_config(tmp_path, sandbox)
    before = config.read_text(encoding="utf-8")
    control(sandbox).deny_consent(True)
    proc, url = start_connect(config, sandbox.provider, "--write-config")
    location = consent(sandbox, url)
    assert parse_qs(urlsplit(location).query)["error"] == ["access_denied"]
    requests.get(location, timeout=10)
    code, _, err = finish(proc)
    assert code == 1 and "access_denied" in err and "Traceback" not in err
    assert config.read_text(encoding="utf-8") == before
    assert not (tmp_path / "syncd.toml.bak").exists()
    assert stored_refresh_token(config) is None


def test_state_mismatch_is_rejected(tmp_path: Path, sandbox: Any) -> None:
    config = write_config(tmp_path, sandbox)
    proc, url = start_connect(config, sandbox.provider)
    parts = urlsplit(consent(sandbox, url))
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    forged = urlunsplit(parts._replace(query=urlencode({**query, "state": "forged"})))
    assert requests.get(forged, timeout=10).status_code == 400
    code, _, err = finish(proc)
    assert code == 1 and "state does not match" in err and "Traceback" not in err
    assert stored_refresh_token(config) is None


def test_disconnect_revokes_and_forgets(tmp_path: Path, sandbox: Any) -> None:
    config = connect_ok(tmp_path, sandbox)
    token = stored_refresh_token(config)
    assert token
    done = run(config, "disconnect", "--org", "shop", "--json")
    assert done.returncode == 0, done.stderr
    assert '"revoked": true' in done.stdout
    assert stored_refresh_token(config) is None
    assert audit_events(config) == ["org.connected", "org.disconnected"]
    cfg = sandbox.org_config()
    refresh = requests.post(
        cfg["token_url"],
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=(cfg["client_id"], cfg["client_secret"]),
        timeout=10,
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    if sandbox.provider == "xero":
        assert '"connection_removed": true' in done.stdout
        fresh = requests.post(
            cfg["token_url"],
            data={
                "grant_type": "refresh_token",
                "refresh_token": XeroSandboxClient(sandbox.base_url).new_refresh_token(),
            },
            auth=(cfg["client_id"], cfg["client_secret"]),
            timeout=10,
        ).json()["access_token"]
        listed = requests.get(
            f"{sandbox.base_url}/connections",
            headers={"Authorization": f"Bearer {fresh}"},
            timeout=10,
        )
        assert listed.json() == []
    sync = run(config, "sync")
    assert sync.returncode == 1 and "syncd connect" in sync.stdout + sync.stderr
    again = run(config, "disconnect", "--org", "shop")
    assert again.returncode == 1 and "not connected" in again.stderr


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    with XeroSandbox(seed=5, invoices=5) as box:
        box.provider = "xero"
        config = write_config(tmp_path, box)

        def invoke(*args: str) -> Any:
            return CliRunner().invoke(app, ["--config", str(config), *args])

        unknown = invoke("connect", "xero", "--org", "nope", "--no-browser")
        assert unknown.exit_code == 2 and "no org named 'nope'" in unknown.output
        mismatch = invoke("connect", "quickbooks", "--org", "shop", "--no-browser")
        assert mismatch.exit_code == 2 and "uses connector 'xero'" in mismatch.output
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = str(busy.getsockname()[1])
            taken = invoke("connect", "xero", "--org", "shop", "--no-browser", "--port", port)
        assert taken.exit_code == 2 and f"127.0.0.1:{port}" in taken.output
        plain = invoke("connect", "xero", "--org", "shop", "--redirect-uri", "http://x.example/")
        assert plain.exit_code == 2 and "--redirect-uri" in plain.output
        for result in (unknown, mismatch, taken, plain):
            assert "Traceback" not in result.output and not isinstance(
                result.exception, ConnectFlowError
            )
        wrong_tenant = start_connect(config, "xero", "--tenant", "someone-else")
        requests.get(consent(box, wrong_tenant[1]), timeout=10)
        code, _, err = finish(wrong_tenant[0])
        assert code == 1 and "'someone-else' is not among" in err
        assert stored_refresh_token(config) is None


@pytest.mark.parametrize(
    ("base_url", "token_url"),
    [
        ("http://127.0.0.1:9/api.xro/2.0", "https://identity.xero.com/connect/token"),
        (None, "http://127.0.0.1:9/connect/token"),
        ("http://127.0.0.1:9/api.xro/2.0", "http://127.0.0.2:9/connect/token"),
    ],
)
def test_a_sandbox_org_never_mixes_with_the_real_provider(
    tmp_path: Path, base_url: str | None, token_url: str
) -> None:
    config = tmp_path / "syncd.toml"
    config.write_text(
        '[[orgs]]\nname = "shop"\nconnector = "xero"\npolicy = "standard"\n'
        + (f'base_url = "{base_url}"\n' if base_url else "")
        + f'token_url = "{token_url}"\n[orgs.credentials]\nclient_id = "c"\nclient_secret = "s"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["--config", str(config), "connect", "xero", "--org", "shop", "--no-browser"]
    )
    assert result.exit_code == 2, result.output
    assert "refusing" in result.output and "Traceback" not in result.output
    assert "http" not in result.stdout.split("\n")[0]  # no sign-in URL was shown
