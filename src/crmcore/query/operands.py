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
from decimal import Decimal
from typing import Any

from crmcore.errors import Problem, ValidationError
from crmcore.models._atoms import ATOM_KINDS
from crmcore.models._types import Atom, EnumType, parse
from crmcore.models.checks import INT_MAX, INT_MIN
from crmcore.query._errors import query_problem

__all__ = [
    "MAX_OPERAND_INT",
    "SCALAR_TYPES",
    "JsonScalar",
    "check_id",
    "coerce_value",
    "is_scalar",
    "json_of_sort_value",
    "json_scalar",
    "json_scalars",
    "sort_value",
    "text_problem",
]

JsonScalar = str | int | bool | None
"""The JSON form a query operand is kept in."""

SCALAR_TYPES: tuple[type, ...] = tuple(ATOM_KINDS)
"""The field types a query compares (besides enums): the grammar's atoms."""


def is_scalar(tp: Any) -> bool:
    """True when a field of type ``tp`` holds a comparable scalar (not a model or tuple)."""
    return isinstance(parse(tp, strict=False), Atom | EnumType)


MAX_OPERAND_INT = 10**38 - 1
"""The largest integer operand (38 digits, the widest decimal any supported database keeps)."""


def text_problem(value: str, where: str) -> ValidationError | None:
    """The refusal of text holding NUL or an unpaired surrogate (``None`` when it is fine).

    No supported database stores either, and UTF-8 cannot encode a surrogate, so each
    backend would fail in its own way: the query layer refuses them first, with
    ``text.invalid_character``, the code models use for such text.
    """
    if ATOM_KINDS[str].accepts(value):  # the models' own text check
        return None
    return query_problem(
        "text.invalid_character", where, "must not contain NUL characters or unpaired surrogates"
    )


def check_id(record_id: object, *, subject: str) -> str:
    """Return ``record_id`` if it can name a stored record; raise ``ValidationError`` if not.

    A record id is a string without NUL or unpaired surrogates (``type.invalid``,
    ``text.invalid_character``, at ``$.id``), on every backend alike.
    """
    if not isinstance(record_id, str):
        raise ValidationError(
            [
                Problem(
                    code="type.invalid",
                    path="$.id",
                    message=f"expected a string id, got {type(record_id).__name__}",
                )
            ],
            subject=subject,
        )
    error = text_problem(record_id, "$.id")
    if error is not None:
        raise ValidationError(error.problems, subject=subject)
    return record_id


def json_scalar(value: object, *, where: str = "$.value") -> JsonScalar:
    """Convert an operand to its JSON form (the form kept in the query)."""
    if isinstance(value, str) and not isinstance(value, enum.Enum):
        error = text_problem(value, where)
        if error is not None:
            raise error
        return value
    if value is None or (isinstance(value, bool | int) and not isinstance(value, enum.Enum)):
        if isinstance(value, int) and not -MAX_OPERAND_INT <= value <= MAX_OPERAND_INT:
            # beyond every integer and decimal field; huge integers cannot even be printed
            raise query_problem(
                "query.value_invalid", where, "an integer operand has at most 38 digits"
            )
        return value
    if isinstance(value, enum.Enum):
        return json_scalar(value.value, where=where)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise query_problem("datetime.naive", where, "a datetime operand must be aware")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise query_problem("value.not_finite", where, "must be a finite number")
        return str(value)
    raise query_problem(
        "query.value_invalid",
        where,
        f"cannot compare with a {type(value).__name__}; use str, int, bool, Decimal, "
        "date, datetime or an enum",
    )


def json_scalars(values: Iterable[object]) -> tuple[JsonScalar, ...]:
    """Convert the operands of ``in`` to their JSON form (a string is not a collection)."""
    if isinstance(values, str | bytes):
        raise query_problem("query.value_invalid", "$.values", "in_ needs a collection of values")
    if not isinstance(values, Iterable):
        raise query_problem("query.value_invalid", "$.values", "in_ needs a collection of values")
    return tuple(json_scalar(v, where=f"$.values[{i}]") for i, v in enumerate(values))


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
    node = parse(leaf, strict=False)
    if not isinstance(node, Atom):
        raise query_problem("query.not_scalar", where, f"cannot compare values of {leaf!r}")
    try:
        # the one JSON parser of each atom (crmcore.models._atoms), as stored documents use
        parsed = ATOM_KINDS[leaf].from_json(value)
    except ValidationError as error:
        code = error.problems[0].code
        if code == "datetime.naive":
            raise query_problem(
                "datetime.naive", where, "a datetime operand must carry an offset"
            ) from None
        raise bad(_EXPECTED[leaf, code == "value.not_finite"]) from None
    if leaf is int and not INT_MIN <= parsed <= INT_MAX:
        raise query_problem(
            "query.value_invalid",
            where,
            f"{parsed} is outside the range of integer fields ({INT_MIN} to {INT_MAX})",
        )
    if leaf is dt.datetime:
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            raise query_problem(
                "datetime.out_of_range", where, "must be an instant between years 1 and 9999 in UTC"
            ) from None
    return parsed


# What a refused operand was expected to be, by the leaf type and "was it not finite".
_EXPECTED: dict[tuple[Any, bool], str] = {
    (str, False): "a string",
    (bool, False): "true or false",
    (int, False): "an integer",
    (Decimal, False): "a decimal number",
    (Decimal, True): "a finite decimal number",
    (dt.datetime, False): "an ISO 8601 date-time",
    (dt.date, False): "an ISO 8601 date",
}


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
