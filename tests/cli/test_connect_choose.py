"""Picking the organisation when a Xero sign-in reaches several."""

from __future__ import annotations

import io

import pytest

from connectors.base import Tenant
from syncd.oauth.flow import ConnectFlowError
from syncd.oauth.session import choose

TENANTS = [Tenant("t-1", "Acme Ltd", "c-1"), Tenant("t-2", "Beta Ltd", "c-2")]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_by_id_or_name_and_an_unknown_one_is_refused() -> None:
    assert choose(TENANTS, "T-2", "Xero") is TENANTS[1]
    assert choose(TENANTS, "acme ltd", "Xero") is TENANTS[0]
    with pytest.raises(ConnectFlowError, match=r"'t-9' is not among .*Acme Ltd \(t-1\)"):
        choose(TENANTS, "t-9", "Xero")
    with pytest.raises(ConnectFlowError, match="no organisation"):
        choose([], None, "Xero")


def test_several_need_a_terminal_or_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("2\n"))
    with pytest.raises(ConnectFlowError, match="pass --tenant"):
        choose(TENANTS, None, "Xero")
    monkeypatch.setattr("sys.stdin", _Tty("2\n"))
    assert choose(TENANTS, None, "Xero") is TENANTS[1]
    monkeypatch.setattr("sys.stdin", _Tty("7\n"))
    with pytest.raises(ConnectFlowError, match="no organisation number '7'"):
        choose(TENANTS, None, "Xero")
