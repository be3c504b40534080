"""HMAC-SHA256 body signatures as QuickBooks (``intuit-signature``) and Xero
(``x-xero-signature``) send them: base64 of the MAC of the raw body bytes, keyed with the app's
verifier token / webhook key."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """Constant-time comparison, so a forger learns nothing from how fast we say no."""
    if not header or not secret:
        return False
    expected = sign(body, secret).encode("ascii")
    try:
        given = header.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)
