"""A faithful local QuickBooks Online v3 API for tests and demos (loopback only).

Use :class:`QuickBooksSandbox` to seed and serve a company; drive it with
:class:`SandboxControlClient` (``sandbox.control``). See README.md in this folder.
"""

from .client import ControlAPIError, SandboxControlClient
from .sandbox import QuickBooksSandbox

__all__ = ["ControlAPIError", "QuickBooksSandbox", "SandboxControlClient"]
