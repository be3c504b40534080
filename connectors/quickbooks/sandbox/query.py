"""The subset of QBO's SQL-like query language that the SDK and syncd send.

``SELECT * | COUNT(*) | f1, f2 FROM Entity [WHERE c AND c ...] [ORDER BY|ORDERBY f [ASC|DESC], ...]
[STARTPOSITION n] [MAXRESULTS m]``, conditions ``= != < > <= >= IN (...) LIKE``. No OR, no joins,
as on the real service. Keywords and entity names are case-insensitive; property names are
matched case-insensitively and reported with their canonical spelling.

Faults: anything the grammar cannot read is a 4000 ``QueryParserError``; a well-formed query on an
unknown or non-filterable property is a 4001 ``QueryValidationError`` (both ValidationFault,
HTTP 400) - the split QBO itself makes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from decimal import Decimal
from enum import Enum
from typing import Any

from . import faults
from .money import MoneyError, money
from .wire import parse_date, parse_datetime

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


# --- tokenizer ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),*])
  | (?P<word>[A-Za-z_][\w.\-:]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise faults.query_parse(
                f"Invalid content. Lexical error at line 1, column {pos + 1}.  "
                f'Encountered: "{text[pos]}" ({ord(text[pos])}), after : ""'
            )
        kind = match.lastgroup or ""
        if kind != "ws":
            raw = match.group()
            if kind == "string":
                raw = raw[1:-1].replace("\\'", "'").replace("\\\\", "\\")
            tokens.append(Token(kind, raw, pos + 1))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, tz: tzinfo) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.tz = tz

    # helpers
    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def peek_word(self) -> str:
        tok = self.peek()
        return tok.text.upper() if tok is not None and tok.kind == "word" else ""

    def unexpected(self, expecting: str) -> faults.QBOFault:
        tok = self.peek()
        if tok is None:
            return faults.query_parse(
                f'Encountered "<EOF>" at line 1, column {len(self.text) + 1}.\n'
                f"Was expecting:\n    {expecting} ..."
            )
        return faults.query_parse(
            f'Encountered " <{tok.kind.upper()}> "{tok.text} "" at line 1, column {tok.column}.\n'
            f"Was expecting one of:\n    {expecting} ..."
        )

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise self.unexpected("<token>")
        self.pos += 1
        return tok

    def expect_word(self, word: str) -> None:
        if self.peek_word() != word:
            raise self.unexpected(f'"{word.lower()}"')
        self.pos += 1

    def expect_punct(self, char: str) -> None:
        tok = self.peek()
        if tok is None or tok.kind != "punct" or tok.text != char:
            raise self.unexpected(f'"{char}"')
        self.pos += 1

    def at_punct(self, char: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "punct" and tok.text == char

    # grammar
    def parse(self) -> Query:
        if not self.tokens:
            raise faults.query_parse("The query provided was empty")
        self.expect_word("SELECT")
        count = False
        names: list[str] | None = None
        if self.at_punct("*"):
            self.pos += 1
        elif self.peek_word() == "COUNT":
            self.pos += 1
            self.expect_punct("(")
            self.expect_punct("*")
            self.expect_punct(")")
            count = True
        else:
            names = [self.word("<IDENTIFIER>")]
            while self.at_punct(","):
                self.pos += 1
                names.append(self.word("<IDENTIFIER>"))
        self.expect_word("FROM")
        entity_token = self.word("<IDENTIFIER>")
        entity = ENTITY_NAMES.get(entity_token.lower())
        if entity is None:
            raise faults.query_validation(f"{entity_token} is not a valid entity for this query")
        projection = tuple(self.field(entity, n) for n in names) if names is not None else None

        conditions: list[Condition] = []
        order: list[tuple[Field, bool]] = []
        start: int | None = None
        maximum: int | None = None
        if self.peek_word() == "WHERE":
            self.pos += 1
            conditions.append(self.condition(entity))
            while self.peek_word() in ("AND", "OR"):
                if self.peek_word() == "OR":
                    raise self.unexpected('<EOF> "and" "orderby" "startposition" "maxresults"')
                self.pos += 1
                conditions.append(self.condition(entity))
        while self.peek() is not None:
            word = self.peek_word()
            if word in ("ORDER", "ORDERBY") and not order:
                self.pos += 1
                if word == "ORDER":
                    self.expect_word("BY")
                order.append(self.order_item(entity))
                while self.at_punct(","):
                    self.pos += 1
                    order.append(self.order_item(entity))
            elif word == "STARTPOSITION" and start is None:
                self.pos += 1
                start = self.integer()
            elif word == "MAXRESULTS" and maximum is None:
                self.pos += 1
                maximum = self.integer()
            else:
                raise self.unexpected('<EOF> "orderby" "startposition" "maxresults"')
        if start is not None and start < 1:
            start = 1
        if maximum is not None and maximum < 1:
            raise faults.query_validation("MAXRESULTS must be at least 1")
        explicit_active = any(c.field.name == "Active" for c in conditions)
        return Query(
            entity=entity,
            count=count,
            projection=projection,
            conditions=tuple(conditions),
            order=tuple(order),
            start_position=start if start is not None else 1,
            # Above the cap we clamp rather than fail (QBO's behaviour there is unconfirmed).
            max_results=min(
                maximum if maximum is not None else DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP
            ),
            explicit_active=explicit_active,
        )

    def word(self, expecting: str) -> str:
        tok = self.peek()
        if tok is None or tok.kind != "word":
            raise self.unexpected(expecting)
        self.pos += 1
        return tok.text

    def integer(self) -> int:
        tok = self.peek()
        if tok is None or tok.kind != "number" or "." in tok.text:
            raise self.unexpected("<INTEGER>")
        self.pos += 1
        return int(tok.text)

    def field(self, entity: str, name: str) -> Field:
        found = FIELDS[entity].get(name.lower())
        if found is None:
            raise faults.query_validation(f"property '{name}' is not queryable")
        return found

    def order_item(self, entity: str) -> tuple[Field, bool]:
        fld = self.field(entity, self.word("<IDENTIFIER>"))
        descending = False
        if self.peek_word() in ("ASC", "DESC"):
            descending = self.next().text.upper() == "DESC"
        return fld, descending

    def condition(self, entity: str) -> Condition:
        fld = self.field(entity, self.word("<IDENTIFIER>"))
        tok = self.peek()
        if tok is not None and tok.kind == "op":
            self.pos += 1
            op = Op.NE if tok.text == "<>" else Op(tok.text)
            return Condition(fld, op, (self.literal(fld),))
        word = self.peek_word()
        if word == "IN":
            self.pos += 1
            self.expect_punct("(")
            values = [self.literal(fld)]
            while self.at_punct(","):
                self.pos += 1
                values.append(self.literal(fld))
            self.expect_punct(")")
            return Condition(fld, Op.IN, tuple(values))
        if word == "LIKE":
            self.pos += 1
            tok = self.next()
            if tok.kind != "string":
                raise faults.query_parse(
                    f'Encountered "{tok.text}" at line 1, column {tok.column}.'
                )
            if fld.kind is not Kind.STRING:
                raise faults.query_validation(f"LIKE is not supported on property '{fld.name}'")
            return Condition(fld, Op.LIKE, (_like_pattern(tok.text),))
        raise self.unexpected('"=" "<" ">" "<=" ">=" "!=" "in" "like"')

    def literal(self, fld: Field) -> Any:
        tok = self.next()
        if tok.kind not in ("string", "number", "word"):
            raise faults.query_parse(
                f'Encountered " "{tok.text}" "" at line 1, column {tok.column}.'
            )
        try:
            return coerce(fld, tok.text, self.tz)
        except (ValueError, MoneyError) as exc:
            raise faults.query_validation(
                f"invalid value '{tok.text}' for property '{fld.name}'"
            ) from exc


def _like_pattern(text: str) -> re.Pattern[str]:
    parts = [".*" if ch == "%" else re.escape(ch) for ch in text]
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def coerce(fld: Field, text: str, tz: tzinfo) -> Any:
    kind = fld.kind
    if kind in (Kind.ID, Kind.REF):
        return int(text)
    if kind is Kind.MONEY:
        return money(text)
    if kind is Kind.DATE:
        return parse_date(text)
    if kind is Kind.DATETIME:
        return parse_datetime(text, tz)
    if kind is Kind.BOOL:
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return text.lower() == "true"
    return text.lower()


def parse(text: str, tz: tzinfo) -> Query:
    return _Parser(text, tz).parse()


# --- evaluation ----------------------------------------------------------------------------


def extract(row: JSON, fld: Field, tz: tzinfo) -> Any:
    value: Any = row
    for part in fld.path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if fld.name == "PrimaryEmailAddr" and isinstance(value, dict):
        value = value.get("Address")
    if value is None:
        return None
    kind = fld.kind
    if kind in (Kind.ID, Kind.REF):
        return int(value)
    if kind is Kind.MONEY:
        return value if isinstance(value, Decimal) else money(value)
    if kind is Kind.DATE:
        return parse_date(value)
    if kind is Kind.DATETIME:
        return parse_datetime(value, tz)
    if kind is Kind.BOOL:
        return bool(value)
    return str(value).lower()


def _compare(op: Op, left: Any, right: Any) -> bool:
    if op is Op.EQ:
        return bool(left == right)
    if op is Op.NE:
        return bool(left != right)
    if op is Op.LT:
        return bool(left < right)
    if op is Op.GT:
        return bool(left > right)
    if op is Op.LE:
        return bool(left <= right)
    if op is Op.GE:
        return bool(left >= right)
    raise AssertionError(op)


def matches(row: JSON, cond: Condition, tz: tzinfo) -> bool:
    value = extract(row, cond.field, tz)
    if value is None:
        return cond.op is Op.NE
    if cond.op is Op.IN:
        return value in cond.values
    if cond.op is Op.LIKE:
        pattern: re.Pattern[str] = cond.values[0]
        return pattern.match(value) is not None
    return _compare(cond.op, value, cond.values[0])


class _Desc:
    """Inverts ordering for one sort key so that mixed ASC/DESC keys sort in one pass."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and bool(self.value == other.value)

    __hash__ = None  # type: ignore[assignment]


