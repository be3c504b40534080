"""The local store: SQLite by default, PostgreSQL in production, always migrated first."""

from . import ladder as _ladder  # noqa: F401 - registers the ladder's tables
from .engine import Store, open_store, upgrade
from .upserts import PageResult, apply_page, ensure_org

__all__ = ["PageResult", "Store", "apply_page", "ensure_org", "open_store", "upgrade"]
