"""crmcore's own cattrs converter: models to plain dicts and JSON, and back, strictly.

:func:`make_converter` builds a :class:`cattrs.Converter` configured for every
crmcore model (and any other attrs class, such as rule specs):

* ``datetime`` and ``date`` travel as ISO 8601 strings; datetimes must carry an offset;
* ``Decimal`` travels as a string (``"19.90"``), never a float, so no cent is lost;
* enums travel as their values; tuples as lists;
* structuring is strict: no ``"1"`` for an int, no ``"false"`` for a bool, no unknown
  keys (nothing is silently dropped), no missing required fields.

Structuring untrusted input raises one :class:`crmcore.errors.ValidationError`
listing *every* problem, each with a stable code and a ``$.path``::

    >>> from crmcore.models import Customer
    >>> try:
    ...     from_dict({"kind": "robot", "display_name": 7}, Customer)
    ... except ValidationError as e:
    ...     print(e.codes)
    ('value.not_allowed', 'type.invalid')
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, TypeVar

import attrs
import cattrs

from crmcore.errors import Problem, ValidationError
from crmcore.models._base import Model, field_problems
from crmcore.query.decoding import register_filter_hooks

__all__ = [
    "from_dict",
    "from_json",
    "make_converter",
    "to_dict",
    "to_json",
]

T = TypeVar("T")

_Hook = Callable[[Any, Any], Any]


def _fail(code: str, message: str, path: str = "$") -> ValidationError:
    return ValidationError([Problem(code=code, path=path, message=message)])


def _type_error(expected: str, value: object) -> ValidationError:
    return _fail("type.invalid", f"expected {expected}, got {type(value).__name__}")


# --------------------------------------------------------------------------- atoms


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise _type_error("a string", value)
    return value


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error("an integer", value)
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise _type_error("true or false", value)
    return value


def _structure_decimal(value: Any, _: type) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _type_error('a decimal number as a string such as "19.90"', value)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _fail("decimal.invalid", f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise _fail("value.not_finite", "must be a finite number")
    return number


def _structure_datetime(value: Any, _: type) -> dt.datetime:
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


def _structure_date(value: Any, _: type) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise _type_error("an ISO 8601 date string", value)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _fail("date.invalid", f"{value!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


# --------------------------------------------------------------------------- factories


@cache
def _enum_values(cls: type[enum.Enum]) -> tuple[dict[Any, enum.Enum], str]:
    values = {member.value: member for member in cls}
    return values, ", ".join(repr(v) for v in values)


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, cls):
        return value
    values, allowed = _enum_values(cls)
    try:
        return values[value]
    except (KeyError, TypeError):
        raise _fail("value.not_allowed", f"{value!r} is not one of {allowed}") from None


def _unstructure_enum(member: enum.Enum) -> Any:
    return member.value


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (types.UnionType, typing.Union)


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = typing.get_args(tp)
    return typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _kind_tags(members: list[Any]) -> dict[str, Any] | None:
    """Map each member's ``kind`` default to the member, if the union is tagged that way.

    A union is *tagged by kind* when it has two or more members, every member is an
    attrs class with a ``kind`` field whose default is a string, and the defaults
    differ. Rule specs are built like this so that JSON can name its own class.
    """
    if len(members) < 2:
        return None
    tags: dict[str, Any] = {}
    for member in members:
        if not (isinstance(member, type) and attrs.has(member)):
            return None
        field = getattr(attrs.fields(member), "kind", None)
        if field is None or not isinstance(field.default, str) or field.default in tags:
            return None
        tags[field.default] = member
    return tags


def _make_union_factory(converter: cattrs.Converter) -> Callable[[Any], _Hook]:
    def factory(tp: Any) -> _Hook:
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(members) < len(typing.get_args(tp))
        tags = _kind_tags(members)

        def structure_tagged(value: Any) -> Any:
            assert tags is not None
            if not isinstance(value, Mapping):
                raise _type_error('an object with a "kind"', value)
            if "kind" not in value:
                raise _fail("field.required", "is required", "$.kind")
            kind = value["kind"]
            member = tags.get(kind) if isinstance(kind, str) else None
            if member is None:
                allowed = ", ".join(repr(t) for t in tags)
                raise _fail("value.not_allowed", f"{kind!r} is not one of {allowed}", "$.kind")
            return converter.structure(value, member)

        def structure(value: Any, _: Any) -> Any:
            if value is None:
                if optional:
                    return None
                raise _fail("type.invalid", "must not be null")
            if tags is not None:
                return structure_tagged(value)
            last: ValidationError | None = None
            for member in members:
                try:
                    return converter.structure(value, member)
                except ValidationError as error:
                    last = error
            assert last is not None
            if len(members) == 1:
                raise last
            names = " or ".join(getattr(m, "__name__", str(m)) for m in members)
            raise _type_error(names, value)

        return structure

    return factory


def _make_tuple_factory(converter: cattrs.Converter) -> Callable[[Any], _Hook]:
    def factory(tp: Any) -> _Hook:
        item_type = typing.get_args(tp)[0]

        def structure(value: Any, _: Any) -> tuple[Any, ...]:
            if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple):
                raise _type_error("a list", value)
            items: list[Any] = []
            problems: list[Problem] = []
            for index, element in enumerate(value):
                try:
                    items.append(converter.structure(element, item_type))
                except ValidationError as error:
                    problems.extend(error.under(f"$[{index}]").problems)
            if problems:
                raise ValidationError(problems)
            return tuple(items)

        return structure

    return factory


def _key_path(key: object) -> str:
    text = str(key)
    return f"$.{text}" if text.isidentifier() else f"$[{json.dumps(text, ensure_ascii=False)}]"


def _make_attrs_factory(converter: cattrs.Converter) -> Callable[[Any], _Hook]:
    def factory(cls: type) -> _Hook:
        hints = typing.get_type_hints(cls)
        fields = [
            (f.name, f.alias or f.name, hints[f.name], f.default is attrs.NOTHING)
            for f in attrs.fields(cls)
            if f.init
        ]
        names = {alias for _, alias, _, _ in fields}

        def structure(data: Any, _: Any) -> Any:
            if not isinstance(data, Mapping):
                raise _type_error(f"an object ({cls.__name__})", data)
            problems = [
                Problem(
                    code="field.unknown",
                    path=_key_path(key),
                    message=f"is not a field of {cls.__name__}",
                )
                for key in data
                if key not in names
            ]
            kwargs: dict[str, Any] = {}
            for _name, alias, tp, required in fields:
                if alias in data:
                    try:
                        kwargs[alias] = converter.structure(data[alias], tp)
                    except ValidationError as error:
                        problems.extend(error.under(_key_path(alias)).problems)
                elif required:
                    problems.append(
                        Problem(code="field.required", path=_key_path(alias), message="is required")
                    )
            if problems:
                if issubclass(cls, Model):
                    for name, value in kwargs.items():
                        problems.extend(field_problems(cls, name, value))
                raise ValidationError(problems, subject=cls.__name__)
            try:
                return cls(**kwargs)
            except ValidationError:
                raise
            except (TypeError, ValueError) as error:
                raise _fail("value.invalid", str(error)) from error

        return structure

    return factory


# --------------------------------------------------------------------------- public


def make_converter() -> cattrs.Converter:
    """Build crmcore's cattrs converter; each call returns a new, independent one.

    Register hooks of your own on the returned converter to extend it; crmcore's
    defaults stay untouched.
    """
    converter = cattrs.Converter(unstruct_collection_overrides={tuple: list})
    converter.register_unstructure_hook(dt.datetime, lambda v: v.isoformat())
    converter.register_unstructure_hook(dt.date, lambda v: v.isoformat())
    converter.register_unstructure_hook(Decimal, str)
    # Class hooks dispatch along the MRO: StrEnum and IntEnum are registered as well,
    # so that an enum never falls through to the str or int hook.
    atoms: dict[Any, _Hook] = {
        str: _structure_str,
        int: _structure_int,
        bool: _structure_bool,
        Decimal: _structure_decimal,
        dt.datetime: _structure_datetime,
        dt.date: _structure_date,
        enum.Enum: _structure_enum,
        enum.StrEnum: _structure_enum,
        enum.IntEnum: _structure_enum,
    }
    for atom, hook in atoms.items():
        converter.register_structure_hook(atom, hook)
    for base in (enum.Enum, enum.StrEnum, enum.IntEnum):
        converter.register_unstructure_hook(base, _unstructure_enum)
    converter.register_structure_hook_factory(_is_union, _make_union_factory(converter))
    converter.register_structure_hook_factory(_is_homogeneous_tuple, _make_tuple_factory(converter))
    converter.register_structure_hook_factory(attrs.has, _make_attrs_factory(converter))
    register_filter_hooks(converter)
    return converter


@cache
def _default() -> cattrs.Converter:
    return make_converter()


def to_dict(obj: Any) -> Any:
    """Unstructure a model (or a tuple of models) into plain JSON-compatible data."""
    return _default().unstructure(obj)


def from_dict(data: Any, cls: type[T]) -> T:
    """Structure plain data into ``cls``; raises :class:`ValidationError` with every problem."""
    return _default().structure(data, cls)


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """Serialise a model to JSON text (UTF-8 characters kept as they are)."""
    return json.dumps(to_dict(obj), ensure_ascii=False, indent=indent, sort_keys=False)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Parse JSON text into ``cls``; malformed JSON is a ``json.invalid`` problem."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError; ints over 4300 digits
        raise _fail("json.invalid", f"not valid JSON: {error}") from error
    except RecursionError as error:
        raise _fail("json.invalid", "not valid JSON: nested too deeply") from error
    return from_dict(data, cls)
