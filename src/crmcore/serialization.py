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

import enum
import json
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

import cattrs

from crmcore.errors import Problem, ValidationError
from crmcore.models._types import ATOM_TYPES, FieldType, Foreign, parse

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
        from_json = parse(tp, strict=False).from_json
        return lambda data, _: from_json(data, child)

    def by_class(data: Any, cls: Any) -> Any:
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
    """Structure plain data into ``cls``; raises :class:`ValidationError` with every problem."""
    return _default().structure(data, cls)


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """Serialise a model to JSON text (UTF-8 characters kept as they are)."""
    return json.dumps(to_dict(obj), ensure_ascii=False, indent=indent, sort_keys=False)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Parse JSON text into ``cls``; malformed JSON is a ``json.invalid`` problem."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _fail("json.invalid", f"not valid JSON: {error}") from error
    except RecursionError as error:
        raise _fail("json.invalid", "not valid JSON: nested too deeply") from error
    return from_dict(data, cls)
