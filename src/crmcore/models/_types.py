"""The field-type grammar: each field annotation parsed once into a small shared form.

:func:`parse` turns an annotation (``str | None``, ``tuple[Phone, ...]``, an enum, a
model class, ...) into a frozen node: :class:`Atom`, :class:`Optional`,
:class:`TupleOf`, :class:`EnumType`, :class:`ModelType`, :class:`Union`,
:class:`AnyType` (or, only where a caller asks leniently, :class:`Foreign` for an
annotation crmcore does not model). :func:`field_types` gives every field of a class
its node, once per class. Everything that walks field types consumes these nodes:

* the models' type checks and their fast yes/no predicates (:func:`type_test`
  builds both from one node, so they cannot disagree: when the predicate says no,
  the check always reports a problem);
* crmcore's JSON form of every value (:meth:`FieldType.to_json`,
  :meth:`FieldType.from_json`, the one strict parser of decimals, dates and
  datetimes), which the cattrs converter and the SQL codec use;
* the stored-document writer and reader, query paths and the API reference.

A new kind of field type is one node class here with those methods, and a parser
registered with :func:`register_field_type`; every consumer handles it through the
node's own methods. This module imports the standard library, attrs and
:mod:`crmcore.errors` only.
"""

from __future__ import annotations

import enum
import functools
import json
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from crmcore._fastpaths import fast_paths_enabled, on_switch
from crmcore.errors import Problem, ValidationError
from crmcore.models._atoms import ATOM_KINDS, INT_MAX, INT_MIN, _fail, _type_error, _wrong

ATOM_TYPES: tuple[Any, ...] = tuple(ATOM_KINDS)
"""The atomic field types: ``str``, ``int``, ``bool``, ``Decimal``, ``datetime``, ``date``."""

__all__ = [
    "ATOM_TYPES",
    "INT_MAX",
    "INT_MIN",
    "AnyType",
    "Atom",
    "Child",
    "EnumType",
    "FieldType",
    "Foreign",
    "ModelType",
    "Optional",
    "TupleOf",
    "TypeTest",
    "Union",
    "field_types",
    "leaf_of",
    "parse",
    "register_field_type",
    "type_test",
]

Child = Callable[["FieldType", Any], Any]
"""How a node converts a nested value: ``child(node, value)`` (the caller's own recursion)."""


@attrs.frozen
class FieldType:
    """A parsed field annotation; subclasses are the grammar's node kinds."""

    @property
    def annotation(self) -> Any:
        """The annotation this node was parsed from (for dispatch and messages)."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The type's name in messages (``str``, ``Phone``)."""
        return _type_name(self.annotation)

    def describe(self) -> str:
        """The type as the API reference writes it (``tuple[Phone, ...] | None``)."""
        return self.name

    def children(self) -> tuple[FieldType, ...]:
        """The nodes nested in this one."""
        return ()

    def diagnose(self, value: Any, path: str) -> Iterator[Problem]:
        """Yield every type problem of ``value`` (the reference check); none: it fits."""
        raise TypeError(f"crmcore models cannot check fields of type {self.annotation!r}")

    def fast_accepts(self) -> Callable[[Any], bool]:
        """A predicate true exactly when :meth:`diagnose` yields nothing (built once)."""
        return self.reference_accepts()

    def reference_accepts(self) -> Callable[[Any], bool]:
        """The predicate defined by :meth:`diagnose` itself."""
        diagnose = self.diagnose
        return lambda value: next(iter(diagnose(value, "$")), None) is None

    def to_json(self, value: Any, child: Child) -> Any:
        """Crmcore's JSON data of ``value`` (a value of this type)."""
        raise NotImplementedError

    def from_json(self, data: Any, child: Child) -> Any:
        """Parse JSON data strictly into this type; raises :class:`ValidationError`."""
        raise NotImplementedError


