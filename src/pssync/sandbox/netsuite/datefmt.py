"""Oracle datetime format models (TO_CHAR / TO_DATE) and NetSuite's display format.

SuiteQL runs on Oracle, and Oracle's "Format Models" (Oracle Database SQL Language Reference,
section "Datetime Format Elements") are what `TO_CHAR(col, fmt)` and `TO_DATE(text, fmt)` take:
YYYY, YY, MM, MON, MONTH, DD, DY, DAY, HH24, HH12/HH, MI, SS, FF, AM/PM (A.M./P.M.), the
punctuation ``- / , . ; :`` and spaces, text in double quotes (``"T"``), and FM (fill mode,
which drops the leading zeros and padding). Anything else is Oracle's ORA-01821 "date format not
recognized", which the emulator reports as a 400.

Without TO_CHAR, SuiteQL over REST returns a date or datetime column as text in the account's
display format (Set Up Company / user Preferences: Date Format, Time Format), e.g. ``3/14/2024``
and ``3/14/2024 2:05 pm``: `display` renders those.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

_ELEMENT = re.compile(
    r'"[^"]*"|FM|YYYY|YY|MONTH|MON|MM|DDD|DD|DY|DAY|HH24|HH12|HH|MI|SS|FF[1-9]?'
    r"|A\.M\.|P\.M\.|AM|PM|[-/,.;: ]",
    re.IGNORECASE,
)
_MONTHS = (
    *("January", "February", "March", "April", "May", "June", "July"),
    *("August", "September", "October", "November", "December"),
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class FormatError(ValueError):
    """A format model Oracle would refuse, or text that does not match one."""


@functools.lru_cache(maxsize=256)
def elements(fmt: str) -> tuple[str, ...]:
    """The format's elements in order; raises FormatError on anything Oracle does not know."""
    out: list[str] = []
    pos = 0
    while pos < len(fmt):
        match = _ELEMENT.match(fmt, pos)
        if match is None:
            raise FormatError(f"date format not recognized: {fmt!r} at {fmt[pos:]!r}")
        token = match.group(0)
        out.append(token if token.startswith('"') else token.upper())
        pos = match.end()
    return tuple(out)


def _case(word: str, element_text: str) -> str:
    """MON -> JAN, Mon -> Jan, mon -> jan (Oracle follows the element's capitalisation)."""
    if element_text.isupper():
        return word.upper()
    if element_text[:1].isupper():
        return word.capitalize()
    return word.lower()


def to_char(moment: dt.datetime, fmt: str) -> str:
    """`TO_CHAR(moment, fmt)`."""
    fill = True
    parts: list[str] = []
    pos = 0
    for token in elements(fmt):
        original = fmt[pos : pos + len(token)]
        pos += len(token)
        hour12 = (moment.hour % 12) or 12

        def num(value: int, width: int, padded: bool = fill) -> str:
            return f"{value:0{width}d}" if padded else str(value)

        if token == "FM":
            fill = not fill
        elif token.startswith('"'):
            parts.append(token[1:-1])
        elif token == "YYYY":
            parts.append(f"{moment.year:04d}")
        elif token == "YY":
            parts.append(f"{moment.year % 100:02d}")
        elif token == "MM":
            parts.append(num(moment.month, 2))
        elif token in ("MON", "MONTH"):
            name = _MONTHS[moment.month - 1]
            word = name[:3] if token == "MON" else (name.ljust(9) if fill else name)
            parts.append(_case(word, original))
        elif token == "DD":
            parts.append(num(moment.day, 2))
        elif token == "DDD":
            parts.append(num(moment.timetuple().tm_yday, 3))
        elif token in ("DY", "DAY"):
            name = _DAYS[moment.weekday()]
            word = name[:3] if token == "DY" else (name.ljust(9) if fill else name)
            parts.append(_case(word, original))
        elif token == "HH24":
            parts.append(num(moment.hour, 2))
        elif token in ("HH", "HH12"):
            parts.append(num(hour12, 2))
        elif token == "MI":
            parts.append(f"{moment.minute:02d}")
        elif token == "SS":
            parts.append(f"{moment.second:02d}")
        elif token.startswith("FF"):
            digits = int(token[2:] or 6)
            parts.append(f"{moment.microsecond:06d}"[:digits].ljust(digits, "0"))
        elif token in ("AM", "PM", "A.M.", "P.M."):
            marker = "AM" if moment.hour < 12 else "PM"
            if "." in token:
                marker = f"{marker[0]}.{marker[1]}."
            parts.append(_case(marker, original))
        else:
            parts.append(token)
    return "".join(parts)


