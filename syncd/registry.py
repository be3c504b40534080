"""Connector discovery through the ``syncd.connectors`` entry point group.

syncd never imports a connector package by name: a third-party connector installed next to
syncd is found exactly like the built-in ones.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from connectors.base import ENTRY_POINT_GROUP, ConnectorFactory


class UnknownConnectorError(LookupError):
    pass


@cache
def available() -> dict[str, ConnectorFactory]:
    factories: dict[str, ConnectorFactory] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        loaded = ep.load()
        factory: ConnectorFactory = loaded() if isinstance(loaded, type) else loaded
        factories[ep.name] = factory
    return factories


def get_factory(name: str) -> ConnectorFactory:
    factories = available()
    try:
        return factories[name]
    except KeyError:
        known = ", ".join(sorted(factories)) or "none installed"
        raise UnknownConnectorError(f"unknown connector {name!r} (available: {known})") from None
