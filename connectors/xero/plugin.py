"""Entry point object for the Xero connector (``syncd.connectors: xero``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from connectors.base import Connector, OrgConnection

from .settings import XeroCredentials, XeroOptions


class XeroFactory:
    name: ClassVar[str] = "xero"
    credentials_model: ClassVar[type[BaseModel]] = XeroCredentials
    options_model: ClassVar[type[BaseModel]] = XeroOptions

    def create(self, connection: OrgConnection) -> Connector:
        from .client import XeroConnector

        return XeroConnector(connection)
