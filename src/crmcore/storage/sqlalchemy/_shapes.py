"""Trusted readers specialised per document shape: straight-line code, no key tests.

The codec's trusted reader (:func:`crmcore.storage.sqlalchemy._codec.trusted_reader`)
tests every field's key (``'label' in d``), counts the keys it read and stores the
default of each field left out. Documents of one model come in few *shapes* (the
tuple of their keys, in order: :func:`~crmcore.storage.sqlalchemy._codec.encode`
writes the fields in field order, leaving out those holding their default), so the
reader here keeps one generated function per shape met: it takes the document's
values in order (``v0, v1 = d.values()``), stores each into its field and every
default into the fields the shape leaves out, with no test at all. The shape names
each field once, so it cannot hold an unknown key; a shape with a key that is not
a field, or without a field that is always written, goes to the per-field reader,
which raises as before.

A fast path: its reference is the per-field trusted reader (and, above both, the
checked reader); a property test compares them on every record the test strategies
make. A class meets at most :data:`MAX_SHAPES` shapes; past that, the per-field
reader reads the new ones (the shape is remembered, up to :data:`MAX_KNOWN`, so it is
not tested again). With ``CRMCORE_NO_FAST_PATHS=1`` no row is read trusted.

A reader nested in another (a customer's phones, a phone's consents) is not called
through :func:`shape_reader`'s dispatching function: the parent's generated code looks
the shape up in the child's :class:`Shapes` table itself (``_s3[tuple(v)](v)``, see
:func:`shapes_of`), one Python call a nested record instead of two. A value that is not
an object there (a list, a text) has no ``values()``: the ``AttributeError`` sends the
row to the checked read, as every other trusted error does.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import attrs

from crmcore._codegen import generate

__all__ = ["MAX_KNOWN", "MAX_SHAPES", "Shapes", "shape_reader", "shapes_of"]

MAX_SHAPES = 64
"""Shapes specialised per class; documents of further shapes are read field by field."""

MAX_KNOWN = 4096
"""Shapes remembered per class (specialised or read field by field); past it, looked at anew."""


class Shapes(dict[tuple[str, ...], Callable[[Any], Any]]):
    """A class's readers by document shape; a shape not met yet is looked at on lookup."""

    def __init__(self, specialise: Callable[[tuple[str, ...]], Callable[[Any], Any]]) -> None:
        super().__init__()
        self._specialise = specialise

    def __missing__(self, shape: tuple[str, ...]) -> Callable[[Any], Any]:
        func = self._specialise(shape)
        if len(self) < MAX_KNOWN:
            self[shape] = func
        return func


_TABLES: weakref.WeakKeyDictionary[Callable[[Any], Any], Shapes] = weakref.WeakKeyDictionary()


def shapes_of(reader: Callable[[Any], Any]) -> Shapes | None:
    """The shape table of a reader :func:`shape_reader` made, or None for any other function."""
    return _TABLES.get(reader)


Store = Callable[["attrs.Attribute[Any]", str], str]
"""The source storing an expression into a field of ``o`` (a slot store or a setter)."""


def shape_reader(
    cls: type,
    generic: Callable[[Any], Any],
    *,
    builder: type | None,
    env: dict[str, Any],
    value: Callable[[str, str], str],
    defaults: dict[str, str],
    store: Store,
) -> Callable[[Any], Any]:
    """The trusted reader of ``cls`` dispatching on each document's shape.

    ``generic``: the per-field reader (for documents of no known shape); ``env``: the
    namespace of the generated code, to which ``value(field_name, variable)`` (the
    expression reading a field's JSON value from a variable) adds the names it uses;
    ``defaults``: field name to the name of its default in ``env``, for every field
    that has one; ``store``: the statement storing an expression into a field.
    """
    fields = {f.alias or f.name: f for f in attrs.fields(cls)}
    required = frozenset(key for key, f in fields.items() if f.name not in defaults)
    made = 0

    def specialise(shape: tuple[str, ...]) -> Callable[[Any], Any]:
        nonlocal made
        if not required.issubset(shape) or not fields.keys() >= set(shape):
            return generic  # not a document encode() writes: the per-field reader raises
        if len(shape) != len(set(shape)) or made >= MAX_SHAPES:
            return generic
        made += 1
        names = [f"v{i}" for i in range(len(shape))]
        lines = ["def read(d):"]
        # a list or a text in an object's place has no values(): AttributeError, read checked
        lines.append(f"    {', '.join(names)}, = d.values()" if names else "    () = d.values()")
        lines.append("    o = _new(_builder)")
        position = dict(zip(shape, names, strict=True))
        for key, field in fields.items():
            if key in position:
                lines.append(f"    {store(field, value(field.name, position[key]))}")
            else:
                lines.append(f"    {store(field, defaults[field.name])}")
        if builder is not None:
            lines.append("    o.__class__ = _cls")
        lines.append("    return o")
        what = f"trusted reader of {cls.__qualname__}, shape ({', '.join(shape)})"
        func: Callable[[Any], Any] = generate("\n".join(lines), "read", dict(env), what=what)
        return func

    shapes = Shapes(specialise)

    def read(d: Any) -> Any:
        if type(d) is not dict:
            return generic(d)  # raises
        return shapes[tuple(d)](d)

    _TABLES[read] = shapes
    return read
