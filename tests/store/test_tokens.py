"""OAuth tokens are encrypted at rest and durable the moment ``save`` returns."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from connectors.base import TokenState
from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.store import Store, ensure_org
from syncd.store.models import Org
from syncd.tokens import SecretKeyError, StoredTokens, load_cipher

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def test_tokens_round_trip_encrypted(store: Store, tmp_path: Path) -> None:
    config_file = tmp_path / "syncd.toml"
    config_file.write_text("", encoding="utf-8")
    config = load_config(config_file)
    cipher = load_cipher(config)
    key_file = tmp_path / "syncd.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
    tokens = StoredTokens(store.sessions, org_id, cipher, FixedClock(T0))
    assert tokens.load() == TokenState()
    state = TokenState("access-abc123", T0 + timedelta(hours=1), "refresh-xyz789", None)
    tokens.save(state)
    # A separate reader (another process, after a crash) sees the saved state.
    again = StoredTokens(store.sessions, org_id, load_cipher(config), FixedClock(T0))
    assert again.load() == state
    with store.sessions() as s:
        org = s.scalars(select(Org)).one()
        assert org.refresh_token_enc is not None and b"refresh-xyz789" not in org.refresh_token_enc
        assert org.token_version == 1


def test_wrong_key_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("", encoding="utf-8")
    (tmp_path / "b.toml").write_text("[store]\nkey_file = 'other.key'\n", encoding="utf-8")
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
    first = load_cipher(load_config(tmp_path / "a.toml"))
    StoredTokens(store.sessions, org_id, first, FixedClock(T0)).save(
        TokenState("a-token-1", T0, "r-token-1", None)
    )
    second = load_cipher(load_config(tmp_path / "b.toml"))
    with pytest.raises(SecretKeyError, match="key"):
        StoredTokens(store.sessions, org_id, second, FixedClock(T0)).load()


class _CountingFernet(Fernet):
    """A Fernet that counts its decryptions."""

    decrypted = 0

    def decrypt(self, token: bytes | str, ttl: int | None = None) -> bytes:
        type(self).decrypted += 1
        return super().decrypt(token, ttl)


def test_each_stored_blob_is_decrypted_once_and_other_writers_are_seen(store: Store) -> None:
    """Every load reads the store (another process may have refreshed), but a blob already
    decrypted is not decrypted again; a new blob, saved here or elsewhere, is used at once."""
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "xero", T0).id
    key = Fernet.generate_key()
    first = TokenState("access-one-123", T0 + timedelta(minutes=30), "refresh-one-123", None)
    StoredTokens(store.sessions, org_id, Fernet(key), FixedClock(T0)).save(first)

    _CountingFernet.decrypted = 0
    reader = StoredTokens(store.sessions, org_id, _CountingFernet(key), FixedClock(T0))
    assert reader.load() == first
    assert reader.load() == first
    assert reader.load() == first
    assert _CountingFernet.decrypted == 2, "access and refresh token, once each"

    # Another process refreshes: the very next load returns its tokens.
    second = TokenState("access-two-456", T0 + timedelta(hours=1), "refresh-two-456", None)
    StoredTokens(store.sessions, org_id, Fernet(key), FixedClock(T0)).save(second)
    assert reader.load() == second
    assert _CountingFernet.decrypted == 4

    # This process refreshes: what it saved is what it loads next, without decrypting.
    third = TokenState("access-three-789", T0 + timedelta(hours=2), "refresh-three-789", None)
    reader.save(third)
    assert reader.load() == third
    assert _CountingFernet.decrypted == 4
    assert "access-three" not in repr(reader) and "refresh-three" not in repr(reader)

    # Disconnected elsewhere (tokens cleared): seen at once too.
    StoredTokens(store.sessions, org_id, Fernet(key), FixedClock(T0)).save(TokenState())
    assert reader.load() == TokenState()
