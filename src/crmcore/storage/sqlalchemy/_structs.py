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
   (:func:`crmcore.storage.sqlalchemy._codec._builder`: made by one C call, plain slot
   stores, then ``__class__`` set to the model) and turns nested mirrors into models the
   same way, in its own code (:data:`MAX_INLINE_DEPTH`: no Python call per nested
   record). No shape dispatch, no key test, no model check runs. The mirrors are not
   tracked by the cyclic collector (``gc=False``): they live from the parse to the copy.

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

__all__ = ["MAX_INLINE_DEPTH", "struct_reader", "struct_steps"]

_ATOMS = (str, int, bool, dt.datetime, dt.date, Decimal)


class _Unsupported(Exception):
    """A class (or one nested in it) that gets no mirror."""


class _Mirror:
    """The mirror Struct and the copying function of one model class."""

    def __init__(self, struct: type, copy: Callable[[Any], Any]) -> None:
        self.struct = struct
        self.copy = copy


_MIRRORS: dict[type, _Mirror | None] = {}
_BUILDERS: dict[type, type | None] = {}
_READERS: dict[type, Callable[[str], Any] | None] = {}
on_switch(_MIRRORS.clear)
on_switch(_READERS.clear)
on_switch(_BUILDERS.clear)


def _builder_of(cls: type) -> type | None:
    """The layout-identical builder of ``cls`` (``_codec._builder``), made once per class."""
    if cls not in _BUILDERS:
        _BUILDERS[cls] = _builder(cls) if _settable(cls) else None
    return _BUILDERS[cls]


def struct_reader(cls: type) -> Callable[[str], Any] | None:
    """The trusted reader of ``cls`` from document text, or None without msgspec or a mirror.

    It raises ``msgspec.DecodeError`` (a ``ValidationError`` of msgspec's for a value of
    another type or an unknown key) on text :func:`~crmcore.storage.sqlalchemy._codec.encode`
    did not write: the caller then reads the row checked.
    """
    if cls in _READERS:
        return _READERS[cls]
    reader: Callable[[str], Any] | None = None
    steps = struct_steps(cls)
    if steps is not None:
        decode, copy = steps

        def read(text: str) -> Any:
            return copy(decode(text))

        reader = read
    _READERS[cls] = reader
    return reader


def struct_steps(
    cls: type,
) -> tuple[Callable[[str | bytes], Any], Callable[[Any], Any]] | None:
    """The two steps of :func:`struct_reader`: parse into the mirror, copy into the model.

    For a row reader that calls them itself (a Python call less per row); None where
    :func:`struct_reader` is None.
    """
    mirror = _mirror(cls, set()) if _has_msgspec() else None
    if mirror is None:
        return None
    import msgspec

    decode: Callable[[str | bytes], Any] = msgspec.json.Decoder(mirror.struct).decode
    return decode, mirror.copy


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

    if _builder_of(cls) is None:
        raise _Unsupported
    nodes = field_types(cls, strict=False)
    specs: list[tuple[str, Any, Any]] = []
    for field in attrs.fields(cls):
        if field.alias not in (None, field.name):
            raise _Unsupported  # encode() writes the name; the dict reader reads the alias
        rule, _ = _default_rule(field)
        if rule == "always":
            spec = msgspec.field(name=field.name)
        else:
            spec = msgspec.field(default=field.default, name=field.name)
        specs.append((field.name, _annotation(nodes[field.name], building), spec))
    try:
        struct = msgspec.defstruct(
            f"Mirror{cls.__name__}",
            specs,
            kw_only=True,
            forbid_unknown_fields=True,
            # a mirror lives from its parse to its copy and never holds itself: the
            # collector need not track it (cheaper to make, fewer collections)
            gc=False,
            module=__name__,
        )
        msgspec.json.Decoder(struct)
    except (TypeError, ValueError, NotImplementedError):  # a default or type msgspec refuses
        raise _Unsupported from None
    source = _Copy(building)
    source.lines.append("def copy(s):")
    source.record(cls, "s", 0, "    ")
    source.lines.append("    return o0")
    copy: Callable[[Any], Any] = generate(
        "\n".join(source.lines), "copy", source.env, what=f"Struct copy of {cls.__qualname__}"
    )
    return _Mirror(struct, copy)


