"""What QBO's query language can name: entities, their queryable properties, operators.

The grammar (:mod:`.queryparse`) and the evaluation (:mod:`.query`) both read these tables, so
a property is filterable and sortable in exactly one place. Property names are matched
case-insensitively and reported with their canonical spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

JSON = dict[str, Any]

MAX_RESULTS_CAP = 1000
DEFAULT_MAX_RESULTS = 100


class Kind(Enum):
    ID = "id"
    MONEY = "money"
    STRING = "string"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    REF = "ref"


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    path: tuple[str, ...]


def _fields(*specs: tuple[str, Kind]) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for name, kind in specs:
        path = tuple(name.split("."))
        if kind is Kind.REF:
            path = (*path, "value")
        out[name.lower()] = Field(name, kind, path)
    return out


_META = (("MetaData.CreateTime", Kind.DATETIME), ("MetaData.LastUpdatedTime", Kind.DATETIME))

FIELDS: dict[str, dict[str, Field]] = {
    "Invoice": _fields(
        ("Id", Kind.ID),
        ("DocNumber", Kind.STRING),
        ("TxnDate", Kind.DATE),
        ("DueDate", Kind.DATE),
        ("Balance", Kind.MONEY),
        ("TotalAmt", Kind.MONEY),
        ("CustomerRef", Kind.REF),
        ("EmailStatus", Kind.STRING),
        ("PrintStatus", Kind.STRING),
        *_META,
    ),
    "CreditMemo": _fields(
        ("Id", Kind.ID),
        ("DocNumber", Kind.STRING),
        ("TxnDate", Kind.DATE),
        ("Balance", Kind.MONEY),
        ("TotalAmt", Kind.MONEY),
        ("CustomerRef", Kind.REF),
        *_META,
    ),
    "Payment": _fields(
        ("Id", Kind.ID),
        ("TxnDate", Kind.DATE),
        ("TotalAmt", Kind.MONEY),
        ("CustomerRef", Kind.REF),
        ("PaymentRefNum", Kind.STRING),
        *_META,
    ),
    "Customer": _fields(
        ("Id", Kind.ID),
        ("DisplayName", Kind.STRING),
        ("GivenName", Kind.STRING),
        ("FamilyName", Kind.STRING),
        ("CompanyName", Kind.STRING),
        ("FullyQualifiedName", Kind.STRING),
        ("PrimaryEmailAddr", Kind.STRING),
        ("Active", Kind.BOOL),
        ("Balance", Kind.MONEY),
        ("CustomerTypeRef", Kind.REF),
        *_META,
    ),
    "CompanyInfo": _fields(("Id", Kind.ID), ("CompanyName", Kind.STRING), *_META),
    "CustomerType": _fields(("Id", Kind.ID), ("Name", Kind.STRING), ("Active", Kind.BOOL), *_META),
    "Item": _fields(
        ("Id", Kind.ID),
        ("Name", Kind.STRING),
        ("Active", Kind.BOOL),
        ("Type", Kind.STRING),
        *_META,
    ),
    # TaxCode ids are "TAX"/"NON" in US companies: compared as strings.
    "TaxCode": _fields(("Id", Kind.STRING), ("Name", Kind.STRING), ("Active", Kind.BOOL), *_META),
}

#: Name lists answer with active records only unless the query filters on Active.
NAME_LISTS = ("Customer", "CustomerType", "Item", "TaxCode")

ENTITY_NAMES = {name.lower(): name for name in FIELDS}

# Observed in recorded QBO responses: transactions come newest-change first, name-list
# entities alphabetically by FullyQualifiedName.
DEFAULT_ORDER: dict[str, tuple[tuple[str, bool], ...]] = {
    "Invoice": (("MetaData.LastUpdatedTime", True), ("Id", True)),
    "CreditMemo": (("MetaData.LastUpdatedTime", True), ("Id", True)),
    "Payment": (("MetaData.LastUpdatedTime", True), ("Id", True)),
    "Customer": (("FullyQualifiedName", False), ("Id", False)),
    "CompanyInfo": (("Id", False),),
    "CustomerType": (("Name", False), ("Id", False)),
    "Item": (("Name", False), ("Id", False)),
    "TaxCode": (("Name", False), ("Id", False)),
}


class Op(Enum):
    EQ = "="
    NE = "!="
    LT = "<"
    GT = ">"
    LE = "<="
    GE = ">="
    IN = "IN"
    LIKE = "LIKE"


@dataclass(frozen=True)
class Condition:
    field: Field
    op: Op
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Query:
    entity: str
    count: bool
    projection: tuple[Field, ...] | None
    conditions: tuple[Condition, ...]
    order: tuple[tuple[Field, bool], ...]
    start_position: int
    max_results: int
    explicit_active: bool = field(default=False)
