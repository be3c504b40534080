"""Writing a connected org back into the user's config file without destroying it.

Only the org's ``[orgs.credentials]`` changes: the organisation id is set and a hand-copied
``refresh_token`` is removed (tokens live encrypted in the store). Comments, order, other
orgs and ``${VAR}`` references survive (tomlkit edits the document in place), the previous
file is kept as ``<name>.bak`` and the new one replaces it atomically.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Table
from tomlkit.toml_document import TOMLDocument


class ConfigEditError(Exception):
    pass


def _find_org(doc: TOMLDocument, path: Path, org_name: str) -> Any:
    orgs = doc.get("orgs")
    if isinstance(orgs, AoT | list):
        for org in orgs:
            if isinstance(org, dict) and org.get("name") == org_name:
                return org
    raise ConfigEditError(f"{path}: no [[orgs]] table with name = {org_name!r}")


def _connected(
    text: str, path: Path, org_name: str, tenant_key: str, tenant_id: str
) -> tuple[TOMLDocument, Any]:
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigEditError(f"{path}: invalid TOML: {exc}") from None
    org = _find_org(doc, path, org_name)
    credentials = org.get("credentials")
    if credentials is None:
        credentials = tomlkit.table()
        org["credentials"] = credentials
    credentials[tenant_key] = tenant_id
    if "refresh_token" in credentials:
        del credentials["refresh_token"]
    return doc, org


def org_block(path: Path, org_name: str, tenant_key: str, tenant_id: str) -> str:
    """The org's ``[[orgs]]`` table as it should read after connecting (secrets as written
    in the file, e.g. ``${VAR}``, never resolved)."""
    _, org = _connected(path.read_text(encoding="utf-8"), path, org_name, tenant_key, tenant_id)
    table = org if isinstance(org, Table) else tomlkit.item(dict(org))
    out = tomlkit.document()
    aot = tomlkit.aot()
    aot.append(table)
    out["orgs"] = aot
    return out.as_string().strip() + "\n"


def write_org(path: Path, org_name: str, tenant_key: str, tenant_id: str) -> Path:
    """Update the file in place; returns where the previous version was kept."""
    text = path.read_text(encoding="utf-8")
    doc, _ = _connected(text, path, org_name, tenant_key, tenant_id)
    backup = path.with_name(path.name + ".bak")
    shutil.copy2(path, backup)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(doc.as_string())
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return backup