MAX_INLINE_DEPTH = 5
"""Nesting levels copied inline: a record nested fewer levels deep is made in the top
class's generated function (a customer's organisation's contacts' phones' consents are
four levels down); a deeper one, by a call to its own class's function. Inline, a nested
record costs no Python call, about a third of what copying a small one (a consent, a
person's name) cost through its own function."""


class _Copy:
    """The source of one class's copy function, nested records inline (:data:`MAX_INLINE_DEPTH`).

    Names in the generated code: ``o<depth>`` the record being made at that depth,
    ``v<depth>`` a mirror value read from it, ``l<depth>``/``i<depth>`` a tuple's list
    and item; bound objects (builders, classes, nested copiers) live in ``env``.
    """

    def __init__(self, building: set[type]) -> None:
        self.building = building
        self.env: dict[str, Any] = {"_new": object.__new__}
        self.lines: list[str] = []

    def record(self, cls: type, src: str, depth: int, pad: str) -> None:
        """Append the statements making ``o<depth>``, a ``cls``, from the mirror in ``src``.

        The builder's own ``__init__`` is object's (``_codec._builder``), so calling it is
        one C call; a model with a ``__new__`` of its own is made without running it, as by
        the checked read. The fields are plain stores; ``__class__`` is set last.
        """
        builder = _builder_of(cls)
        if builder is None:  # pragma: no cover - _make_mirror refused such a class first
            raise _Unsupported
        made = _bind(self.env, "_b", builder)
        plain = getattr(builder, "__new__") is object.__new__  # noqa: B009 - mypy: Any
        out = f"o{depth}"
        self.lines.append(f"{pad}{out} = {made}()" if plain else f"{pad}{out} = _new({made})")
        nodes = field_types(cls, strict=False)
        for field in attrs.fields(cls):
            self.field(nodes[field.name], f"{src}.{field.name}", f"{out}.{field.name}", depth, pad)
        self.lines.append(f"{pad}{out}.__class__ = {_bind(self.env, '_k', cls)}")

    def field(self, node: FieldType, get: str, target: str, depth: int, pad: str) -> None:
        """Append the statements storing into ``target`` the model value of mirror value ``get``."""
        add, v, inner = self.lines.append, f"v{depth}", depth + 1
        if inner < MAX_INLINE_DEPTH:
            if isinstance(node, Optional) and isinstance(node.inner, ModelType):
                add(f"{pad}{v} = {get}")
                add(f"{pad}if {v} is None:")
                add(f"{pad}    {target} = None")
                add(f"{pad}else:")
                self.record(node.inner.cls, v, inner, pad + "    ")
                add(f"{pad}    {target} = o{inner}")
                return
            if isinstance(node, ModelType):
                add(f"{pad}{v} = {get}")
                self.record(node.cls, v, inner, pad)
                add(f"{pad}{target} = o{inner}")
                return
            if isinstance(node, TupleOf) and isinstance(node.item, ModelType):
                items, each = f"l{depth}", f"i{depth}"
                add(f"{pad}{v} = {get}")
                add(f"{pad}if {v}:")
                add(f"{pad}    {items} = []")
                add(f"{pad}    for {each} in {v}:")
                self.record(node.item.cls, each, inner, pad + "        ")
                add(f"{pad}        {items}.append(o{inner})")
                add(f"{pad}    {target} = tuple({items})")
                add(f"{pad}else:")
                add(f"{pad}    {target} = ()")
                return
        value = _copy_expr(node, v, self.env, self.building)
        if value is None:
            add(f"{pad}{target} = {get}")
        else:
            add(f"{pad}{v} = {get}")
            add(f"{pad}{target} = {value}")


def _bind(env: dict[str, Any], prefix: str, value: object) -> str:
    """The name of ``value`` in the generated code's namespace ``env`` (bound once)."""
    for name, known in env.items():
        if known is value and name.startswith(prefix):
            return name
    name = f"{prefix}{len(env)}"
    env[name] = value
    return name


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
