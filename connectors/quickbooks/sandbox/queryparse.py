"""Reading a query statement: the tokenizer and the grammar, into a :class:`Query`.

``SELECT * | COUNT(*) | f1, f2 FROM Entity [WHERE c AND c ...] [ORDER BY|ORDERBY f [ASC|DESC], ...]
[STARTPOSITION n] [MAXRESULTS m]``, conditions ``= != < > <= >= IN (...) LIKE``. No OR, no joins,
as on the real service. Keywords and entity names are case-insensitive.

Faults: anything the grammar cannot read is a 4000 ``QueryParserError``; a well-formed query on an
unknown or non-filterable property is a 4001 ``QueryValidationError`` (both ValidationFault,
HTTP 400) - the split QBO itself makes. The messages imitate QBO's (a JavaCC parser's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from . import faults
from .money import MoneyError, money
from .queryschema import (
    DEFAULT_MAX_RESULTS,
    ENTITY_NAMES,
    FIELDS,
    MAX_RESULTS_CAP,
    Condition,
    Field,
    Kind,
    Op,
    Query,
)
from .wire import parse_date, parse_datetime

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
        count, names = self.selection()
        self.expect_word("FROM")
        entity_token = self.word("<IDENTIFIER>")
        entity = ENTITY_NAMES.get(entity_token.lower())
        if entity is None:
            raise faults.query_validation(f"{entity_token} is not a valid entity for this query")
        projection = tuple(self.field(entity, n) for n in names) if names is not None else None
        conditions = self.where(entity)
        order, start, maximum = self.clauses(entity)
        if start is not None and start < 1:
            start = 1
        if maximum is not None and maximum < 1:
            raise faults.query_validation("MAXRESULTS must be at least 1")
        return Query(
            entity=entity,
            count=count,
            projection=projection,
            conditions=conditions,
            order=order,
            start_position=start if start is not None else 1,
            # Above the cap we clamp rather than fail (QBO's behaviour there is unconfirmed).
            max_results=min(
                maximum if maximum is not None else DEFAULT_MAX_RESULTS, MAX_RESULTS_CAP
            ),
            explicit_active=any(c.field.name == "Active" for c in conditions),
        )

    def selection(self) -> tuple[bool, list[str] | None]:
        """``*``, ``COUNT(*)`` or a property list: (is a count, the names listed)."""
        if self.at_punct("*"):
            self.pos += 1
            return False, None
        if self.peek_word() == "COUNT":
            self.pos += 1
            self.expect_punct("(")
            self.expect_punct("*")
            self.expect_punct(")")
            return True, None
        names = [self.word("<IDENTIFIER>")]
        while self.at_punct(","):
            self.pos += 1
            names.append(self.word("<IDENTIFIER>"))
        return False, names

    def where(self, entity: str) -> tuple[Condition, ...]:
        """``WHERE c AND c ...``; an ``OR`` is a parse error, as on the real service."""
        if self.peek_word() != "WHERE":
            return ()
        self.pos += 1
        conditions = [self.condition(entity)]
        while self.peek_word() in ("AND", "OR"):
            if self.peek_word() == "OR":
                raise self.unexpected('<EOF> "and" "orderby" "startposition" "maxresults"')
            self.pos += 1
            conditions.append(self.condition(entity))
        return tuple(conditions)

    def clauses(self, entity: str) -> tuple[tuple[tuple[Field, bool], ...], int | None, int | None]:
        """ORDER BY, STARTPOSITION and MAXRESULTS, each at most once, in any order."""
        order: list[tuple[Field, bool]] = []
        start: int | None = None
        maximum: int | None = None
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
        return tuple(order), start, maximum

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
