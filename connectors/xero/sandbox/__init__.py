"""A faithful local Xero Accounting API 2.0 sandbox for testing syncd.

Real HTTP on a loopback port, Xero's JSON shapes, OAuth 2.0 with rotating
refresh tokens, rate limits and a control API for tests.  It shares no code
with syncd's connector: it is written from Xero's documentation, OpenAPI spec
and recorded responses.
"""

from .app import XeroSandbox
from .client import SandboxControlError, XeroSandboxClient

__all__ = ["SandboxControlError", "XeroSandbox", "XeroSandboxClient"]
