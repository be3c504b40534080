"""OAuth 2 tokens for one Xero connection, owned by syncd rather than by xero-python.

xero-python refreshes inside whatever call happens to notice an expired token, keeps the token
URL as a class attribute of its ``TokenApi`` and reports a refused refresh as a bare
``Exception``. Xero rotates the refresh token on every use, so losing the rotated one means a
human must reconnect the organisation. syncd therefore refreshes itself: a plain form post to
``token_url``, the rotated refresh token saved through :class:`TokenStore` *before* the new
access token is used, and the SDK only ever sees an access token that is already valid.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from connectors.base import OAuthTokens, TokenStore, require_secure
from connectors.kit import Unauthorized, report_call

XERO_TOKEN_URL = "https://identity.xero.com/connect/token"  # noqa: S105 - a URL, not a secret
#: Xero drops a refresh token that has not been used for 60 days.
REFRESH_TOKEN_LIFETIME = timedelta(days=60)


def xero_tokens(
    *,
    token_url: str,
    client_id: str,
    client_secret: str,
    bootstrap_refresh_token: str,
    store: TokenStore,
    now: Callable[[], datetime],
    ca_bundle: str | None,
    timeout: float,
) -> OAuthTokens:
    return OAuthTokens(
        provider="Xero",
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        bootstrap_refresh_token=bootstrap_refresh_token,
        store=store,
        now=now,
        ca_bundle=ca_bundle,
        timeout=timeout,
        refresh_lifetime=REFRESH_TOKEN_LIFETIME,
        on_answer=lambda status: report_call("xero", status, endpoint="token"),
    )


__all__ = ["XERO_TOKEN_URL", "OAuthTokens", "Unauthorized", "require_secure", "xero_tokens"]
