"""Xero's ``where`` filter language, the part clients actually use.

Xero evaluates ``where`` with .NET Dynamic LINQ, so an expression it cannot type
check comes back as a 400 ``QueryParseException`` ("No property or field 'X'
exists in type 'Invoice'", "Operator '==' incompatible with operand types
'Guid' and 'String'").  This module parses and type-checks the same subset up
front and reproduces those refusals, so a client that builds a bad filter finds
out here rather than in production.

Supported: ``== != <> > >= < <= =``, ``AND``/``&&``, ``OR``/``||``, ``NOT``/``!``,
parentheses, string/number/``true``/``false``/``null`` literals,
``Guid("...")``, ``DateTime(y,m,d[,h,mi,s])``, and the string methods
``Contains``, ``StartsWith``, ``EndsWith`` (case-insensitive, like Xero's SQL
collation).  String equality is case-insensitive for the same reason.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from .dates import date_start

Kind = Literal["string", "guid", "decimal", "date", "datetime", "bool"]

_TYPE_NAMES: dict[str, str] = {
    "string": "String",
    "guid": "Guid",
    "decimal": "Decimal",
    "date": "DateTime",
    "datetime": "DateTime",
    "bool": "Boolean",
    "null": "Object",
    "number": "Decimal",
}


class WhereError(ValueError):
    """Maps to Xero's 400 QueryParseException (ErrorNumber 16)."""


@dataclass(frozen=True)
class Field:
    kind: Kind
    get: Callable[[Any], object]


