"""Construction-time checking shared by every model.

Every model is an ``@attrs.frozen(kw_only=True)`` class deriving from :class:`Model`.
On construction, :meth:`Model.__attrs_post_init__` checks, in one pass:

1. each field's runtime type against its annotation (``str``, ``int``, ``bool``,
   ``Decimal``, aware ``datetime``, ``date``, enums, models, ``X | None``,
   ``tuple[X, ...]``);
2. each field's value checks, declared in the field's metadata with :func:`checks`;
3. the class's cross-field invariants (:meth:`Model._invariants`), only when 1 and 2 passed.

Everything found is raised together as one :class:`crmcore.errors.ValidationError`,
with paths such as ``$.display_name``. This module imports the standard library,
attrs and :mod:`crmcore.errors` only.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from crmcore.errors import Problem, ValidationError

__all__ = [
    "CHECKS_KEY",
    "INT_MAX",
    "INT_MIN",
    "Check",
    "Model",
    "checks",
    "field_problems",
    "in_range",
    "max_length",
    "non_blank",
    "non_negative",
    "positive",
    "type_checker",
    "unique",
]

CHECKS_KEY = "crmcore.checks"

Check = Callable[[Any], Problem | None]
"""A value check: returns a :class:`Problem` (path relative to the value, ``$``) or ``None``."""

TypeCheck = Callable[[Any, str], Iterator[Problem]]


def checks(*fns: Check) -> dict[str, tuple[Check, ...]]:
    """Build attrs field metadata that attaches value checks to a field."""
    return {CHECKS_KEY: fns}


def non_blank(value: object) -> Problem | None:
    """Reject an empty or whitespace-only string."""
    if isinstance(value, str) and not value.strip():
        return Problem(code="value.blank", message="must not be empty or blank")
    return None


def max_length(limit: int) -> Check:
    """Reject strings longer than ``limit`` characters."""

    def check(value: object) -> Problem | None:
        if isinstance(value, str) and len(value) > limit:
            return Problem(
                code="value.too_long", message=f"must be at most {limit} characters long"
            )
        return None

    return check


def positive(value: object) -> Problem | None:
    """Reject numbers that are zero or negative."""
    if isinstance(value, int | Decimal) and value <= 0:
        return Problem(code="value.not_positive", message="must be greater than zero")
    return None


def non_negative(value: object) -> Problem | None:
    """Reject negative numbers."""
    if isinstance(value, int | Decimal) and value < 0:
        return Problem(code="value.negative", message="must not be negative")
    return None


def in_range(low: int, high: int) -> Check:
    """Reject numbers outside ``[low, high]``."""

    def check(value: object) -> Problem | None:
        if isinstance(value, int) and not low <= value <= high:
            return Problem(code="value.out_of_range", message=f"must be between {low} and {high}")
        return None

    return check


def unique(key: Callable[[Any], object] = lambda item: item) -> Check:
    """Reject a tuple whose items (by ``key``) repeat."""

    def check(value: object) -> Problem | None:
        if isinstance(value, tuple):
            seen: set[object] = set()
            for index, item in enumerate(value):
                k = key(item)
                if k in seen:
                    return Problem(
                        code="value.duplicate",
                        path=f"$[{index}]",
                        message=f"repeats an earlier item ({k!r})",
                    )
                seen.add(k)
        return None

    return check


# --------------------------------------------------------------------------- types


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _wrong(expected: str, value: object, path: str) -> Problem:
    return Problem(
        code="type.invalid",
        path=path,
        message=f"expected {expected}, got {type(value).__name__}",
    )


def _simple(predicate: Callable[[Any], bool], expected: str) -> TypeCheck:
    def check(value: Any, path: str) -> Iterator[Problem]:
        if not predicate(value):
            yield _wrong(expected, value, path)

    return check


def _check_decimal(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, Decimal):
        yield _wrong("Decimal", value, path)
    elif not value.is_finite():
        yield Problem(code="value.not_finite", path=path, message="must be a finite number")


def _check_datetime(value: Any, path: str) -> Iterator[Problem]:
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


# NUL and lone surrogates: no database stores them, and UTF-8 cannot encode surrogates.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _check_str(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield _wrong("str", value, path)
    elif _BAD_TEXT.search(value) is not None:
        yield Problem(
            code="text.invalid_character",
            path=path,
            message="must not contain NUL characters or unpaired surrogates",
        )


INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""The range of every integer field: what every supported database stores as an INTEGER."""


