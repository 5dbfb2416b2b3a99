"""Trusted reads through msgspec Structs: the document parsed and typed in C, then copied.

With the ``fast`` extra (msgspec) installed, a document the store wrote itself (its digest
matches, see :mod:`crmcore.storage.sqlalchemy._trusted`) is read in two steps:

1. msgspec's JSON decoder parses it straight into a *mirror* of the model: a
   ``msgspec.Struct`` made per model class from its field-type grammar
   (:func:`crmcore.models._types.field_types`), one field per model field under the key
   :func:`~crmcore.storage.sqlalchemy._codec.encode` writes, with the model's default for
   every field that has a plain one (``encode`` leaves a field holding its default out)
   and none for the fields always written. Datetimes, dates, decimals, enums, tuples and
   nested models are typed in C, and no dict is built; an unknown key, a missing
   always-written field or a value of another type makes msgspec raise.
2. One generated function per class (:func:`crmcore._codegen.generate`) copies the
   mirror's fields into a new instance of the model through the layout-identical builder
   (:func:`crmcore.storage.sqlalchemy._codec._builder`: plain slot stores, then
   ``__class__`` set to the model) and turns nested mirrors into models the same way. No
   shape dispatch, no key test, no model check runs.

Only classes whose whole grammar is atoms, enums (of one value type), optionals, tuples
and nested models that the trusted reader sets field by field (``_codec._settable``), with
defaults msgspec takes, get a mirror; :func:`struct_reader` is None for the others, which
keep the dict trusted reader. A fast path: its reference is the dict trusted reader and,
above it, the checked read (a property test compares them on every record the test
strategies make); with ``CRMCORE_NO_FAST_PATHS=1`` no row is read trusted at all.
"""

from __future__ import annotations

import datetime as dt
import enum
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from crmcore._codegen import generate
from crmcore._fastpaths import on_switch
from crmcore.models._types import (
    Atom,
    EnumType,
    FieldType,
    ModelType,
    Optional,
    TupleOf,
    field_types,
)
from crmcore.storage.sqlalchemy._codec import _builder, _default_rule, _settable

__all__ = ["struct_reader"]

_ATOMS = (str, int, bool, dt.datetime, dt.date, Decimal)


class _Unsupported(Exception):
    """A class (or one nested in it) that gets no mirror."""


class _Mirror:
    """The mirror Struct and the copying function of one model class."""

    def __init__(self, struct: type, copy: Callable[[Any], Any]) -> None:
        self.struct = struct
        self.copy = copy


_MIRRORS: dict[type, _Mirror | None] = {}
_READERS: dict[type, Callable[[str], Any] | None] = {}
on_switch(_MIRRORS.clear)
on_switch(_READERS.clear)


def struct_reader(cls: type) -> Callable[[str], Any] | None:
    """The trusted reader of ``cls`` from document text, or None without msgspec or a mirror.

    It raises ``msgspec.DecodeError`` (a ``ValidationError`` of msgspec's for a value of
    another type or an unknown key) on text :func:`~crmcore.storage.sqlalchemy._codec.encode`
    did not write: the caller then reads the row checked.
    """
    if cls in _READERS:
        return _READERS[cls]
    reader: Callable[[str], Any] | None = None
    mirror = _mirror(cls, set()) if _has_msgspec() else None
    if mirror is not None:
        import msgspec

        decode: Callable[[str], Any] = msgspec.json.Decoder(mirror.struct).decode
        copy = mirror.copy

        def read(text: str) -> Any:
            return copy(decode(text))

        reader = read
    _READERS[cls] = reader
    return reader


def _has_msgspec() -> bool:
    try:
        import msgspec  # noqa: F401
    except ImportError:  # the `fast` extra is not installed
        return False
    return True


def _mirror(cls: type, building: set[type]) -> _Mirror | None:
    """The mirror of ``cls``, made once; None when it (or a class in it) gets none."""
    if cls in _MIRRORS:
        return _MIRRORS[cls]
    if cls in building:
        return None  # a model nesting itself: left to the dict trusted reader
    building.add(cls)
    try:
        mirror: _Mirror | None = _make_mirror(cls, building)
    except _Unsupported:
        mirror = None
    finally:
        building.discard(cls)
    _MIRRORS[cls] = mirror
    return mirror