Predicate = Callable[[Any], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"]|"")*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|<>|>=|<=|&&|\|\||[=<>!(),.])
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


@dataclass
class _Tok:
    kind: str  # string | number | op | ident | end
    text: str
    pos: int


def _tokenise(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            bad = text[pos:].lstrip()[:1]
            if bad == '"':
                raise WhereError("Unterminated string literal")
            raise WhereError(f"Syntax error '{bad}'")
        kind = match.lastgroup or "op"
        tokens.append(_Tok(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(_Tok("end", "", len(text)))
    return tokens


@dataclass(frozen=True)
class _Operand:
    kind: str  # a Kind, or "null" / "number" for literals
    value: object = None
    field: Field | None = None

    def read(self, record: Any) -> object:
        return self.field.get(record) if self.field is not None else self.value


def _normalise(kind: str, value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, date):
        return date_start(value)
    if isinstance(value, str) and kind in ("string", "guid"):
        return value.lower()
    return value


def _reader(operand: _Operand) -> Callable[[Any], object]:
    """``_normalise(kind, operand.read(record))``, with a literal normalised once: a filter
    runs over every record of a 100,000-row list on every page."""
    kind, fld = operand.kind, operand.field
    if fld is None:
        constant = _normalise(kind, operand.value)
        return lambda _record: constant
    get = fld.get
    if kind in ("string", "guid"):

        def text(record: Any) -> object:
            value = get(record)
            return value.lower() if type(value) is str else _normalise(kind, value)

        return text
    return lambda record: _normalise(kind, get(record))


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
}


class _Parser:
    def __init__(self, text: str, fields: Mapping[str, Field], type_name: str) -> None:
        self.tokens = _tokenise(text)
        self.i = 0
        self.fields = {k.lower(): v for k, v in fields.items()}
        self.type_name = type_name
        #: The (lower-case) field names the expression reads.
        self.used: set[str] = set()

    # -- token helpers
    def peek(self) -> _Tok:
        return self.tokens[self.i]

    def take(self) -> _Tok:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def keyword(self, *words: str) -> bool:
        tok = self.peek()
        if (tok.kind == "ident" and tok.text.upper() in words) or (
            tok.kind == "op" and tok.text in words
        ):
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise WhereError(f"'{text}' expected")

    # -- grammar
    def parse(self) -> Predicate:
        if self.peek().kind == "end":
            raise WhereError("Expression expected")
        pred = self.or_expr()
        if self.peek().kind != "end":
            raise WhereError("Syntax error")
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.keyword("OR", "||"):
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda r: any(p(r) for p in parts)

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.keyword("AND", "&&"):
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        return lambda r: all(p(r) for p in parts)

    def unary(self) -> Predicate:
        if self.keyword("NOT", "!"):
            inner = self.unary()
            return lambda r: not inner(r)
        return self.comparison()

    def comparison(self) -> Predicate:
        if self.peek().text == "(":
            self.take()
            inner = self.or_expr()
            self.expect(")")
            return inner
        left = self.operand()
        if callable(left):
            return left
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("==", "=", "!=", "<>", ">", ">=", "<", "<="):
            self.take()
            op = {"=": "==", "<>": "!="}.get(tok.text, tok.text)
            right = self.operand()
            if callable(right):
                raise WhereError("Syntax error")
            return self.compare(left, op, right)
        if left.kind == "bool" and left.field is not None:
            fld = left.field
            return lambda r: fld.get(r) is True
        raise WhereError("Expression of type 'Boolean' expected")

    def compare(self, left: _Operand, op: str, right: _Operand) -> Predicate:
        lk, rk = left.kind, right.kind
        ok = (
            lk == rk
            or "null" in (lk, rk)
            or {lk, rk} <= {"decimal", "number"}
            or {lk, rk} <= {"date", "datetime"}
        )
        if "null" in (lk, rk) and op not in ("==", "!="):
            ok = False
        if (
            ok
            and op not in ("==", "!=")
            and (lk in ("string", "guid", "bool") or rk in ("string", "guid", "bool"))
        ):
            ok = False
        if not ok:
            raise WhereError(
                f"Operator '{op}' incompatible with operand types "
                f"'{_TYPE_NAMES[lk]}' and '{_TYPE_NAMES[rk]}'"
            )
        fn = _OPS[op]
        read_a, read_b = _reader(left), _reader(right)

        def predicate(record: Any) -> bool:
            a = read_a(record)
            b = read_b(record)
            if a is None or b is None:
                if op == "==":
                    return a is b
                if op == "!=":
                    return a is not b
                return False
            return fn(a, b)

        return predicate

    def operand(self) -> _Operand | Predicate:
        tok = self.take()
        if tok.kind == "string":
            return _Operand("string", tok.text[1:-1].replace('""', '"'))
        if tok.kind == "number":
            try:
                return _Operand("number", Decimal(tok.text))
            except InvalidOperation as exc:  # pragma: no cover - regex guarantees digits
                raise WhereError("Invalid number") from exc
        if tok.kind != "ident":
            raise WhereError("Expression expected")
        word = tok.text
        low = word.lower()
        if low in ("true", "false"):
            return _Operand("bool", low == "true")
        if low == "null":
            return _Operand("null", None)
        if low == "guid" and self.peek().text == "(":
            return _Operand("guid", self.guid_literal())
        if low == "datetime" and self.peek().text == "(":
            return _Operand("datetime", self.datetime_literal())
        path = [word]
        while self.peek().text == ".":
            self.take()
            nxt = self.take()
            if nxt.kind != "ident":
                raise WhereError("Identifier expected")
            if self.peek().text == "(":
                return self.method(path, nxt.text)
            path.append(nxt.text)
        return _Operand(self.field(path).kind, field=self.field(path))

    def field(self, path: list[str]) -> Field:
        name = ".".join(path)
        found = self.fields.get(name.lower())
        self.used.add(name.lower())
        if found is None:
            raise WhereError(f"No property or field '{path[-1]}' exists in type '{self.type_name}'")
        return found

    def args(self) -> list[_Tok]:
        self.expect("(")
        out: list[_Tok] = []
        if self.peek().text == ")":
            self.take()
            return out
        while True:
            out.append(self.take())
            tok = self.take()
            if tok.text == ")":
                return out
            if tok.text != ",":
                raise WhereError("')' or ',' expected")

    def guid_literal(self) -> str:
        args = self.args()
        if len(args) != 1 or args[0].kind != "string":
            raise WhereError("No applicable constructor exists in type 'Guid'")
        try:
            return str(uuid.UUID(args[0].text[1:-1]))
        except ValueError as exc:
            raise WhereError(
                "Guid should contain 32 digits with 4 dashes "
                "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."
            ) from exc

    def datetime_literal(self) -> datetime:
        args = self.args()
        if len(args) not in (3, 6) or any(a.kind != "number" for a in args):
            raise WhereError("No applicable constructor exists in type 'DateTime'")
        try:
            parts = [int(a.text) for a in args] + [0, 0, 0]
            return datetime(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], tzinfo=UTC)
        except ValueError as exc:
            raise WhereError(
                "Year, Month, and Day parameters describe an un-representable DateTime."
            ) from exc

    def method(self, path: list[str], name: str) -> Predicate:
        fld = self.field(path)
        args = self.args()
        method = name.lower()
        if method not in ("contains", "startswith", "endswith"):
            raise WhereError(
                f"No applicable method '{name}' exists in type '{_TYPE_NAMES[fld.kind]}'"
            )
        if fld.kind != "string":
            raise WhereError(
                f"No applicable method '{name}' exists in type '{_TYPE_NAMES[fld.kind]}'"
            )
        if len(args) != 1 or args[0].kind != "string":
            raise WhereError(f"No applicable method '{name}' exists in type 'String'")
        needle = args[0].text[1:-1].replace('""', '"').lower()

        def predicate(record: Any) -> bool:
            value = fld.get(record)
            if not isinstance(value, str):
                return False
            hay = value.lower()
            if method == "contains":
                return needle in hay
            if method == "startswith":
                return hay.startswith(needle)
            return hay.endswith(needle)

        return predicate


def compile_where(text: str, fields: Mapping[str, Field], type_name: str) -> Predicate:
    """Compile ``text`` into a predicate, or raise :class:`WhereError`."""
    return _Parser(text, fields, type_name).parse()


def compile_where_reading(
    text: str, fields: Mapping[str, Field], type_name: str
) -> tuple[Predicate, frozenset[str]]:
    """:func:`compile_where`, and the lower-case names of the fields the predicate reads."""
    parser = _Parser(text, fields, type_name)
    return parser.parse(), frozenset(parser.used)


def parse_order(text: str, fields: Mapping[str, Field], type_name: str) -> list[tuple[Field, bool]]:
    """``"UpdatedDateUTC ASC, InvoiceNumber DESC"`` -> [(field, descending)]."""
    lookup = {k.lower(): v for k, v in fields.items()}
    out: list[tuple[Field, bool]] = []
    for chunk in text.split(","):
        words = chunk.split()
        if not words or len(words) > 2:
            raise WhereError("Syntax error in order")
        found = lookup.get(words[0].lower())
        if found is None:
            name = words[0].split(".")[-1]
            raise WhereError(f"No property or field '{name}' exists in type '{type_name}'")
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if direction not in ("ASC", "DESC", "ASCENDING", "DESCENDING"):
            raise WhereError("Syntax error in order")
        out.append((found, direction.startswith("DESC")))
    return out
