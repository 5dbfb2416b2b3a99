"""The atomic field types: their checks, fast predicates and the one JSON parser of each.

``str``, ``int``, ``bool``, ``Decimal``, ``datetime`` and ``date`` each have, in
:data:`ATOM_KINDS`, a reference check (``diagnose``), a fast predicate true exactly
when the check finds nothing, their JSON form and their strict JSON parser
(:func:`parse_decimal`, :func:`parse_datetime`, :func:`parse_date`, ...): the one
parser of decimals, dates and datetimes that the converter and the SQL codec use.
The grammar (:mod:`crmcore.models._types`) wraps each in an ``Atom`` node.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from crmcore.errors import Problem, ValidationError

__all__ = [
    "ATOM_KINDS",
    "INT_MAX",
    "INT_MIN",
    "AtomKind",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_int",
    "parse_str",
]

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""The range of every integer field: what every supported database stores as an INTEGER."""


def _wrong(expected: str, value: object, path: str) -> Problem:
    return Problem(
        code="type.invalid",
        path=path,
        message=f"expected {expected}, got {type(value).__name__}",
    )


def _fail(code: str, message: str, path: str = "$") -> ValidationError:
    return ValidationError([Problem(code=code, path=path, message=message)])


def _type_error(expected: str, value: object) -> ValidationError:
    return _fail("type.invalid", f"expected {expected}, got {type(value).__name__}")


# NUL and lone surrogates: no database stores them, and UTF-8 cannot encode surrogates.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _diagnose_str(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield _wrong("str", value, path)
    elif _BAD_TEXT.search(value) is not None:
        yield Problem(
            code="text.invalid_character",
            path=path,
            message="must not contain NUL characters or unpaired surrogates",
        )


def _diagnose_int(value: Any, path: str) -> Iterator[Problem]:
    if isinstance(value, bool) or not isinstance(value, int):
        yield _wrong("int", value, path)
    elif not INT_MIN <= value <= INT_MAX:
        yield Problem(
            code="value.out_of_range",
            path=path,
            message=f"must be between {INT_MIN} and {INT_MAX}",
        )


def _diagnose_bool(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, bool):
        yield _wrong("bool", value, path)


def _diagnose_decimal(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, Decimal):
        yield _wrong("Decimal", value, path)
    elif not value.is_finite():
        yield Problem(code="value.not_finite", path=path, message="must be a finite number")


def _diagnose_datetime(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, dt.datetime):
        yield _wrong("datetime", value, path)
    elif value.tzinfo is None or value.utcoffset() is None:
        yield Problem(
            code="datetime.naive",
            path=path,
            message="must be timezone-aware (attach tzinfo, e.g. datetime.UTC)",
        )
    else:
        try:
            value.astimezone(dt.UTC)
        except OverflowError:
            yield Problem(
                code="datetime.out_of_range",
                path=path,
                message="must be an instant between years 1 and 9999 in UTC",
            )


def _diagnose_date(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        yield _wrong("date", value, path)


def _accepts_datetime(value: Any) -> bool:
    if not (
        isinstance(value, dt.datetime)
        and value.tzinfo is not None
        and value.utcoffset() is not None
    ):
        return False
    if 1 < value.year < 9999:  # only the first and last year can fall outside UTC's range
        return True
    return next(_diagnose_datetime(value, "$"), None) is None


# The one JSON parser of each atom: strict, with crmcore's problem codes.


def parse_str(value: Any) -> str:
    """A JSON string."""
    if not isinstance(value, str):
        raise _type_error("a string", value)
    return value


def parse_int(value: Any) -> int:
    """A JSON integer (never a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error("an integer", value)
    return value


def parse_bool(value: Any) -> bool:
    """A JSON ``true`` or ``false``."""
    if not isinstance(value, bool):
        raise _type_error("true or false", value)
    return value


def parse_decimal(value: Any) -> Decimal:
    """A finite decimal from a string such as ``"19.90"`` (or an integer); never a float."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _type_error('a decimal number as a string such as "19.90"', value)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _fail("decimal.invalid", f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise _fail("value.not_finite", "must be a finite number")
    return number


def parse_datetime(value: Any) -> dt.datetime:
    """An aware datetime from ISO 8601 text carrying an offset."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise _fail("datetime.invalid", f"{value!r} is not an ISO 8601 date and time") from None
    else:
        raise _type_error("an ISO 8601 date-time string", value)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _fail("datetime.naive", "must carry a UTC offset, e.g. 2026-01-31T09:30:00+08:00")
    return parsed


def parse_date(value: Any) -> dt.date:
    """A date from ISO 8601 text (``YYYY-MM-DD``)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise _type_error("an ISO 8601 date string", value)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _fail("date.invalid", f"{value!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


def _iso(value: dt.date) -> str:
    return value.isoformat()


def _same(value: Any) -> Any:
    return value


@attrs.frozen
class AtomKind:
    diagnose: Callable[[Any, str], Iterator[Problem]]
    accepts: Callable[[Any], bool]
    to_json: Callable[[Any], Any]
    from_json: Callable[[Any], Any]


ATOM_KINDS: dict[Any, AtomKind] = {
    str: AtomKind(
        _diagnose_str,
        # ASCII text cannot hold a surrogate; "in" and isascii() are much cheaper than a search
        lambda v: (
            isinstance(v, str) and ("\x00" not in v if v.isascii() else _BAD_TEXT.search(v) is None)
        ),
        _same,
        parse_str,
    ),
    int: AtomKind(
        _diagnose_int,
        lambda v: isinstance(v, int) and not isinstance(v, bool) and INT_MIN <= v <= INT_MAX,
        _same,
        parse_int,
    ),
    bool: AtomKind(_diagnose_bool, lambda v: isinstance(v, bool), _same, parse_bool),
    Decimal: AtomKind(
        _diagnose_decimal,
        lambda v: isinstance(v, Decimal) and v.is_finite(),
        str,
        parse_decimal,
    ),
    dt.datetime: AtomKind(_diagnose_datetime, _accepts_datetime, _iso, parse_datetime),
    dt.date: AtomKind(
        _diagnose_date,
        lambda v: isinstance(v, dt.date) and not isinstance(v, dt.datetime),
        _iso,
        parse_date,
    ),
}
