"""Recursive-descent parser for the SOQL subset pssync and its tests use.

Grammar (keywords case-insensitive)::

    query     := SELECT (COUNT '(' ')' | field (',' field)*) FROM ident
                 [WHERE cond] [ORDER BY order (',' order)*] [LIMIT n] [OFFSET n]
    field     := ident ('.' ident)*
    cond      := unary ((AND unary)* | (OR unary)*)     -- mixing needs parentheses, as in SOQL
    unary     := NOT unary | '(' cond ')' | predicate
    predicate := field (op value | [NOT] IN '(' value (',' value)* ')' | LIKE string)
    value     := string | number | TRUE | FALSE | NULL | date | datetime | DATE_LITERAL[:n]
    order     := field [ASC | DESC] [NULLS (FIRST | LAST)]
"""

from __future__ import annotations

from pssync.sandbox.salesforce.errors import malformed
from pssync.sandbox.salesforce.soql.ast import (
    BoolOp,
    Compare,
    Condition,
    FieldRef,
    InList,
    Like,
    Literal,
    Not,
    OrderItem,
    Query,
)
from pssync.sandbox.salesforce.soql.dates import N_RANGES, RANGES
from pssync.sandbox.salesforce.soql.lexer import Token, located, tokenize


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers ----------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, token: Token | None = None) -> Exception:
        token = token or self.tok
        shown = token.text if token.kind != "EOF" else "<EOF>"
        return malformed(located(self.text, token.pos, f"unexpected token: '{shown}'"))

    def keyword(self, *words: str) -> bool:
        return self.tok.kind == "IDENT" and self.tok.upper() in words

    def take(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def expect_keyword(self, word: str) -> Token:
        if not self.keyword(word):
            raise self.error()
        return self.take()

    def expect(self, kind: str) -> Token:
        if self.tok.kind != kind:
            raise self.error()
        return self.take()

    # -- grammar ----------------------------------------------------------------------------

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        fields: list[FieldRef] = []
        count_only = False
        if self.keyword("COUNT") and self.tokens[self.i + 1].kind == "LPAREN":
            self.take()
            self.expect("LPAREN")
            self.expect("RPAREN")
            count_only = True
        else:
            fields.append(self.field())
            while self.tok.kind == "COMMA":
                self.take()
                fields.append(self.field())
        self.expect_keyword("FROM")
        sobject = self.expect("IDENT")
        query = Query(self.text, fields, count_only, sobject.text, sobject.pos)
        if self.keyword("WHERE"):
            self.take()
            query.where = self.condition()
        if self.keyword("ORDER"):
            self.take()
            self.expect_keyword("BY")
            query.order_by.append(self.order_item())
            while self.tok.kind == "COMMA":
                self.take()
                query.order_by.append(self.order_item())
        if self.keyword("LIMIT"):
            self.take()
            query.limit = self.integer()
        if self.keyword("OFFSET"):
            self.take()
            query.offset = self.integer()
        if self.tok.kind != "EOF":
            raise self.error()
        return query

    def integer(self) -> int:
        token = self.expect("NUMBER")
        if not token.text.isdigit():
            raise self.error(token)
        return int(token.text)

    def field(self) -> FieldRef:
        first = self.expect("IDENT")
        if first.upper() in ("FROM", "WHERE"):
            raise self.error(first)
        path = [first.text]
        while self.tok.kind == "DOT":
            self.take()
            path.append(self.expect("IDENT").text)
        return FieldRef(tuple(path), first.pos)

    def order_item(self) -> OrderItem:
        ref = self.field()
        descending = False
        if self.keyword("ASC", "DESC"):
            descending = self.take().upper() == "DESC"
        nulls_first = not descending
        if self.keyword("NULLS"):
            self.take()
            if not self.keyword("FIRST", "LAST"):
                raise self.error()
            nulls_first = self.take().upper() == "FIRST"
        return OrderItem(ref, descending, nulls_first)

    def condition(self) -> Condition:
        operands = [self.unary()]
        connector: str | None = None
        while self.keyword("AND", "OR"):
            word = self.tok.upper()
            if connector is not None and word != connector:
                raise self.error()
            connector = word
            self.take()
            operands.append(self.unary())
        if connector is None:
            return operands[0]
        return BoolOp(connector, tuple(operands))

    def unary(self) -> Condition:
        if self.keyword("NOT"):
            self.take()
            return Not(self.unary())
        if self.tok.kind == "LPAREN":
            self.take()
            inner = self.condition()
            self.expect("RPAREN")
            return inner
        return self.predicate()

    def predicate(self) -> Condition:
        ref = self.field()
        if self.keyword("NOT") and self.tokens[self.i + 1].upper() == "IN":
            self.take()
            self.take()
            return InList(ref, self.value_list(), negate=True)
        if self.keyword("IN"):
            self.take()
            return InList(ref, self.value_list(), negate=False)
        if self.keyword("LIKE"):
            self.take()
            token = self.expect("STRING")
            return Like(ref, Literal("string", token.text, token.pos))
        if self.tok.kind != "OP":
            raise self.error()
        op = self.take().text
        return Compare(ref, op, self.value())

    def value_list(self) -> tuple[Literal, ...]:
        self.expect("LPAREN")
        values = [self.value()]
        while self.tok.kind == "COMMA":
            self.take()
            values.append(self.value())
        self.expect("RPAREN")
        return tuple(values)

    def value(self) -> Literal:
        token = self.take()
        if token.kind == "STRING":
            return Literal("string", token.text, token.pos)
        if token.kind == "NUMBER":
            number = float(token.text)
            return Literal("number", int(number) if number.is_integer() else number, token.pos)
        if token.kind in ("DATE", "DATETIME"):
            return Literal(token.kind.lower(), token.text, token.pos)
        if token.kind == "IDENT":
            word = token.upper()
            if word in ("TRUE", "FALSE"):
                return Literal("boolean", word == "TRUE", token.pos)
            if word == "NULL":
                return Literal("null", None, token.pos)
            if word in RANGES:
                return Literal("range", (word, 0), token.pos)
            if word in N_RANGES:
                self.expect("COLON")
                n = self.integer()
                return Literal("range", (word, n), token.pos)
        raise self.error(token)


def parse(text: str) -> Query:
    return Parser(text).parse()
