"""crmcore's own cattrs converter: models to plain dicts and JSON, and back, strictly.

:func:`make_converter` builds a :class:`cattrs.Converter` configured for every
crmcore model (and any other attrs class, such as rule specs):

* ``datetime`` and ``date`` travel as ISO 8601 strings; datetimes must carry an offset;
* ``Decimal`` travels as a string (``"19.90"``), never a float, so no cent is lost;
* enums travel as their values; tuples as lists;
* structuring is strict: no ``"1"`` for an int, no ``"false"`` for a bool, no unknown
  keys (nothing is silently dropped), no missing required fields;
* two spreadsheet shapes a JSON feed really sends are read, not refused: a blank
  string (``""``, spaces, an ideographic space) for an optional text field that
  refuses blank text (``str | None`` with ``non_blank``, such as a phone's
  ``extension``) is ``None``, and a year-first date
  (``"1990/5/1"``, ``"1990年5月1日"``) is that date (written back as ISO 8601).

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

import enum
import json
import math
import typing
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any, TypeVar

import attrs
import cattrs

from crmcore.errors import Problem, ValidationError, WrongType
from crmcore.models._types import ATOM_TYPES, FieldType, Foreign, ModelType, field_types, parse
from crmcore.models.checks import CHECKS_KEY, non_blank
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


def _handled(tp: Any) -> bool:
    """True for the annotations crmcore's field-type grammar parses itself."""
    try:
        return not isinstance(parse(tp, strict=False), Foreign)
    except TypeError:
        return False


_HUGE = 10**4300
"""Integers this large or larger are refused: Python cannot even format them as text."""


def _refuse_huge(data: Any) -> None:
    if type(data) is int and not -_HUGE < data < _HUGE:
        raise _fail("value.out_of_range", "is an integer of more than 4,300 digits")


def _key_path(key: str) -> str:
    return f"$.{key}" if key.isidentifier() else f"$[{json.dumps(key, ensure_ascii=False)}]"


def _foreign_hooks(converter: cattrs.Converter) -> Callable[[Any], _Hook | None]:
    """Strict hooks for the annotations outside the grammar that rule specs and results use.

    ``float``, ``Literal[...]``, ``Mapping[K, V]`` (and ``dict[K, V]``), a type
    variable (any JSON value) and a parametrised generic attrs class
    (``SourcedValue[str]``): each raises :class:`ValidationError` with paths, never
    a cattrs exception. Returns ``None`` for an annotation it does not handle.
    """
    structure = converter.structure

    def literal(tp: Any) -> _Hook:
        allowed = typing.get_args(tp)
        text = ", ".join(repr(a) for a in allowed)

        def hook(data: Any, _: Any) -> Any:
            _refuse_huge(data)
            for value in allowed:
                if data == value and type(data) is type(value):
                    return value
            raise _fail("value.not_allowed", f"{data!r} is not one of {text}")

        return hook

    def mapping(tp: Any) -> _Hook:
        key_type, value_type = typing.get_args(tp) or (Any, Any)

        def hook(data: Any, _: Any) -> Any:
            if not isinstance(data, Mapping):
                raise _fail("type.invalid", f"expected an object, got {type(data).__name__}")
            result: dict[Any, Any] = {}
            problems: list[Problem] = []
            for key, value in data.items():
                path = _key_path(key) if isinstance(key, str) else "$"
                try:
                    result[structure(key, key_type)] = structure(value, value_type)
                except ValidationError as error:
                    problems.extend(error.under(path).problems)
            if problems:
                raise ValidationError(problems)
            return result

        return hook

    def generic(tp: Any) -> _Hook:
        origin = typing.get_origin(tp)
        bound = dict(zip(origin.__parameters__, typing.get_args(tp), strict=False))

        def substitute(annotation: Any) -> Any:
            if isinstance(annotation, TypeVar):
                return bound.get(annotation, Any)
            free = getattr(annotation, "__parameters__", ())
            if free and typing.get_origin(annotation) is not None:
                return annotation[tuple(bound.get(p, Any) for p in free)]
            return annotation

        def child(node: FieldType, data: Any) -> Any:
            return structure(data, substitute(node.annotation))

        model = ModelType(origin)
        return lambda data, _: model.from_json(data, child)

    def factory(tp: Any) -> _Hook | None:
        origin = typing.get_origin(tp)
        if origin is typing.Literal:
            return literal(tp)
        if origin in (Mapping, dict, typing.Mapping):
            return mapping(tp)
        if isinstance(tp, TypeVar):
            return lambda data, _: data
        if origin is not None and isinstance(origin, type) and attrs.has(origin):
            return generic(tp)
        return None

    return factory


_OPTIONAL_TEXT = parse(str | None)


def _blank_is_absent(node: FieldType) -> frozenset[str]:
    """The keys of a model's optional text fields that refuse blank text (``non_blank``).

    A blank string there (a spreadsheet's empty cell) is read as ``None`` instead of
    refusing the whole record; optional text that may be blank (a history record's
    ``new`` value) keeps it.
    """
    if not isinstance(node, ModelType):
        return frozenset()
    nodes = field_types(node.cls, strict=False)
    return frozenset(
        f.alias or f.name
        for f in attrs.fields(node.cls)
        if f.init
        and nodes[f.name] == _OPTIONAL_TEXT
        and non_blank in f.metadata.get(CHECKS_KEY, ())
    )


def _blanks_to_none(data: Mapping[Any, Any], keys: frozenset[str]) -> Mapping[Any, Any]:
    blank = [k for k in keys if isinstance(data.get(k), str) and not data[k].strip()]
    if not blank:
        return data
    return {**data, **dict.fromkeys(blank)}


