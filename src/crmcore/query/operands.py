"""Query operands: the JSON form a query keeps them in, and the comparable form they take.

A query is plain, serialisable data, so every operand is kept in its JSON form
(:data:`JsonScalar`: ISO 8601 strings for dates and datetimes, strings for decimals,
value strings for enums). Checked against a field's type, :func:`coerce_value` turns
it into the *comparable* form, the form :func:`sort_value` gives a stored value:
enums as their value string, datetimes as aware UTC instants, decimals as
:class:`~decimal.Decimal`. :func:`json_of_sort_value` goes back again (for cursors).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from crmcore.errors import ValidationError
from crmcore.models._base import INT_MAX, INT_MIN
from crmcore.query._errors import query_problem

__all__ = [
    "SCALAR_TYPES",
    "JsonScalar",
    "coerce_value",
    "is_scalar",
    "json_of_sort_value",
    "json_scalar",
    "json_scalars",
    "sort_value",
]

JsonScalar = str | int | bool | None
"""The JSON form a query operand is kept in."""

SCALAR_TYPES: tuple[type, ...] = (str, int, bool, Decimal, dt.datetime, dt.date)
"""The field types a query compares (besides enums)."""


def is_scalar(tp: Any) -> bool:
    """True when a field of type ``tp`` holds a comparable scalar (not a model or tuple)."""
    return tp in SCALAR_TYPES or (isinstance(tp, type) and issubclass(tp, enum.Enum))


def json_scalar(value: object) -> JsonScalar:
    """Convert an operand to its JSON form (the form kept in the query)."""
    if value is None or (isinstance(value, bool | int | str) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, enum.Enum):
        return json_scalar(value.value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise query_problem("datetime.naive", "$.value", "a datetime operand must be aware")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise query_problem("value.not_finite", "$.value", "must be a finite number")
        return str(value)
    raise query_problem(
        "query.value_invalid",
        "$.value",
        f"cannot compare with a {type(value).__name__}; use str, int, bool, Decimal, "
        "date, datetime or an enum",
    )


def json_scalars(values: Iterable[object]) -> tuple[JsonScalar, ...]:
    """Convert the operands of ``in`` to their JSON form (a string is not a collection)."""
    if isinstance(values, str | bytes):
        raise query_problem("query.value_invalid", "$.values", "in_ needs a collection of values")
    return tuple(json_scalar(v) for v in values)


def coerce_value(leaf: type, value: JsonScalar, *, where: str = "$.value") -> Any:
    """Turn a JSON-form operand into the comparable value of a field of type ``leaf``.

    Strings stay strings, enum operands become their value string, decimals become
    :class:`~decimal.Decimal`, dates :class:`datetime.date`, datetimes aware UTC
    :class:`datetime.datetime`. Raises :class:`ValidationError`
    (``query.value_invalid``) when the operand does not fit the field.
    """

    def bad(expected: str) -> ValidationError:
        return query_problem(
            "query.value_invalid", where, f"expected {expected}, got {type(value).__name__}"
        )

    if isinstance(leaf, type) and issubclass(leaf, enum.Enum):
        if not isinstance(value, str):
            raise bad(f"a {leaf.__name__} value")
        allowed = {str(m.value) for m in leaf}
        if value not in allowed:
            raise query_problem(
                "query.value_invalid",
                where,
                f"{value!r} is not a {leaf.__name__}; one of {', '.join(sorted(allowed))}",
            )
        return value
    if leaf is str:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if leaf is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if leaf is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        if not INT_MIN <= value <= INT_MAX:
            raise query_problem(
                "query.value_invalid",
                where,
                f"{value} is outside the range of integer fields ({INT_MIN} to {INT_MAX})",
            )
        return value
    if leaf is Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise bad("a decimal number")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise bad("a decimal number") from None
        if not number.is_finite():
            raise bad("a finite decimal number")
        return number
    if leaf is dt.datetime:
        if not isinstance(value, str):
            raise bad("an ISO 8601 date-time")
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise bad("an ISO 8601 date-time") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise query_problem("datetime.naive", where, "a datetime operand must carry an offset")
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            raise query_problem(
                "datetime.out_of_range", where, "must be an instant between years 1 and 9999 in UTC"
            ) from None
    if leaf is dt.date:
        if not isinstance(value, str):
            raise bad("an ISO 8601 date")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise bad("an ISO 8601 date") from None
    raise query_problem("query.not_scalar", where, f"cannot compare values of {leaf!r}")


def sort_value(value: Any) -> Any:
    """The comparable form of a stored field value (enum -> value string, datetime -> UTC)."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return value


def json_of_sort_value(value: Any) -> JsonScalar:
    """The JSON form of a comparable value (the inverse of :func:`coerce_value`)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value  # type: ignore[no-any-return]
