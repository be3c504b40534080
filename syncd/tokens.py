"""OAuth token state per org, encrypted at rest, committed before anyone uses it.

Providers rotate refresh tokens: the old one dies when the new one is issued. Losing the new
one means a human must reconnect the organisation, so :meth:`StoredTokens.save` commits in its
own transaction and returns only once the token is durable.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.base import TokenState

from .clock import Clock
from .config.loader import LoadedConfig
from .logs import register_secret
from .store.models import Org


class SecretKeyError(RuntimeError):
    pass


def load_cipher(config: LoadedConfig) -> Fernet:
    """The key comes from config/env (``store.secret_key``) or from a 0600 key file."""
    configured = config.settings.store.secret_key
    if configured is not None:
        key = configured.get_secret_value().encode()
    else:
        path = Path(config.settings.store.key_file)
        if not path.is_absolute():
            path = config.path.parent.resolve() / path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        key = path.read_bytes().strip()
    try:
        return Fernet(key)
    except ValueError:
        raise SecretKeyError("store.secret_key is not a valid Fernet key") from None


class StoredTokens:
    def __init__(
        self, sessions: sessionmaker[Session], org_id: int, cipher: Fernet, clock: Clock
    ) -> None:
        self._sessions, self._org_id, self._cipher, self._clock = sessions, org_id, cipher, clock

    def _decrypt(self, blob: bytes | None) -> str | None:
        if blob is None:
            return None
        try:
            value = self._cipher.decrypt(blob).decode()
        except InvalidToken:
            raise SecretKeyError(
                "stored tokens cannot be decrypted with this key; was the key changed?"
            ) from None
        register_secret(value)
        return value

    def load(self) -> TokenState:
        with self._sessions() as session:
            org = session.get(Org, self._org_id)
            if org is None:
                return TokenState()
            return TokenState(
                access_token=self._decrypt(org.access_token_enc),
                access_expires_at=org.access_expires_at,
                refresh_token=self._decrypt(org.refresh_token_enc),
                refresh_expires_at=org.refresh_expires_at,
            )

    def save(self, state: TokenState) -> None:
        for value in (state.access_token, state.refresh_token):
            register_secret(value)
        with self._sessions.begin() as session:
            org = session.scalars(select(Org).where(Org.id == self._org_id).with_for_update()).one()
            org.access_token_enc = (
                self._cipher.encrypt(state.access_token.encode()) if state.access_token else None
            )
            org.access_expires_at = state.access_expires_at
            org.refresh_token_enc = (
                self._cipher.encrypt(state.refresh_token.encode()) if state.refresh_token else None
            )
            org.refresh_expires_at = state.refresh_expires_at
            org.token_updated_at = self._clock.now()
            org.token_version += 1