def _check_int(value: Any, path: str) -> Iterator[Problem]:
    if isinstance(value, bool) or not isinstance(value, int):
        yield _wrong("int", value, path)
    elif not INT_MIN <= value <= INT_MAX:
        yield Problem(
            code="value.out_of_range",
            path=path,
            message=f"must be between {INT_MIN} and {INT_MAX}",
        )


def _check_date(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        yield _wrong("date", value, path)


_ATOMS: dict[Any, TypeCheck] = {
    str: _check_str,
    int: _check_int,
    bool: _simple(lambda v: isinstance(v, bool), "bool"),
    Decimal: _check_decimal,
    dt.datetime: _check_datetime,
    dt.date: _check_date,
}


def type_checker(tp: Any) -> TypeCheck:
    """Return a function that yields problems when a value does not match type ``tp``."""
    if tp in _ATOMS:
        return _ATOMS[tp]
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(members) < len(typing.get_args(tp))
        inner = [type_checker(m) for m in members]
        expected = " | ".join(_type_name(m) for m in members)

        def check_union(value: Any, path: str) -> Iterator[Problem]:
            if value is None:
                if not optional:
                    yield _wrong(expected, value, path)
                return
            found: list[Problem] = []
            for member in inner:
                found = list(member(value, path))
                if not found:
                    return
            if len(inner) == 1:
                yield from found
            else:
                yield _wrong(expected, value, path)

        return check_union
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            item = type_checker(args[0])

            def check_tuple(value: Any, path: str) -> Iterator[Problem]:
                if not isinstance(value, tuple):
                    yield _wrong("tuple", value, path)
                    return
                for index, element in enumerate(value):
                    yield from item(element, f"{path}[{index}]")

            return check_tuple
    if isinstance(tp, type) and (issubclass(tp, enum.Enum) or attrs.has(tp)):
        return _simple(lambda v: isinstance(v, tp), tp.__name__)
    if tp is Any or tp is object:
        return lambda value, path: iter(())
    raise TypeError(f"crmcore models cannot check fields of type {tp!r}")


# --------------------------------------------------------------------------- models


@attrs.frozen
class _FieldSpec:
    name: str
    type_check: TypeCheck
    value_checks: tuple[Check, ...]


_SPECS: dict[type, tuple[_FieldSpec, ...]] = {}


def _specs(cls: type) -> tuple[_FieldSpec, ...]:
    specs = _SPECS.get(cls)
    if specs is None:
        hints = typing.get_type_hints(cls)
        specs = tuple(
            _FieldSpec(
                name=f.name,
                type_check=type_checker(hints[f.name]),
                value_checks=tuple(f.metadata.get(CHECKS_KEY, ())),
            )
            for f in attrs.fields(cls)
        )
        _SPECS[cls] = specs
    return specs


def field_problems(cls: type, name: str, value: Any) -> list[Problem]:
    """Return the type and value problems of one field value of model ``cls``."""
    for spec in _specs(cls):
        if spec.name == name:
            return _check_field(spec, value)
    return [Problem(code="field.unknown", path=f"$.{name}", message="is not a field")]


def _check_field(spec: _FieldSpec, value: Any) -> list[Problem]:
    path = f"$.{spec.name}"
    found = list(spec.type_check(value, path))
    if found:
        return found
    for check in spec.value_checks:
        problem = check(value)
        if problem is not None:
            found.append(problem.under(path))
    return found


class Model:
    """Base of every crmcore model: checks types, values and invariants on construction.

    Subclasses are ``@attrs.frozen(kw_only=True)`` classes; change them with
    :func:`attrs.evolve`, which re-runs every check.
    """

    __slots__ = ()

    kind_name: ClassVar[str] = "record"

    def __attrs_post_init__(self) -> None:
        found: list[Problem] = []
        for spec in _specs(type(self)):
            found.extend(_check_field(spec, getattr(self, spec.name)))
        if not found:
            found.extend(self._invariants())
        if found:
            raise ValidationError(found, subject=type(self).__name__)

    def _invariants(self) -> Iterable[Problem]:
        """Yield cross-field problems; called only when every field passed its own checks."""
        return ()
