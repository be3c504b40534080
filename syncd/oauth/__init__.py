"""Connecting an organisation: the authorization-code flow for a native app (RFC 8252)."""
