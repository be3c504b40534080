"""``syncd check``: everything that would fail at execution, found before any run."""

from .model import CheckReport, Finding
from .run import run_checks

__all__ = ["CheckReport", "Finding", "run_checks"]
