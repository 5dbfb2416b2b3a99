"""The JSON document each stored record is kept as.

A record is stored as crmcore's own JSON form (:mod:`crmcore.serialization`) with the
fields that hold their default value left out, so documents stay small. Any such
document is read back with :func:`crmcore.serialization.from_dict`, which fills the
defaults in and checks every value, so the round trip is exact and a corrupted row
is reported, never silently accepted.

Writing is on the bulk-import hot path, so the unstructuring functions are generated
once per model class from its annotations (straight attribute reads, no per-value
dispatch); they produce exactly what crmcore's converter produces, minus defaults.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, Generic, TypeVar

import attrs

from crmcore.serialization import from_dict
from crmcore.storage.sqlalchemy._last import remember_last

__all__ = ["decode", "encode", "structure", "unstructure"]

T = TypeVar("T")

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
W = TypeVar("W")


def _expr(tp: Any, var: str, env: dict[str, Any]) -> str:
    """Python expression turning ``var`` (a value of type ``tp``, never None) into JSON data."""
    if tp in (str, int, bool):
        return var
    if tp is dt.datetime:
        return f"_iso({var})"
    if tp is dt.date:
        return f"{var}.isoformat()"
    if tp is Decimal:
        return f"str({var})"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        # _value_ is the member's value as a plain attribute; .value is a slower descriptor
        return f"{var}._value_"
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return _expr(members[0], var, env)
        return f"_any({var})"
    if origin is tuple:
        item = typing.get_args(tp)[0]
        inner = _expr(item, "_x", env)
        if inner == "_x":
            return f"list({var})"
        return f"[{inner} for _x in {var}]"
    if isinstance(tp, type) and attrs.has(tp):
        name = f"_u_{tp.__name__}"
        env[name] = _function.reference(tp)
        return f"{name}({var})"
    return f"_any({var})"


_isoformat: Callable[[dt.datetime], str] = remember_last(dt.datetime.isoformat)
"""``value.isoformat()``, formatted once for consecutive calls with one datetime object."""


class _Writers(Generic[W]):
    """The generated writers of one form (documents as dicts, or as JSON text), per class.

    A class being generated refers to itself (a nested field of its own type) through
    a lazy call, resolved once its writer exists.
    """

    def __init__(self, generate: Callable[[type], Callable[[Any], W]]) -> None:
        self._generate = generate
        self._made: dict[type, Callable[[Any], W]] = {}
        self._building: set[type] = set()

    def __call__(self, cls: type) -> Callable[[Any], W]:
        func = self._made.get(cls)
        if func is not None:
            return func
        self._building.add(cls)
        try:
            func = self._generate(cls)
        finally:
            self._building.discard(cls)
        self._made[cls] = func
        return func

    def reference(self, cls: type) -> Callable[[Any], W]:
        """The writer of ``cls``, or a call that finds it later if it is being generated."""
        if cls not in self._building:
            return self(cls)

        def call(obj: Any) -> W:
            return self(cls)(obj)

        return call


def _omitted_when(field: attrs.Attribute[Any], index: int, env: dict[str, Any]) -> str | None:
    """The condition (on ``v``) under which a field is written, or None: always written.

    A field holding its default value is left out of the document.
    """
    default = field.default
    if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return None
    if default is None:
        return "v is not None"
    if default == ():
        return "v"
    if isinstance(default, bool | enum.Enum):
        env[f"_d{index}"] = default
        return f"v is not _d{index}"
    if isinstance(default, Decimal):
        # Decimal("1.0") == Decimal(1), but its scale is data: leave out only the exact form
        return f"v is None or str(v) != {str(default)!r}"
    env[f"_d{index}"] = default
    return f"v != _d{index}"


def _generate(cls: type) -> Callable[[Any], dict[str, Any]]:
    hints = typing.get_type_hints(cls)
    env: dict[str, Any] = {"_any": unstructure, "_iso": _isoformat}
    lines = ["def unstructure(o):", "    d = {}"]
    for index, field in enumerate(attrs.fields(cls)):
        tp = hints[field.name]
        value = _expr(tp, "v", env)
        if value != "v" and _optional(tp):
            value = f"(None if v is None else {value})"
        lines.append(f"    v = o.{field.name}")
        condition = _omitted_when(field, index, env)
        if condition is None:
            lines.append(f"    d[{field.name!r}] = {value}")
        else:
            lines.append(f"    if {condition}:")
            lines.append(f"        d[{field.name!r}] = {value}")
    lines.append("    return d")
    exec("\n".join(lines), env)
    return typing.cast(Callable[[Any], dict[str, Any]], env["unstructure"])


# --------------------------------------------------------------------------- JSON text
#
# The documents are written straight to JSON text by a generated function per class:
# exactly the text json.JSONEncoder(ensure_ascii=False, separators=(",", ":")) makes
# of the unstructured dict above (a property test compares them), without building
# the dict first. Strings go through the json module's own C string encoder.


def _json_expr(tp: Any, var: str, env: dict[str, Any]) -> str:
    """Python expression giving the JSON text of ``var`` (a value of type ``tp``, not None)."""
    if tp is str:
        return f"_s({var})"
    if tp is int:
        return f"_int({var})"
    if tp is bool:
        return f"('true' if {var} else 'false')"
    if tp is dt.datetime:
        return f"'\"' + _iso({var}) + '\"'"  # isoformat text needs no escaping
    if tp is dt.date:
        return f"'\"' + {var}.isoformat() + '\"'"
    if tp is Decimal:
        return f"'\"' + str({var}) + '\"'"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return f"_s({var}._value_)"
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return _json_expr(members[0], var, env)
        return f"_dump(_any({var}))"
    if origin is tuple:
        inner = _json_expr(typing.get_args(tp)[0], "_x", env)
        return f"('[' + ','.join([{inner} for _x in {var}]) + ']')"
    if isinstance(tp, type) and attrs.has(tp):
        name = f"_j_{tp.__name__}"
        env[name] = _json_function.reference(tp)
        return f"{name}({var})"
    return f"_dump(_any({var}))"


def _generate_json(cls: type) -> Callable[[Any], str]:
    hints = typing.get_type_hints(cls)
    env: dict[str, Any] = {
        "_any": unstructure,
        "_dump": _ENCODER.encode,
        "_iso": _isoformat,
        "_s": encode_basestring,
        "_int": int.__repr__,
    }
    lines = ["def to_json(o):", "    p = []"]
    for index, field in enumerate(attrs.fields(cls)):
        tp = hints[field.name]
        value = _json_expr(tp, "v", env)
        if _optional(tp):
            value = f"('null' if v is None else {value})"
        key = encode_basestring(field.name) + ":"
        lines.append(f"    v = o.{field.name}")
        condition = _omitted_when(field, index, env)
        if condition is None:
            lines.append(f"    p.append({key!r} + {value})")
        else:
            lines.append(f"    if {condition}:")
            lines.append(f"        p.append({key!r} + {value})")
    lines.append("    return '{' + ','.join(p) + '}'")
    exec("\n".join(lines), env)
    return typing.cast(Callable[[Any], str], env["to_json"])


_function: _Writers[dict[str, Any]] = _Writers(_generate)
_json_function: _Writers[str] = _Writers(_generate_json)


def _optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (types.UnionType, typing.Union) and type(None) in (
        typing.get_args(tp)
    )


def unstructure(obj: Any) -> Any:
    """Return the JSON data of a model (defaults left out) or of a plain value."""
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
    return _function(type(obj))(obj)


def encode(record: Any) -> str:
    """Return the stored JSON text of a record."""
    return _json_function(type(record))(record)


# --------------------------------------------------------------------------- reading
#
# Reading is on the streaming hot path too. A generated structuring function per class
# turns each JSON value into its field type (enums, dates, decimals, nested models)
# and calls the class, whose own construction checks every type, value and invariant.
# Anything unexpected (an unknown key, a float where a decimal string belongs, a
# check failing) falls back to crmcore.serialization.from_dict, which either builds
# the same object or raises its ValidationError with every problem and full $.paths.


class _Fallback(Exception):
    """The fast path met something it does not handle; use from_dict."""


def _fail() -> Any:
    raise _Fallback


def _decimal(value: Any) -> Decimal:
    if type(value) is not str:
        raise _Fallback
    return Decimal(value)


def _datetime(value: Any) -> dt.datetime:
    if type(value) is not str:
        raise _Fallback
    return dt.datetime.fromisoformat(value)


def _date(value: Any) -> dt.date:
    if type(value) is not str:
        raise _Fallback
    return dt.date.fromisoformat(value)


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise _Fallback
    return value


_READERS: dict[type, Callable[[Any], Any]] = {}
_READING: set[type] = set()


def _read_expr(tp: Any, var: str, env: dict[str, Any]) -> str:
    """Python expression turning JSON data ``var`` (never None) into a value of ``tp``."""
    if tp in (str, int, bool):
        return var  # the model's own type check rejects anything else
    if tp is dt.datetime:
        return f"_datetime({var})"
    if tp is dt.date:
        return f"_date({var})"
    if tp is Decimal:
        return f"_decimal({var})"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        name = f"_e_{tp.__name__}"
        env[name] = tp
        return f"{name}({var})"
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            inner = _read_expr(members[0], var, env)
            return f"(None if {var} is None else {inner})"
        return "_fail()"
    if origin is tuple:
        item = typing.get_args(tp)[0]
        inner = _read_expr(item, "_x", env)
        return f"tuple([{inner} for _x in _list({var})])"
    if isinstance(tp, type) and attrs.has(tp):
        name = f"_r_{tp.__name__}"
        env[name] = _lazy_reader(tp) if tp in _READING else _reader(tp)
        return f"{name}({var})"
    return "_fail()"


def _lazy_reader(cls: type) -> Callable[[Any], Any]:
    def call(data: Any) -> Any:
        return _reader(cls)(data)

    return call


def _reader(cls: type) -> Callable[[Any], Any]:
    func = _READERS.get(cls)
    if func is not None:
        return func
    _READING.add(cls)
    try:
        hints = typing.get_type_hints(cls)
        env: dict[str, Any] = {
            "_cls": cls,
            "_fail": _fail,
            "_Fallback": _Fallback,
            "_datetime": _datetime,
            "_date": _date,
            "_decimal": _decimal,
            "_list": _list,
            "_names": frozenset(f.alias or f.name for f in attrs.fields(cls) if f.init),
        }
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
            value = _read_expr(hints[field.name], "v", env)
            lines.append(f"    v = d.get({key!r}, d)")
            lines.append("    if v is not d:")
            lines.append(f"        k[{key!r}] = {value}")
        lines.append("    return _cls(**k)")
        exec("\n".join(lines), env)
        func = typing.cast(Callable[[Any], Any], env["read"])
    finally:
        _READING.discard(cls)
    _READERS[cls] = func
    return func


def structure(data: Any, cls: type[T]) -> T:
    """Build ``cls`` from stored JSON data, checking every value (as ``from_dict`` does)."""
    try:
        return typing.cast(T, _reader(cls)(data))
    except Exception:
        return from_dict(data, cls)


def decode(text: str | bytes, cls: type[T]) -> T:
    """Read a stored JSON document back into ``cls``, checking every value."""
    return structure(json.loads(text), cls)
