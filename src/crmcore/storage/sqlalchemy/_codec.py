"""The JSON document each stored record is kept as.

A record is stored as crmcore's own JSON form (:mod:`crmcore.serialization`) with the
fields that hold their default value left out, so documents stay small. Any such
document is read back with :func:`crmcore.serialization.from_dict`, which fills the
defaults in and checks every value, so the round trip is exact and a corrupted row
is reported, never silently accepted.

Both directions are on hot paths (bulk import, streaming reads), so each has a fast
path generated once per model class from its field-type grammar
(:func:`crmcore.models._types.field_types`) through :mod:`crmcore._codegen`, beside
its reference:

* writing: the generated JSON writer; reference: :func:`unstructure` (the document
  as plain data, walked over the grammar) then the json module;
* reading: the generated reader; reference: :func:`crmcore.serialization.from_dict`;
* reading a document the store wrote itself (its digest matches, see
  :mod:`crmcore.storage.sqlalchemy._trusted`): the generated trusted reader, which
  sets the fields' slots without re-running the model's checks; reference: the
  checked reader above. It is specialised per document shape
  (:mod:`crmcore.storage.sqlalchemy._shapes`; reference: the per-field trusted reader).

``CRMCORE_NO_FAST_PATHS=1`` (:mod:`crmcore._fastpaths`) makes each use its reference.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import typing
from collections.abc import Callable
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, TypeVar

import attrs

from crmcore._codegen import generate
from crmcore._fastpaths import fast_paths_enabled, on_switch
from crmcore.errors import ValidationError
from crmcore.models._base import Model
from crmcore.models._replace import _slot_setter
from crmcore.models._types import (
    Atom,
    EnumType,
    FieldType,
    Foreign,
    ModelType,
    Optional,
    TupleOf,
    field_types,
)
from crmcore.serialization import from_dict, from_json
from crmcore.storage.sqlalchemy._last import remember_last
from crmcore.storage.sqlalchemy._shapes import shape_reader, shapes_of

__all__ = [
    "TRUSTED_ERRORS",
    "decode",
    "encode",
    "structure",
    "trusted_reader",
    "unstructure",
]

T = TypeVar("T")

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)

_isoformat: Callable[[dt.datetime], str] = remember_last(dt.datetime.isoformat)
"""``value.isoformat()``, formatted once for consecutive calls with one datetime object."""


# --------------------------------------------------------------------------- defaults


def _default_rule(field: attrs.Attribute[Any]) -> tuple[str, Any]:
    """How a field holding its default is recognised: ``(rule, default)``.

    ``"always"``: written whatever it holds (no plain default); ``"none"``,
    ``"empty"``, ``"is"`` (bools, enums), ``"decimal"`` (the exact text: the scale of
    a decimal is data) and ``"eq"`` otherwise. A field holding its default is left
    out of the document.
    """
    default = field.default
    if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return "always", None
    if default is None:
        return "none", None
    if default == ():
        return "empty", None
    if isinstance(default, bool | enum.Enum):
        return "is", default
    if isinstance(default, Decimal):
        return "decimal", str(default)
    return "eq", default


def _written(rule: str, default: Any, value: Any) -> bool:
    """Whether a field value is written (the interpreted form of :func:`_written_when`)."""
    if rule == "always":
        return True
    if rule == "none":
        return value is not None
    if rule == "empty":
        return bool(value)
    if rule == "is":
        return value is not default
    if rule == "decimal":
        return value is None or str(value) != default
    return bool(value != default)


def _written_when(rule: str, default: Any, name: str, env: dict[str, Any]) -> str | None:
    """The condition on ``v`` under which a field is written, as source; None: always."""
    env[name] = default
    return {
        "always": None,
        "none": "v is not None",
        "empty": "v",
        "is": f"v is not {name}",
        "decimal": f"v is None or str(v) != {name}",
        "eq": f"v != {name}",
    }[rule]


# --------------------------------------------------------------------------- reference


_RULES: dict[type, tuple[tuple[str, FieldType, str, Any], ...]] = {}


def _rules(cls: type) -> tuple[tuple[str, FieldType, str, Any], ...]:
    known = _RULES.get(cls)
    if known is None:
        nodes = field_types(cls, strict=False)
        known = tuple((f.name, nodes[f.name], *_default_rule(f)) for f in attrs.fields(cls))
        _RULES[cls] = known
    return known


def _child(node: FieldType, value: Any) -> Any:
    if isinstance(node, ModelType | Foreign):
        return unstructure(value)
    return node.to_json(value, _child)


def unstructure(obj: Any) -> Any:
    """Return the JSON data of a record (defaults left out) or of a plain value.

    The reference of the generated JSON writer: :func:`encode` writes exactly the
    compact JSON text of this.
    """
    if obj is None or isinstance(obj, str | int | bool):
        return obj
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, tuple | list):
        return [unstructure(x) for x in obj]
    return {
        name: _child(node, value)
        for name, node, rule, default in _rules(type(obj))
        if _written(rule, default, value := getattr(obj, name))
    }


# --------------------------------------------------------------------------- JSON text
#
# The documents are written straight to JSON text by a generated function per class:
# exactly the text json.JSONEncoder(ensure_ascii=False, separators=(",", ":")) makes
# of unstructure()'s dict (a property test compares them), without building the dict
# first. Strings go through the json module's own C string encoder.


class _Source:
    """The namespace and fresh names of one generated function."""

    def __init__(self, env: dict[str, Any]) -> None:
        self.env = env
        self._count = 0

    def name(self, prefix: str, value: Any) -> str:
        self._count += 1
        name = f"{prefix}{self._count}"
        self.env[name] = value
        return name

    def var(self) -> str:
        self._count += 1
        return f"_x{self._count}"


# Per atom: the expression writing its JSON text, and the one reading it from JSON data.
_ATOM_CODE: dict[Any, tuple[str, str]] = {
    str: ("_s({})", "{}"),  # read as it is: the model's own type check rejects anything else
    int: ("_int({})", "{}"),
    bool: ("('true' if {} else 'false')", "{}"),
    dt.datetime: ("'\"' + _iso({}) + '\"'", "_datetime({})"),  # isoformat needs no escaping
    dt.date: ("'\"' + {}.isoformat() + '\"'", "_date({})"),
    Decimal: ("'\"' + str({}) + '\"'", "_decimal({})"),
}


def _json_expr(node: FieldType, var: str, src: _Source) -> str:
    """Python expression giving the JSON text of ``var`` (a value of ``node``'s type)."""
    if isinstance(node, Atom):
        return _ATOM_CODE[node.type][0].format(var)
    if isinstance(node, EnumType):
        # _value_ is the member's value as a plain attribute; .value is a slower descriptor
        if all(isinstance(m.value, str) for m in node.cls):
            return f"_s({var}._value_)"
        return f"_dump({var}._value_)"
    if isinstance(node, Optional):
        return f"('null' if {var} is None else {_json_expr(node.inner, var, src)})"
    if isinstance(node, TupleOf):
        item = src.var()
        return f"('[' + ','.join([{_json_expr(node.item, item, src)} for {item} in {var}]) + ']')"
    if isinstance(node, ModelType):
        return f"{src.name('_j', _writers.reference(node.cls))}({var})"
    # any other kind (a union, one registered with the grammar): its own JSON data
    return f"_dump({src.name('_n', node)}.to_json({var}, _child))"


def _generate_json(cls: type) -> Callable[[Any], str]:
    if not fast_paths_enabled():
        return _reference_writer
    env: dict[str, Any] = {
        "_child": _child,
        "_dump": _ENCODER.encode,
        "_iso": _isoformat if fast_paths_enabled() else dt.datetime.isoformat,
        "_s": encode_basestring,
        "_int": int.__repr__,
    }
    src = _Source(env)
    lines = ["def to_json(o):", "    p = []"]
    for name, node, rule, default in _rules(cls):
        if rule == "none" and isinstance(node, Optional):
            node = node.inner  # written only when not None
        value = _json_expr(node, "v", src)
        key = encode_basestring(name) + ":"
        lines.append(f"    v = o.{name}")
        condition = _written_when(rule, default, f"_d_{name}", env)
        if condition is None:
            lines.append(f"    p.append({key!r} + {value})")
        else:
            lines.append(f"    if {condition}:")
            lines.append(f"        p.append({key!r} + {value})")
    lines.append("    return '{' + ','.join(p) + '}'")
    func: Callable[[Any], str] = generate(
        "\n".join(lines), "to_json", env, what=f"JSON writer of {cls.__qualname__}"
    )
    return func


class _Generated:
    """Generated functions per class, made on first use.

    A class being generated refers to itself (a nested field of its own type) through
    a lazy call, resolved once its function exists.
    """

    def __init__(self, make: Callable[[type], Callable[[Any], Any]]) -> None:
        self._make = make
        self._made: dict[type, Callable[[Any], Any]] = {}
        self._building: set[type] = set()
        on_switch(self._made.clear)

    def __call__(self, cls: type) -> Callable[[Any], Any]:
        func = self._made.get(cls)
        if func is not None:
            return func
        self._building.add(cls)
        try:
            func = self._make(cls)
        finally:
            self._building.discard(cls)
        self._made[cls] = func
        return func

    def reference(self, cls: type) -> Callable[[Any], Any]:
        """The function of ``cls``, or a call that finds it later if it is being generated."""
        if cls not in self._building:
            return self(cls)

        def call(obj: Any) -> Any:
            return self(cls)(obj)

        return call


_writers = _Generated(_generate_json)


def _reference_writer(record: Any) -> str:
    return _ENCODER.encode(unstructure(record))


def _encode(record: Any) -> str:
    """Return the stored JSON text of a record."""
    text: str = _writers(type(record))(record)
    return text


encode: Callable[[Any], str] = remember_last(_encode)
"""Return the stored JSON text of a record (the last record's text is remembered, so a
row function taking the text and its digest, ``_trusted.doc_digest``, encodes once)."""


# --------------------------------------------------------------------------- reading
#
# Reading is on the streaming hot path too. A generated structuring function per class
# turns each JSON value into its field type (enums, dates, decimals, nested models)
# and calls the class, whose own construction checks every type, value and invariant.
# What it does not handle (an unknown key, a float where a decimal string belongs, an
# unparsable date) raises _Fallback, and a value the model refuses raises its
# ValidationError: then crmcore.serialization.from_dict reads the document, building
# the same object or raising its ValidationError with every problem and full $.paths.
# Any other exception is a bug and propagates.


class _Fallback(Exception):
    """The fast path met something it does not handle; use from_dict."""


def _decimal(value: Any) -> Decimal:
    if type(value) is not str:
        raise _Fallback
    try:
        return Decimal(value)
    except ArithmeticError:
        raise _Fallback from None


def _datetime(value: Any) -> dt.datetime:
    if type(value) is not str:
        raise _Fallback
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise _Fallback from None


def _date(value: Any) -> dt.date:
    if type(value) is not str:
        raise _Fallback
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _Fallback from None


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise _Fallback
    return value


def _enum_reader(node: EnumType) -> Callable[[Any], Any]:
    values = node.values()

    def read(value: Any) -> Any:
        try:
            return values[value]
        except (KeyError, TypeError):
            raise _Fallback from None

    return read


def _read_child(node: FieldType, data: Any) -> Any:
    return from_dict(data, node.annotation)


def _read_expr(node: FieldType, var: str, src: _Source) -> str:
    """Python expression turning JSON data ``var`` into a value of ``node``'s type."""
    if isinstance(node, Atom):
        return _ATOM_CODE[node.type][1].format(var)
    if isinstance(node, EnumType):
        return f"{src.name('_e', _enum_reader(node))}({var})"
    if isinstance(node, Optional):
        inner = _read_expr(node.inner, var, src)
        return var if inner == var else f"(None if {var} is None else {inner})"
    if isinstance(node, TupleOf):
        item = src.var()
        return f"tuple([{_read_expr(node.item, item, src)} for {item} in _list({var})])"
    if isinstance(node, ModelType):
        return f"{src.name('_r', _readers.reference(node.cls))}({var})"
    # any other kind (a union, one registered with the grammar): its own strict parser
    return f"{src.name('_n', node)}.from_json({var}, _read_child)"


def _generate_reader(cls: type) -> Callable[[Any], Any]:
    nodes = field_types(cls, strict=False)
    env: dict[str, Any] = {
        "_cls": cls,
        "_Fallback": _Fallback,
        "_datetime": _datetime,
        "_date": _date,
        "_decimal": _decimal,
        "_list": _list,
        "_read_child": _read_child,
        "_names": frozenset(f.alias or f.name for f in attrs.fields(cls) if f.init),
    }
    src = _Source(env)
    lines = [
        "def read(d):",
        "    if type(d) is not dict or not _names.issuperset(d):",
        "        raise _Fallback",
        "    k = {}",
    ]
    for field in attrs.fields(cls):
        if not field.init:
            continue
        key = field.alias or field.name
        value = _read_expr(nodes[field.name], "v", src)
        lines.append(f"    v = d.get({key!r}, d)")
        lines.append("    if v is not d:")
        lines.append(f"        k[{key!r}] = {value}")
    # the constructor's TypeError or ValueError is from_dict's value.invalid (construct)
    lines.append("    try:")
    lines.append("        return _cls(**k)")
    lines.append("    except (TypeError, ValueError):")
    lines.append("        raise _Fallback from None")
    func: Callable[[Any], Any] = generate(
        "\n".join(lines), "read", env, what=f"reader of {cls.__qualname__}"
    )
    return func


_readers = _Generated(_generate_reader)


def structure(data: Any, cls: type[T]) -> T:
    """Build ``cls`` from stored JSON data, checking every value (as ``from_dict`` does)."""
    if fast_paths_enabled():
        try:
            return typing.cast(T, _readers(cls)(data))
        except (_Fallback, ValidationError):
            pass
    return from_dict(data, cls)


def decode(text: str | bytes, cls: type[T]) -> T:
    """Read a stored JSON document back into ``cls``, checking every value.

    Text that is not JSON (a truncated or hand-edited row) is ``json.invalid``.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, too deep
        return from_json(text, cls)  # raises ValidationError json.invalid
    return structure(data, cls)


# --------------------------------------------------------------------------- trusted
#
# A document the store wrote itself (its digest matches, see _trusted) is exactly text
# encode() made from a model that had passed every check. The generated trusted reader
# does the checked reader's JSON-to-value conversions (enums, datetimes, dates,
# decimals, nested models), then makes the instance with object.__new__ and sets its
# slots directly (plain stores into an instance of a layout-identical builder
# subclass, whose __class__ then becomes the model's, see _builder); no type check,
# value check or invariant runs. Converters (such as
# Customer.tags' sort) do not run either: a stored value is already the converter's
# output, and a field left out of the document held exactly its default (see
# _written), so the default is the value. The result is equal, field for field and
# type for type, to the checked reader's on every such document (a property test
# compares them; that the checked reader gives back the record written is the round
# trip test's). On a document of another shape it raises one of TRUSTED_ERRORS, and
# the caller reads the document checked.

# Per atom, the function reading it from a trusted document ("": read as it is).
_TRUSTED_ATOM: dict[Any, str] = {
    str: "",
    int: "",
    bool: "",
    dt.datetime: "_fromiso",
    dt.date: "_fromdate",
    Decimal: "_Decimal",
}


def _settable(cls: type) -> bool:
    """Whether instances of ``cls`` can be made by setting their fields' slots.

    That is so when construction does nothing but convert and set the fields, then run
    :class:`~crmcore.models.Model`'s checks: no attrs validator, no pre-init hook, no
    post-init other than the model's, every field a plain keyword argument, and
    converters that take only the value (which the trusted reader need not run: a
    stored value is already their output). Other classes are read by constructing them.
    """
    if getattr(cls, "__attrs_post_init__", None) not in (None, Model.__attrs_post_init__):
        return False
    if hasattr(cls, "__attrs_pre_init__"):
        return False
    return all(
        f.init
        and f.validator is None
        and (f.converter is None or not isinstance(f.converter, attrs.Converter))
        for f in attrs.fields(cls)
    )


def _trusted_expr(node: FieldType, var: str, src: _Source) -> str:
    """Python expression turning trusted JSON data ``var`` into a value of ``node``'s type."""
    if isinstance(node, Atom):
        function = _TRUSTED_ATOM[node.type]
        return f"{function}({var})" if function else var
    if isinstance(node, EnumType):
        return f"{src.name('_e', node.values())}[{var}]"  # KeyError: the checked path
    if isinstance(node, Optional):
        inner = _trusted_expr(node.inner, var, src)
        return var if inner == var else f"(None if {var} is None else {inner})"
    if isinstance(node, TupleOf):
        if isinstance(node.item, ModelType) and (table := _shape_table(node.item.cls, src)):
            item = src.var()  # one call per item (its shape's reader), not two
            return f"tuple([{table}[tuple({item})]({item}) for {item} in {var}])"
        item_reader = _trusted_function(node.item, src)
        if item_reader is not None:  # map: no comprehension frame per tuple
            return f"tuple(map({item_reader}, {var}))" if item_reader else f"tuple({var})"
        item = src.var()
        return f"tuple([{_trusted_expr(node.item, item, src)} for {item} in {var}])"
    if isinstance(node, ModelType):
        if table := _shape_table(node.cls, src):
            return f"{table}[tuple({var})]({var})"  # the shape's reader, called directly
        return f"{src.name('_t', _trusted.reference(node.cls))}({var})"
    # any other kind (a union, one registered with the grammar): its own strict parser
    return f"{src.name('_n', node)}.from_json({var}, _read_child)"


def _shape_table(cls: type, src: _Source) -> str | None:
    """The name of ``cls``'s shape table in the generated code, if its reader has one.

    None while ``cls`` is being generated (a model nesting itself), for a class read by
    constructing it, and for the per-field readers (the shapes' reference).
    """
    table = shapes_of(_trusted.reference(cls))
    return None if table is None else src.name("_s", table)


def _trusted_function(node: FieldType, src: _Source) -> str | None:
    """The name of a function reading one trusted JSON value of ``node``, if there is one.

    ``""``: the value is read as it is; ``None``: no single function (use an expression).
    """
    if isinstance(node, Atom):
        return _TRUSTED_ATOM[node.type]
    if isinstance(node, EnumType):
        return src.name("_get", node.values().__getitem__)
    if isinstance(node, ModelType):
        return src.name("_t", _trusted.reference(node.cls))
    return None


def _builder(cls: type) -> type | None:
    """A subclass of ``cls`` whose instances take plain attribute stores, or None.

    Setting a frozen class's slots goes through their descriptors' ``__set__``, a
    call each. A subclass that adds no slots and keeps ``object.__setattr__`` has the
    same memory layout, and CPython runs ``o.name = v`` on its instances as one
    specialised store into the slot (about five times cheaper per field). The
    trusted reader makes an instance of it, stores the fields, then sets
    ``__class__`` to ``cls``: what it returns is an instance of ``cls`` itself, and
    frozen again. None when the interpreter refuses that assignment for ``cls``
    (another layout, a class that is not a heap type): its slots are set by setters.
    """
    try:
        builder = type(
            f"_Build{cls.__name__}",
            (cls,),
            {
                "__slots__": (),
                # both: CPython keeps one slot for setting and deleting attributes, and
                # uses the generic (specialisable) one only when neither is overridden
                "__setattr__": object.__setattr__,
                "__delattr__": object.__delattr__,
                # object's own: `_builder()` is then one C call (object_new, object_init),
                # cheaper than `object.__new__(_builder)` (a wrapper taking an argument tuple)
                "__init__": object.__init__,
                "__module__": __name__,
                "__qualname__": f"_builder.<{cls.__qualname__}>",
            },
        )
        probe: Any = object.__new__(builder)
        probe.__class__ = cls
    except TypeError:
        return None
    return builder if type(probe) is cls else None


def _generate_trusted(cls: type, *, shapes: bool = True) -> Callable[[Any], Any]:
    if not _settable(cls):
        return _readers(cls)  # the checked reader: construction does more than checks
    nodes = field_types(cls, strict=False)
    builder = _builder(cls)
    env: dict[str, Any] = {
        "_cls": cls,
        "_builder": builder if builder is not None else cls,
        "_new": object.__new__,
        "_Fallback": _Fallback,
        "_fromiso": dt.datetime.fromisoformat,
        "_fromdate": dt.date.fromisoformat,
        "_Decimal": Decimal,
        "_read_child": _read_child,
    }
    src = _Source(env)
    fields = attrs.fields(cls)
    always = [f for f in fields if _default_rule(f)[0] == "always"]  # no plain default
    # n counts the keys not yet read: a key left at the end is not a field (unknown)
    lines = [
        "def read(d):",
        "    if type(d) is not dict:",
        "        raise _Fallback",
        f"    n = len(d) - {len(always)}",
        "    o = _new(_builder)",
    ]

    def store(field: attrs.Attribute[Any], value: str) -> str:
        if builder is not None:
            return f"o.{field.name} = {value}"  # a plain store into the builder's slot
        return f"{src.name('_set', _slot_setter(cls, field.name))}(o, {value})"

    defaults: dict[str, str] = {}
    for field in fields:
        key = field.alias or field.name
        value = _trusted_expr(nodes[field.name], "v", src)
        if field not in always:
            defaults[field.name] = src.name("_d", field.default)
        # subscripts and `in` are specialised bytecodes, several times cheaper than d.get
        if field in always:
            # always written; absent only from a document of another shape (KeyError)
            lines.append(f"    v = d[{key!r}]")
            lines.append(f"    {store(field, value)}")
        else:
            lines.append(f"    if {key!r} in d:")
            lines.append(f"        v = d[{key!r}]")
            lines.append(f"        {store(field, value)}")
            lines.append("        n -= 1")
            lines.append("    else:")
            lines.append(f"        {store(field, defaults[field.name])}")
    lines.append("    if n:")
    lines.append("        raise _Fallback")
    if builder is not None:
        lines.append("    o.__class__ = _cls")
    lines.append("    return o")
    func: Callable[[Any], Any] = generate(
        "\n".join(lines), "read", env, what=f"trusted reader of {cls.__qualname__}"
    )
    if not shapes:
        return func
    return shape_reader(
        cls,
        func,
        builder=builder,
        env=env,
        value=lambda name, var: _trusted_expr(nodes[name], var, src),
        defaults=defaults,
        store=store,
    )


_trusted = _Generated(_generate_trusted)
_per_field = _Generated(functools.partial(_generate_trusted, shapes=False))
"""The trusted readers without shapes (the reference of :mod:`._shapes`' readers)."""

TRUSTED_ERRORS: tuple[type[Exception], ...] = (
    _Fallback,
    AttributeError,  # a nested shape reader given a list or a text (no values())
    ValidationError,
    KeyError,
    TypeError,
    ValueError,
    ArithmeticError,
)
"""What a trusted reader raises on a document it should not have been given (read it checked)."""


def trusted_reader(cls: type[T]) -> Callable[[Any], T]:
    """Return the generated trusted reader of ``cls`` (JSON data in, record out, no checks).

    It raises one of :data:`TRUSTED_ERRORS` on data :func:`encode` did not write.
    """
    return typing.cast(Callable[[Any], T], _trusted(cls))


on_switch(_RULES.clear)