def _make_mirror(cls: type, building: set[type]) -> _Mirror:
    import msgspec

    builder = _builder(cls) if _settable(cls) else None
    if builder is None:
        raise _Unsupported
    nodes = field_types(cls, strict=False)
    env: dict[str, Any] = {"_new": object.__new__, "_builder": builder, "_cls": cls}
    specs: list[tuple[str, Any, Any]] = []
    lines = ["def copy(s):", "    o = _new(_builder)"]
    for field in attrs.fields(cls):
        if field.alias not in (None, field.name):
            raise _Unsupported  # encode() writes the name; the dict reader reads the alias
        node = nodes[field.name]
        rule, _ = _default_rule(field)
        if rule == "always":
            spec = msgspec.field(name=field.name)
        else:
            spec = msgspec.field(default=field.default, name=field.name)
        specs.append((field.name, _annotation(node, building), spec))
        value = _copy_expr(node, "v", env, building)
        if value is None:
            lines.append(f"    o.{field.name} = s.{field.name}")
        else:
            lines.append(f"    v = s.{field.name}")
            lines.append(f"    o.{field.name} = {value}")
    lines.append("    o.__class__ = _cls")
    lines.append("    return o")
    try:
        struct = msgspec.defstruct(
            f"Mirror{cls.__name__}",
            specs,
            kw_only=True,
            forbid_unknown_fields=True,
            module=__name__,
        )
        msgspec.json.Decoder(struct)
    except (TypeError, ValueError, NotImplementedError):  # a default or type msgspec refuses
        raise _Unsupported from None
    copy: Callable[[Any], Any] = generate(
        "\n".join(lines), "copy", env, what=f"Struct copy of {cls.__qualname__}"
    )
    return _Mirror(struct, copy)


def _annotation(node: FieldType, building: set[type]) -> Any:
    """The msgspec type of a field of grammar ``node``; _Unsupported for any other kind."""
    if isinstance(node, Atom) and node.type in _ATOMS:
        return node.type
    if isinstance(node, EnumType):
        kinds = {type(member.value) for member in node.cls}
        if len(kinds) != 1 or not (kinds <= {str} or kinds <= {int}):
            raise _Unsupported
        if not issubclass(node.cls, enum.Enum):  # pragma: no cover
            raise _Unsupported
        return node.cls
    if isinstance(node, Optional):
        return typing.Optional[_annotation(node.inner, building)]  # noqa: UP045
    if isinstance(node, TupleOf):
        return tuple[_annotation(node.item, building), ...]  # type: ignore[misc]
    if isinstance(node, ModelType):
        mirror = _mirror(node.cls, building)
        if mirror is None:
            raise _Unsupported
        return mirror.struct
    raise _Unsupported  # a union, a foreign type, one registered with the grammar


def _copy_expr(node: FieldType, var: str, env: dict[str, Any], building: set[type]) -> str | None:
    """The expression turning mirror value ``var`` into the model's value; None: as it is."""
    if isinstance(node, ModelType):
        return f"{_copier(node.cls, env, building)}({var})"
    if isinstance(node, Optional):
        inner = _copy_expr(node.inner, var, env, building)
        return None if inner is None else f"(None if {var} is None else {inner})"
    if isinstance(node, TupleOf):
        if isinstance(node.item, ModelType):  # map: no comprehension frame per tuple
            return f"(tuple(map({_copier(node.item.cls, env, building)}, {var})) if {var} else ())"
        item = f"{var}_"
        inner = _copy_expr(node.item, item, env, building)
        return None if inner is None else f"tuple([{inner} for {item} in {var}])"
    return None  # atoms and enums: msgspec typed them


def _copier(cls: type, env: dict[str, Any], building: set[type]) -> str:
    """The name, in ``env``, of the function copying a mirror of ``cls`` into a ``cls``."""
    mirror = _mirror(cls, building)
    if mirror is None:  # pragma: no cover - _annotation refused it first
        raise _Unsupported
    name = f"_c{len(env)}"
    env[name] = mirror.copy
    return name
