"""Entry point object for the QuickBooks Online connector (``syncd.connectors: quickbooks``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from connectors.base import Connector, OAuthApp, OrgConnection

from .connect import QuickBooksOAuthApp
from .settings import QuickBooksCredentials, QuickBooksOptions


class QuickBooksFactory:
    name: ClassVar[str] = "quickbooks"
    credentials_model: ClassVar[type[BaseModel]] = QuickBooksCredentials
    #: ``syncd connect`` / ``disconnect``: the provider's half of the OAuth code flow.
    oauth_app: ClassVar[OAuthApp] = QuickBooksOAuthApp()
    options_model: ClassVar[type[BaseModel]] = QuickBooksOptions

    def create(self, connection: OrgConnection) -> Connector:
        from .client import QuickBooksConnector

        return QuickBooksConnector(connection)
