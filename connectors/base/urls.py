"""Where a connector may send credentials: over HTTPS, or in the clear only to a local sandbox."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from connectors.base.errors import ConnectorError


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure(url: str) -> None:
    """Bearer tokens and client secrets travel only over HTTPS, except to a local sandbox."""
    if urlsplit(url).scheme != "https" and not is_loopback(url):
        raise ConnectorError(f"refusing to send credentials over plain HTTP to {url}")
