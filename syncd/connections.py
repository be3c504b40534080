"""Building a connector for one configured org: registry lookup, settings, token storage."""

from __future__ import annotations

from connectors.base import Connector, OrgConnection

from .clock import Clock
from .config.loader import LoadedConfig
from .registry import get_factory
from .store import Store, ensure_org
from .tokens import StoredTokens, load_cipher


def org_id_for(store: Store, config: LoadedConfig, org_name: str, clock: Clock) -> int:
    org = config.settings.org(org_name)
    with store.sessions.begin() as session:
        return ensure_org(session, org.name, org.connector, clock.now()).id


def connect(store: Store, config: LoadedConfig, org_name: str, clock: Clock) -> Connector:
    org = config.settings.org(org_name)
    settings = config.connectors[org_name]
    org_id = org_id_for(store, config, org_name, clock)
    connection = OrgConnection(
        org_name=org.name,
        credentials=settings.credentials,
        options=settings.options,
        base_url=org.base_url,
        token_url=org.token_url,
        tokens=StoredTokens(store.sessions, org_id, load_cipher(config), clock),
        now=clock.now,
    )
    return get_factory(org.connector).create(connection)
