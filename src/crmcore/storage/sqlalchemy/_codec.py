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
from typing import Any, TypeVar

import attrs

from crmcore.serialization import from_dict

__all__ = ["decode", "encode", "unstructure"]

T = TypeVar("T")

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
_FUNCS: dict[type, Callable[[Any], dict[str, Any]]] = {}
_BUILDING: set[type] = set()


def _expr(tp: Any, var: str, env: dict[str, Any]) -> str:
    """Python expression turning ``var`` (a value of type ``tp``, never None) into JSON data."""
    if tp in (str, int, bool):
        return var
    if tp in (dt.datetime, dt.date):
        return f"{var}.isoformat()"
    if tp is Decimal:
        return f"str({var})"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return f"{var}.value"
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
        env[name] = _lazy(tp) if tp in _BUILDING else _function(tp)
        return f"{name}({var})"
    return f"_any({var})"


def _lazy(cls: type) -> Callable[[Any], dict[str, Any]]:
    def call(obj: Any) -> dict[str, Any]:
        return _function(cls)(obj)

    return call


def _function(cls: type) -> Callable[[Any], dict[str, Any]]:
    func = _FUNCS.get(cls)
    if func is not None:
        return func
    _BUILDING.add(cls)
    try:
        func = _generate(cls)
    finally:
        _BUILDING.discard(cls)
    _FUNCS[cls] = func
    return func


def _generate(cls: type) -> Callable[[Any], dict[str, Any]]:
    hints = typing.get_type_hints(cls)
    env: dict[str, Any] = {"_any": unstructure}
    lines = ["def unstructure(o):", "    d = {}"]
    for index, field in enumerate(attrs.fields(cls)):
        tp = hints[field.name]
        value = _expr(tp, "v", env)
        default = field.default
        lines.append(f"    v = o.{field.name}")
        if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            if value != "v" and _optional(tp):
                lines.append(f"    d[{field.name!r}] = None if v is None else {value}")
            else:
                lines.append(f"    d[{field.name!r}] = {value}")
            continue
        if default is None:
            condition = "v is not None"
        elif default == ():
            condition = "v"
        elif isinstance(default, bool | enum.Enum):
            env[f"_d{index}"] = default
            condition = f"v is not _d{index}"
        else:
            env[f"_d{index}"] = default
            condition = f"v != _d{index}"
            if _optional(tp) and value != "v":
                value = f"(None if v is None else {value})"
        lines.append(f"    if {condition}:")
        lines.append(f"        d[{field.name!r}] = {value}")
    lines.append("    return d")
    exec("\n".join(lines), env)
    return typing.cast(Callable[[Any], dict[str, Any]], env["unstructure"])


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
    return _ENCODER.encode(_function(type(record))(record))


def decode(text: str | bytes, cls: type[T]) -> T:
    """Read a stored JSON document back into ``cls``, checking every value."""
    return from_dict(json.loads(text), cls)