def to_date(text: str, fmt: str, tz: dt.tzinfo) -> dt.datetime:
    """`TO_DATE(text, fmt)`: a moment in `tz`; fields the format omits default as in Oracle
    (the first day of the month, midnight)."""
    values = {"year": 1, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0}
    micro, pm, pos = 0, None, 0
    for token in elements(fmt):
        if token == "FM":
            continue
        if token.startswith('"') or not token[0].isalpha():
            literal = token[1:-1] if token.startswith('"') else token
            if text[pos : pos + len(literal)].upper() != literal.upper():
                raise FormatError(f"literal does not match format string: {text!r} / {fmt!r}")
            pos += len(literal)
            continue
        if token in ("AM", "PM", "A.M.", "P.M."):
            word = re.match(r"[AaPp]\.?[Mm]\.?", text[pos:])
            if word is None:
                raise FormatError(f"AM/PM expected in {text!r}")
            pm = word.group(0)[0].upper() == "P"
            pos += len(word.group(0))
            continue
        if token in ("MON", "MONTH"):
            word = re.match(r"[A-Za-z]+", text[pos:])
            names = [m[:3].upper() for m in _MONTHS]
            key = word.group(0)[:3].upper() if word else ""
            if key not in names or word is None:
                raise FormatError(f"not a valid month in {text!r}")
            values["month"] = names.index(key) + 1
            pos += len(word.group(0))
            continue
        width = {"YYYY": 4, "DDD": 3}.get(token, 6 if token.startswith("FF") else 2)
        digits = re.match(rf"\d{{1,{width}}}", text[pos:])
        if digits is None:
            raise FormatError(f"a number is expected for {token} in {text!r}")
        pos += len(digits.group(0))
        number = int(digits.group(0))
        if token.startswith("FF"):
            micro = int(digits.group(0).ljust(6, "0")[:6])
            continue
        field = {
            "YYYY": "year",
            "YY": "year",
            "MM": "month",
            "DD": "day",
            "HH24": "hour",
            "HH": "hour",
            "HH12": "hour",
            "MI": "minute",
            "SS": "second",
        }.get(token)
        if field is None:
            raise FormatError(f"{token} cannot be used to read a date")
        values[field] = number + 2000 if token == "YY" else number
    if text[pos:].strip():
        raise FormatError(f"date format picture ends before converting entire input: {text!r}")
    if pm is not None:
        values["hour"] = values["hour"] % 12 + (12 if pm else 0)
    try:
        return dt.datetime(**values, microsecond=micro, tzinfo=tz)
    except ValueError as exc:
        raise FormatError(f"{text!r}: {exc}") from None


_PREFERENCE = re.compile(r"YYYY|MONTH|Mon|MM|M|DD|D|HH|H|hh|h|mm|ss|a")


def display(value: dt.date, date_format: str = "M/D/YYYY", time_format: str = "h:mm a") -> str:
    """A date (or datetime: date, a space, then time) as NetSuite shows it under the account's
    Date Format and Time Format preferences (e.g. ``M/D/YYYY`` and ``h:mm a``)."""

    def render(match: re.Match[str], moment: dt.datetime) -> str:
        token = match.group(0)
        hour12 = (moment.hour % 12) or 12
        return {
            "YYYY": f"{moment.year:04d}",
            "MONTH": _MONTHS[moment.month - 1],
            "Mon": _MONTHS[moment.month - 1][:3],
            "MM": f"{moment.month:02d}",
            "M": str(moment.month),
            "DD": f"{moment.day:02d}",
            "D": str(moment.day),
            "HH": f"{moment.hour:02d}",
            "H": str(moment.hour),
            "hh": f"{hour12:02d}",
            "h": str(hour12),
            "mm": f"{moment.minute:02d}",
            "ss": f"{moment.second:02d}",
            "a": "am" if moment.hour < 12 else "pm",
        }[token]

    if isinstance(value, dt.datetime):
        moment, pattern = value, f"{date_format} {time_format}"
    else:
        moment = dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001 - a date
        pattern = date_format
    return _PREFERENCE.sub(lambda m: render(m, moment), pattern)
