"""Entry point object for the Xero connector (``syncd.connectors: xero``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from connectors.base import Connector, OAuthApp, OrgConnection

from .connect import XeroOAuthApp
from .settings import XeroCredentials, XeroOptions


class XeroFactory:
    name: ClassVar[str] = "xero"
    credentials_model: ClassVar[type[BaseModel]] = XeroCredentials
    #: ``syncd connect`` / ``disconnect``: the provider's half of the OAuth code flow.
    oauth_app: ClassVar[OAuthApp] = XeroOAuthApp()
    options_model: ClassVar[type[BaseModel]] = XeroOptions

    def create(self, connection: OrgConnection) -> Connector:
        from .client import XeroConnector

        return XeroConnector(connection)