@attrs.frozen
class Atom(FieldType):
    """One of :data:`ATOM_TYPES`."""

    type: Any

    @property
    def annotation(self) -> Any:
        return self.type

    def diagnose(self, value: Any, path: str) -> Iterator[Problem]:
        return ATOM_KINDS[self.type].diagnose(value, path)

    def fast_accepts(self) -> Callable[[Any], bool]:
        return ATOM_KINDS[self.type].accepts

    def to_json(self, value: Any, child: Child) -> Any:
        return ATOM_KINDS[self.type].to_json(value)

    def from_json(self, data: Any, child: Child) -> Any:
        return ATOM_KINDS[self.type].from_json(data)


# --------------------------------------------------------------------------- compound


@attrs.frozen
class Optional(FieldType):
    """``X | None``."""

    inner: FieldType
    annotation: Any = attrs.field(eq=False, repr=False)

    @annotation.default
    def _annotation(self) -> Any:
        return self.inner.annotation | None

    def describe(self) -> str:
        return f"{self.inner.describe()} | None"

    def children(self) -> tuple[FieldType, ...]:
        return (self.inner,)

    def diagnose(self, value: Any, path: str) -> Iterator[Problem]:
        if value is not None:
            yield from self.inner.diagnose(value, path)

    def fast_accepts(self) -> Callable[[Any], bool]:
        only = type_test(self.inner).accepts
        return lambda v: v is None or only(v)

    def to_json(self, value: Any, child: Child) -> Any:
        return None if value is None else child(self.inner, value)

    def from_json(self, data: Any, child: Child) -> Any:
        return None if data is None else child(self.inner, data)


@attrs.frozen
class TupleOf(FieldType):
    """``tuple[X, ...]``."""

    item: FieldType
    annotation: Any = attrs.field(eq=False, repr=False)

    @annotation.default
    def _annotation(self) -> Any:
        return tuple[self.item.annotation, ...]  # type: ignore[name-defined]

    def describe(self) -> str:
        return f"tuple[{self.item.describe()}, ...]"

    def children(self) -> tuple[FieldType, ...]:
        return (self.item,)

    def diagnose(self, value: Any, path: str) -> Iterator[Problem]:
        if not isinstance(value, tuple):
            yield _wrong("tuple", value, path)
            return
        for index, element in enumerate(value):
            yield from self.item.diagnose(element, f"{path}[{index}]")

    def fast_accepts(self) -> Callable[[Any], bool]:
        item = type_test(self.item).accepts
        return lambda v: isinstance(v, tuple) and all(map(item, v))

    def to_json(self, value: Any, child: Child) -> Any:
        item = self.item
        return [child(item, x) for x in value]

    def from_json(self, data: Any, child: Child) -> Any:
        if isinstance(data, str | bytes | Mapping) or not isinstance(data, list | tuple):
            raise _type_error("a list", data)
        items: list[Any] = []
        problems: list[Problem] = []
        for index, element in enumerate(data):
            try:
                items.append(child(self.item, element))
            except ValidationError as error:
                problems.extend(error.under(f"$[{index}]").problems)
        if problems:
            raise ValidationError(problems)
        return tuple(items)


def _kind_tags(members: tuple[FieldType, ...]) -> dict[str, FieldType] | None:
    """Map each member's ``kind`` default to the member, if the union is tagged that way.

    A union is *tagged by kind* when it has two or more members, every member is an
    attrs class with a ``kind`` field whose default is a string, and the defaults
    differ. Rule specs are built like this so that JSON can name its own class.
    """
    if len(members) < 2:
        return None
    tags: dict[str, FieldType] = {}
    for member in members:
        if not isinstance(member, ModelType):
            return None
        field = getattr(attrs.fields(member.cls), "kind", None)
        if field is None or not isinstance(field.default, str) or field.default in tags:
            return None
        tags[field.default] = member
    return tags


