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

#: Blobs whose text is kept: the current access and refresh tokens, with room for one swap.
_KEPT = 4


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
        #: Decrypted tokens by their encrypted blob, for this org only (never logged: every
        #: value is registered with :func:`register_secret` when first decrypted or saved).
        self._plain: dict[bytes, str] = {}
        self._query = select(
            Org.access_token_enc, Org.access_expires_at, Org.refresh_token_enc,
            Org.refresh_expires_at,
        ).where(Org.id == org_id)  # fmt: skip

    def _decrypt(self, blob: bytes | None) -> str | None:
        """``blob``'s text; a blob seen before is not decrypted again (see :meth:`load`)."""
        if blob is None:
            return None
        known = self._plain.get(blob)
        if known is not None:
            return known
        try:
            value = self._cipher.decrypt(blob).decode()
        except InvalidToken:
            raise SecretKeyError(
                "stored tokens cannot be decrypted with this key; was the key changed?"
            ) from None
        register_secret(value)
        self._remember({blob: value})
        return value

    def _remember(self, plain: dict[bytes, str]) -> None:
        """Keep only the latest blobs: a replaced token is never needed again."""
        self._plain = plain if len(self._plain) + len(plain) > _KEPT else {**self._plain, **plain}

    def load(self) -> TokenState:
        """The stored state, read from the store on every call (another process may have
        refreshed since); only the decryption of a blob already seen is skipped. A Fernet
        blob is authenticated and never reused for other text, so the same bytes always
        decrypt to the same token: the cache cannot hand out anything the store no longer
        holds, and a changed blob (a refresh here or elsewhere) is decrypted afresh."""
        with self._sessions() as session:
            row = session.execute(self._query).one_or_none()
        if row is None:
            return TokenState()
        access, access_at, refresh, refresh_at = row
        return TokenState(
            access_token=self._decrypt(access),
            access_expires_at=access_at,
            refresh_token=self._decrypt(refresh),
            refresh_expires_at=refresh_at,
        )

    def save(self, state: TokenState) -> None:
        for value in (state.access_token, state.refresh_token):
            register_secret(value)
        access = self._cipher.encrypt(state.access_token.encode()) if state.access_token else None
        refresh = (
            self._cipher.encrypt(state.refresh_token.encode()) if state.refresh_token else None
        )
        with self._sessions.begin() as session:
            org = session.scalars(select(Org).where(Org.id == self._org_id).with_for_update()).one()
            org.access_token_enc = access
            org.access_expires_at = state.access_expires_at
            org.refresh_token_enc = refresh
            org.refresh_expires_at = state.refresh_expires_at
            org.token_updated_at = self._clock.now()
            org.token_version += 1
        # Durable now: the next load finds these blobs and need not decrypt them.
        self._remember(
            {blob: text for blob, text in ((access, state.access_token),
                                           (refresh, state.refresh_token)) if blob and text}
        )  # fmt: skip
