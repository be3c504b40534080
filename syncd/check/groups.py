"""The customer groups the providers gave us, per org: what policy rules and
``business_groups`` can name (``syncd config check`` lists them)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ..store import open_store
from ..store.models import Customer, Org


def customer_groups(store_url: str) -> dict[str, Counter[str]] | str:
    """Org name -> group name -> active customers in it; or why the store could not be read.

    Never creates or migrates a store: ``config check`` must not write anything."""
    url = make_url(store_url)
    database = url.database or ""
    on_disk = url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if on_disk and not Path(database).exists():
        return "no store yet (run `syncd backfill`)"
    try:
        store = open_store(store_url, migrate=False)
    except SQLAlchemyError as exc:
        return f"store not readable: {type(exc).__name__}"
    try:
        found: dict[str, Counter[str]] = {}
        with store.sessions() as session:
            rows = session.execute(
                select(Org.name, Customer.groups)
                .join(Customer, Customer.org_id == Org.id)
                .where(~Customer.deleted)
            )
            for org, groups in rows:
                counter = found.setdefault(org, Counter())
                counter.update(groups or ())
        return found
    except SQLAlchemyError:
        return "store not readable or not upgraded (run `syncd db upgrade`)"
    finally:
        store.close()