def _structure_float(data: Any, _: Any) -> float:
    _refuse_huge(data)
    if isinstance(data, bool) or not isinstance(data, int | float):
        raise _fail("type.invalid", f"expected a number, got {type(data).__name__}")
    number = float(data)
    if not math.isfinite(number):
        raise _fail("value.not_finite", "must be a finite number")
    return number


def _grammar_hooks(converter: cattrs.Converter) -> tuple[Callable[[Any], _Hook], _Hook]:
    """Structure hooks from the grammar: each node parses its JSON, nested values via cattrs.

    Returns a hook factory (for any annotation the grammar parses) and a hook for
    classes registered with their subclasses (the enum bases). Nested values go
    back through ``converter.structure``, so hooks registered on the converter for
    a nested type are honoured.
    """
    structure = converter.structure

    def child(node: FieldType, data: Any) -> Any:
        return structure(data, node.annotation)

    def factory(tp: Any) -> _Hook:
        node = parse(tp, strict=False)
        from_json = node.from_json
        blank_is_absent = _blank_is_absent(node)

        def hook(data: Any, _: Any) -> Any:
            _refuse_huge(data)
            if blank_is_absent and isinstance(data, Mapping):
                data = _blanks_to_none(data, blank_is_absent)
            return from_json(data, child)

        return hook

    def by_class(data: Any, cls: Any) -> Any:
        _refuse_huge(data)
        return parse(cls).from_json(data, child)

    return factory, by_class


# --------------------------------------------------------------------------- public


def make_converter() -> cattrs.Converter:
    """Build crmcore's cattrs converter; each call returns a new, independent one.

    Register hooks of your own on the returned converter to extend it; crmcore's
    defaults stay untouched.
    """
    converter = cattrs.Converter(unstruct_collection_overrides={tuple: list})
    factory, by_class = _grammar_hooks(converter)
    # Every annotation the grammar parses is structured by its node. Class hooks
    # dispatch along the MRO before any factory: the atoms and the enum bases
    # (StrEnum and IntEnum too, so that an enum never falls through to the str or
    # int hook) are registered as classes, each with its node's hook.
    for atom in ATOM_TYPES:
        converter.register_structure_hook(atom, factory(atom))
        if atom not in (str, int, bool):
            converter.register_unstructure_hook(atom, _unstructure_atom(atom))
    for base in (enum.Enum, enum.StrEnum, enum.IntEnum):
        converter.register_structure_hook(base, by_class)
        converter.register_unstructure_hook(base, _unstructure_enum)
    converter.register_structure_hook_factory(_handled, factory)
    converter.register_structure_hook(float, _structure_float)
    foreign = _foreign_hooks(converter)

    def foreign_hook(tp: Any) -> _Hook:
        hook = foreign(tp)
        assert hook is not None  # the predicate below asked first
        return hook

    converter.register_structure_hook_factory(
        lambda tp: not _handled(tp) and foreign(tp) is not None, foreign_hook
    )
    register_filter_hooks(converter)
    return converter


def _unstructure_atom(atom: Any) -> Callable[[Any], Any]:
    to_json = parse(atom).to_json
    return lambda value: to_json(value, _no_child)


def _no_child(node: FieldType, value: Any) -> Any:  # pragma: no cover - atoms have no children
    raise TypeError(f"{node!r} has no nested values")


def _unstructure_enum(member: enum.Enum) -> Any:
    return member.value


@cache
def _default() -> cattrs.Converter:
    return make_converter()


def to_dict(obj: Any) -> Any:
    """Unstructure a model (or a tuple of models) into plain JSON-compatible data."""
    return _default().unstructure(obj)


def from_dict(data: Any, cls: type[T]) -> T:
    """Structure plain data into ``cls``; raises :class:`ValidationError` with every problem.

    Only crmcore errors leave: a class whose annotations cannot be resolved raises
    :class:`~crmcore.errors.WrongType`; integers of more than 4,300 digits are
    ``value.out_of_range``.
    """
    try:
        return _default().structure(data, cls)
    except NameError as error:
        raise WrongType(f"cannot structure {cls!r}: {error}") from error
    except ValueError as error:
        if isinstance(error, ValidationError):
            raise
        # a message quoting a value that holds an integer Python cannot write as text
        problems = [
            Problem(
                code="value.out_of_range",
                path=path,
                message="is an integer of more than 4,300 digits",
            )
            for path in _huge_integers(data, "$")
        ]
        if not problems:
            raise
        raise ValidationError(problems) from error


def _huge_integers(data: Any, path: str) -> Iterator[str]:
    """The path of every integer in ``data`` too large for Python to format as text."""
    if type(data) is int:
        if not -_HUGE < data < _HUGE:
            yield path
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield from _huge_integers(value, path + _key_path(str(key))[1:])
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            yield from _huge_integers(value, f"{path}[{index}]")


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """Serialise a model to JSON text (UTF-8 characters kept as they are)."""
    return json.dumps(to_dict(obj), ensure_ascii=False, indent=indent, sort_keys=False)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Parse JSON text into ``cls``; malformed JSON is a ``json.invalid`` problem.

    Text that is not ``str``, ``bytes`` or ``bytearray`` is ``type.invalid``; an
    integer literal of more than 4,300 digits is ``json.invalid``.
    """
    if not isinstance(text, str | bytes | bytearray):
        raise _fail("type.invalid", f"expected JSON text, got {type(text).__name__}")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError; ints over 4300 digits
        raise _fail("json.invalid", f"not valid JSON: {error}") from error
    except RecursionError as error:
        raise _fail("json.invalid", "not valid JSON: nested too deeply") from error
    return from_dict(data, cls)