@attrs.frozen
class Union(FieldType):
    """``X | Y | ...`` with two or more members, none of them ``None``."""

    members: tuple[FieldType, ...]
    annotation: Any = attrs.field(eq=False, repr=False)

    @annotation.default
    def _annotation(self) -> Any:
        return functools.reduce(lambda a, b: a | b, (m.annotation for m in self.members))

    @property
    def name(self) -> str:
        return " | ".join(m.name for m in self.members)

    def describe(self) -> str:
        return " | ".join(m.describe() for m in self.members)

    def children(self) -> tuple[FieldType, ...]:
        return self.members

    def diagnose(self, value: Any, path: str) -> Iterator[Problem]:
        if value is not None:
            for member in self.members:
                if next(iter(member.diagnose(value, path)), None) is None:
                    return
        yield _wrong(self.name, value, path)

    def fast_accepts(self) -> Callable[[Any], bool]:
        inner = [type_test(m).accepts for m in self.members]
        return lambda v: v is not None and any(member(v) for member in inner)

    def to_json(self, value: Any, child: Child) -> Any:
        for member in self.members:
            if type_test(member).accepts(value):
                return child(member, value)
        raise TypeError(f"{value!r} is not a {self.name}")

    def from_json(self, data: Any, child: Child) -> Any:
        if data is None:
            raise _fail("type.invalid", "must not be null")
        tags = _kind_tags(self.members)
        if tags is not None:
            if not isinstance(data, Mapping):
                raise _type_error('an object with a "kind"', data)
            if "kind" not in data:
                raise _fail("field.required", "is required", "$.kind")
            kind = data["kind"]
            member = tags.get(kind) if isinstance(kind, str) else None
            if member is None:
                allowed = ", ".join(repr(t) for t in tags)
                raise _fail("value.not_allowed", f"{kind!r} is not one of {allowed}", "$.kind")
            return child(member, data)
        for member in self.members:
            try:
                return child(member, data)
            except ValidationError:
                pass
        raise _type_error(" or ".join(m.name for m in self.members), data)


@attrs.frozen
class _ClassType(FieldType):
    """A class whose instances are the values (an enum, a model)."""

    cls: type

    @property
    def annotation(self) -> Any:
        return self.cls

    def diagnose(self, value: Any, path: str) -> Iterator[Problem]:
        if not isinstance(value, self.cls):
            yield _wrong(self.cls.__name__, value, path)

    def fast_accepts(self) -> Callable[[Any], bool]:
        cls = self.cls
        return lambda v: isinstance(v, cls)


@attrs.frozen
class EnumType(_ClassType):
    """An :class:`enum.Enum` subclass; its JSON form is the member's value."""

    cls: type[enum.Enum]

    def to_json(self, value: Any, child: Child) -> Any:
        return value.value

    def values(self) -> dict[Any, enum.Enum]:
        """Each member by its value."""
        return _enum_values(self.cls)[0]

    def from_json(self, data: Any, child: Child) -> Any:
        if isinstance(data, self.cls):
            return data
        values, allowed = _enum_values(self.cls)
        try:
            return values[data]
        except (KeyError, TypeError):
            raise _fail("value.not_allowed", f"{data!r} is not one of {allowed}") from None


@functools.cache
def _enum_values(cls: type[enum.Enum]) -> tuple[dict[Any, enum.Enum], str]:
    values = {member.value: member for member in cls}
    return values, ", ".join(repr(v) for v in values)


def _key_path(key: object) -> str:
    text = str(key)
    if text.isidentifier():
        return f"$.{text}"
    return f"$[{json.dumps(text, ensure_ascii=False)}]"


