"""SOQL tokens. Hand-written so that errors can point at a row and column, as Salesforce's do.

Date and datetime literals are unquoted in SOQL (``CloseDate > 2026-01-01``,
``SystemModstamp > 2026-01-01T00:00:00Z``), so they are recognised before numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pssync.sandbox.salesforce.errors import malformed


@dataclass(frozen=True)
class Token:
    kind: str  # IDENT, STRING, NUMBER, DATE, DATETIME, OP, LPAREN, RPAREN, COMMA, DOT, COLON, EOF
    text: str
    pos: int

    def upper(self) -> str:
        return self.text.upper()


_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\dT])")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = ("!=", "<>", "<=", ">=", "=", "<", ">")
_PUNCT = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA", ".": "DOT", ":": "COLON"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def position(text: str, pos: int) -> tuple[int, int]:
    """(row, column), 1-based, of a character offset."""
    row = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return row, column


def located(text: str, pos: int, message: str) -> str:
    """Salesforce's query error text: the query, a caret, the location, then the message."""
    row, column = position(text, pos)
    line = text.split("\n")[row - 1]
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{message}"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char == "'":
            value, end = _string(text, i)
            tokens.append(Token("STRING", value, i))
            i = end
            continue
        match = _DATETIME.match(text, i)
        kind = "DATETIME"
        if match is None:
            match, kind = _DATE.match(text, i), "DATE"
        if match is None and (char.isdigit() or (char == "-" and text[i + 1 : i + 2].isdigit())):
            match, kind = _NUMBER.match(text, i), "NUMBER"
        if match is None:
            match, kind = _IDENT.match(text, i), "IDENT"
        if match is not None:
            tokens.append(Token(kind, match.group(), i))
            i = match.end()
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(Token("OP", "!=" if op == "<>" else op, i))
            i += len(op)
            continue
        if char in _PUNCT:
            tokens.append(Token(_PUNCT[char], char, i))
            i += 1
            continue
        raise malformed(located(text, i, f"unexpected token: '{char}'"))
    tokens.append(Token("EOF", "", len(text)))
    return tokens


def _string(text: str, start: int) -> tuple[str, int]:
    """A quoted string; LIKE's ``\\%`` and ``\\_`` stay escaped for the pattern compiler."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\\" + nxt if nxt in "%_" else _ESCAPES.get(nxt, nxt))
            i += 2
            continue
        if char == "'":
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise malformed(located(text, start, "unterminated string literal"))