def _sort_key(
    order: tuple[tuple[Field, bool], ...], tz: tzinfo
) -> Callable[[JSON], tuple[Any, ...]]:
    def key(row: JSON) -> tuple[Any, ...]:
        parts: list[Any] = []
        for fld, descending in order:
            value = extract(row, fld, tz)
            # None sorts first ascending (and last descending), with a type-stable pair.
            item = (value is not None, value if value is not None else 0)
            parts.append(_Desc(item) if descending else item)
        return tuple(parts)

    return key


@dataclass(frozen=True)
class Result:
    rows: list[JSON]
    total: int


def execute(
    query: Query,
    rows: Iterable[JSON],
    tz: tzinfo,
    shuffle: Callable[[list[JSON]], None] | None = None,
) -> Result:
    """Filter, order and page ``rows`` (already excluding deleted entities).

    With ``shuffle`` (the unkind mode) rows are shuffled before a stable sort on the requested
    keys only, so rows tying on every key come back in a different order on every call.
    """
    conditions = list(query.conditions)
    selected = [row for row in rows if all(matches(row, c, tz) for c in conditions)]
    if query.entity in NAME_LISTS and not query.explicit_active:
        # Name-list queries return active records only unless Active is filtered explicitly.
        selected = [row for row in selected if row.get("Active", True)]
    total = len(selected)
    if query.count:
        return Result([], total)
    order = query.order or tuple(
        (FIELDS[query.entity][name.lower()], desc) for name, desc in DEFAULT_ORDER[query.entity]
    )
    if shuffle is not None:
        if not query.order:
            order = order[:1]  # the default order's Id tie-break is the sandbox's, not QBO's
        shuffle(selected)
    elif query.order:
        # Deterministic tie-break on Id, as a database primary key would give.
        order = (*order, (FIELDS[query.entity]["id"], False))
    selected.sort(key=_sort_key(order, tz))
    begin = query.start_position - 1
    page = selected[begin : begin + query.max_results]
    if query.projection is not None:
        page = [project(row, query.projection) for row in page]
    return Result(page, total)


def project(row: JSON, projection: tuple[Field, ...]) -> JSON:
    keep = {fld.path[0] for fld in projection} | {"Id"}
    out: JSON = {key: value for key, value in row.items() if key in keep}
    out["domain"] = row.get("domain", "QBO")
    out["sparse"] = True
    return out