@attrs.frozen
class ModelType(_ClassType):
    """An attrs class (a crmcore model, a rule spec); its JSON form is an object."""

    def to_json(self, value: Any, child: Child) -> Any:
        nodes = field_types(self.cls, strict=False)
        return {name: child(node, getattr(value, name)) for name, node in nodes.items()}

    def from_json(self, data: Any, child: Child) -> Any:
        cls = self.cls
        if not isinstance(data, Mapping):
            raise _type_error(f"an object ({cls.__name__})", data)
        fields, names = _init_fields(cls)
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
        for alias, node, required in fields:
            if alias in data:
                try:
                    kwargs[alias] = child(node, data[alias])
                except ValidationError as error:
                    problems.extend(error.under(_key_path(alias)).problems)
            elif required:
                problems.append(
                    Problem(code="field.required", path=_key_path(alias), message="is required")
                )
        if problems:
            # imported here: Model and its checks are built on this grammar
            from crmcore.models._base import Model
            from crmcore.models.checks import field_problems

            if issubclass(cls, Model):
                for name, value in kwargs.items():
                    problems.extend(field_problems(cls, name, value))
            raise ValidationError(problems, subject=cls.__name__)
        return construct(cls, kwargs)


def construct(cls: type, kwargs: dict[str, Any]) -> Any:
    """``cls(**kwargs)``, a constructor's ``TypeError`` or ``ValueError`` as ``value.invalid``."""
    try:
        return cls(**kwargs)
    except ValidationError:
        raise
    except (TypeError, ValueError) as error:
        raise _fail("value.invalid", str(error)) from error


_INIT_FIELDS: dict[type, tuple[tuple[tuple[str, FieldType, bool], ...], frozenset[str]]] = {}


def _init_fields(cls: type) -> tuple[tuple[tuple[str, FieldType, bool], ...], frozenset[str]]:
    """``((alias, node, required), ...)`` of the fields ``cls`` takes, and their aliases."""
    known = _INIT_FIELDS.get(cls)
    if known is None:
        nodes = field_types(cls, strict=False)
        fields = tuple(
            (f.alias or f.name, nodes[f.name], f.default is attrs.NOTHING)
            for f in attrs.fields(cls)
            if f.init
        )
        known = fields, frozenset(alias for alias, _, _ in fields)
        _INIT_FIELDS[cls] = known
    return known


@attrs.frozen
class AnyType(FieldType):
    """``Any`` or ``object``: every value fits; JSON data passes as it is."""

    @property
    def annotation(self) -> Any:
        return Any

    @property
    def name(self) -> str:
        return "Any"

    def diagnose(self, value: Any, path: str) -> Iterator[Problem]:
        return iter(())

    def fast_accepts(self) -> Callable[[Any], bool]:
        return lambda v: True

    def to_json(self, value: Any, child: Child) -> Any:
        return value

    def from_json(self, data: Any, child: Child) -> Any:
        return data


@attrs.frozen
class Foreign(FieldType):
    """An annotation the grammar does not model (a rule spec's ``float``, say).

    Only :func:`parse` with ``strict=False`` makes these; models refuse them. The
    converter hands them to cattrs' own hooks (``child`` is expected to do so).
    """

    type: Any

    @property
    def annotation(self) -> Any:
        return self.type

    def to_json(self, value: Any, child: Child) -> Any:
        return child(self, value)

    def from_json(self, data: Any, child: Child) -> Any:
        return child(self, data)


# --------------------------------------------------------------------------- parsing

_PARSERS: list[Callable[[Any], FieldType | None]] = []


def register_field_type(parser: Callable[[Any], FieldType | None]) -> Callable[[], None]:
    """Teach the grammar a new kind of field type; returns a function that removes it again.

    ``parser(annotation)`` returns a node (an instance of your :class:`FieldType`
    subclass) for the annotations it understands and ``None`` for the rest; it is
    asked before the built-in kinds. The node's ``diagnose``, ``fast_accepts``,
    ``to_json`` and ``from_json`` are all that checks, the converter and the SQL
    codec need. Register before the classes using the new kind are first used.
    """
    _PARSERS.insert(0, parser)
    _clear()

    def unregister() -> None:
        if parser in _PARSERS:
            _PARSERS.remove(parser)
            _clear()

    return unregister


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


_PARSED: dict[tuple[Any, bool], FieldType] = {}


def parse(tp: Any, *, strict: bool = True) -> FieldType:
    """The node of annotation ``tp``.

    Unsupported annotations raise :class:`TypeError` (models cannot check them), or
    with ``strict=False`` become :class:`Foreign` nodes.
    """
    try:
        return _PARSED[tp, strict]
    except KeyError:
        pass
    except TypeError:  # an unhashable annotation
        return _parse(tp, strict)
    node = _parse(tp, strict)
    _PARSED[tp, strict] = node
    return node


def _parse(tp: Any, strict: bool) -> FieldType:
    for parser in _PARSERS:
        found = parser(tp)
        if found is not None:
            return found
    if tp in ATOM_KINDS:
        return Atom(tp)
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        args = typing.get_args(tp)
        members = tuple(parse(a, strict=strict) for a in args if a is not type(None))
        if len(members) == len(args):
            return Union(members, tp)
        inner = members[0] if len(members) == 1 else Union(members)
        return Optional(inner, tp)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return TupleOf(parse(args[0], strict=strict), tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return EnumType(tp)
    if isinstance(tp, type) and attrs.has(tp):
        return ModelType(tp)
    if tp is Any or tp is object:
        return AnyType()
    if strict:
        raise TypeError(f"crmcore models cannot check fields of type {tp!r}")
    return Foreign(tp)


_FIELD_TYPES: dict[tuple[type, bool], dict[str, FieldType]] = {}


def field_types(cls: type, *, strict: bool = True) -> dict[str, FieldType]:
    """Every field of attrs class ``cls`` with its node, in field order (parsed once)."""
    known = _FIELD_TYPES.get((cls, strict))
    if known is None:
        hints = typing.get_type_hints(cls)
        known = {f.name: parse(hints[f.name], strict=strict) for f in attrs.fields(cls)}
        _FIELD_TYPES[cls, strict] = known
    return known


def leaf_of(node: FieldType) -> tuple[FieldType, bool, bool]:
    """``(inner, many, optional)`` of a field's node: what a query path step needs.

    ``X | None`` is optional, ``tuple[X, ...]`` many (``tuple[X, ...] | None``
    both); a union of several members has the leaf :class:`AnyType`.
    """
    optional = isinstance(node, Optional)
    if optional:
        assert isinstance(node, Optional)
        node = node.inner
        if isinstance(node, Union):
            node = AnyType()
    if isinstance(node, TupleOf):
        return node.item, True, optional
    return node, False, optional


# --------------------------------------------------------------------------- checks


@attrs.frozen
class TypeTest:
    """A node's type check and its fast predicate, built together.

    ``accepts(value)`` is true exactly when ``check(value, path)`` returns no
    problem: the check asks the predicate first and, when it says no, always
    reports at least one problem (``type.invalid`` if the node's reference check
    would find none, so a disagreement refuses the value instead of passing it).
    """

    accepts: Callable[[Any], bool]
    check: Callable[[Any, str], list[Problem]]


_TESTS: dict[FieldType, TypeTest] = {}


def type_test(node: FieldType) -> TypeTest:
    """The :class:`TypeTest` of ``node``; with fast paths off, the predicate is the check."""
    known = _TESTS.get(node)
    if known is not None:
        return known
    accepts = node.fast_accepts() if fast_paths_enabled() else node.reference_accepts()
    diagnose = node.diagnose

    def check(value: Any, path: str) -> list[Problem]:
        if accepts(value):
            return []
        return list(diagnose(value, path)) or [_wrong(node.name, value, path)]

    known = TypeTest(accepts=accepts, check=check)
    _TESTS[node] = known
    return known


def _clear() -> None:
    _PARSED.clear()
    _FIELD_TYPES.clear()
    _INIT_FIELDS.clear()
    _TESTS.clear()


on_switch(_TESTS.clear)
