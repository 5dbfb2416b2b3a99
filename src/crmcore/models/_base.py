"""Construction-time checking shared by every model.

Every model is an ``@attrs.frozen(kw_only=True)`` class deriving from :class:`Model`.
On construction, :meth:`Model.__attrs_post_init__` checks, in one pass:

1. each field's runtime type against its annotation (``str``, ``int``, ``bool``,
   ``Decimal``, aware ``datetime``, ``date``, enums, models, ``X | None``,
   ``tuple[X, ...]``);
2. each field's value checks, declared in the field's metadata with :func:`checks`;
3. the class's cross-field invariants (:meth:`Model._invariants`), only when 1 and 2 passed.

Everything found is raised together as one :class:`crmcore.errors.ValidationError`,
with paths such as ``$.display_name``. This module imports the standard library,
attrs and :mod:`crmcore.errors` only.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, ClassVar, TypeVar, cast

import attrs

from crmcore.errors import Problem, ValidationError

__all__ = [
    "CHECKS_KEY",
    "INT_MAX",
    "INT_MIN",
    "Check",
    "Model",
    "checks",
    "field_problems",
    "in_range",
    "max_length",
    "non_blank",
    "non_negative",
    "positive",
    "replace",
    "replace_each",
    "type_accepts",
    "type_checker",
    "unique",
]

CHECKS_KEY = "crmcore.checks"

Check = Callable[[Any], Problem | None]
"""A value check: returns a :class:`Problem` (path relative to the value, ``$``) or ``None``."""

TypeCheck = Callable[[Any, str], Iterator[Problem]]


def checks(*fns: Check) -> dict[str, tuple[Check, ...]]:
    """Build attrs field metadata that attaches value checks to a field."""
    return {CHECKS_KEY: fns}


def non_blank(value: object) -> Problem | None:
    """Reject an empty or whitespace-only string."""
    if isinstance(value, str) and not value.strip():
        return Problem(code="value.blank", message="must not be empty or blank")
    return None


def max_length(limit: int) -> Check:
    """Reject strings longer than ``limit`` characters."""

    def check(value: object) -> Problem | None:
        if isinstance(value, str) and len(value) > limit:
            return Problem(
                code="value.too_long", message=f"must be at most {limit} characters long"
            )
        return None

    return check


def positive(value: object) -> Problem | None:
    """Reject numbers that are zero or negative."""
    if isinstance(value, int | Decimal) and value <= 0:
        return Problem(code="value.not_positive", message="must be greater than zero")
    return None


def non_negative(value: object) -> Problem | None:
    """Reject negative numbers."""
    if isinstance(value, int | Decimal) and value < 0:
        return Problem(code="value.negative", message="must not be negative")
    return None


def in_range(low: int, high: int) -> Check:
    """Reject numbers outside ``[low, high]``."""

    def check(value: object) -> Problem | None:
        if isinstance(value, int) and not low <= value <= high:
            return Problem(code="value.out_of_range", message=f"must be between {low} and {high}")
        return None

    return check


def unique(key: Callable[[Any], object] = lambda item: item) -> Check:
    """Reject a tuple whose items (by ``key``) repeat."""

    def check(value: object) -> Problem | None:
        if isinstance(value, tuple) and len(value) > 1:
            seen: set[object] = set()
            for index, item in enumerate(value):
                k = key(item)
                if k in seen:
                    return Problem(
                        code="value.duplicate",
                        path=f"$[{index}]",
                        message=f"repeats an earlier item ({k!r})",
                    )
                seen.add(k)
        return None

    return check


# --------------------------------------------------------------------------- types


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _wrong(expected: str, value: object, path: str) -> Problem:
    return Problem(
        code="type.invalid",
        path=path,
        message=f"expected {expected}, got {type(value).__name__}",
    )


def _simple(predicate: Callable[[Any], bool], expected: str) -> TypeCheck:
    def check(value: Any, path: str) -> Iterator[Problem]:
        if not predicate(value):
            yield _wrong(expected, value, path)

    return check


def _check_decimal(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, Decimal):
        yield _wrong("Decimal", value, path)
    elif not value.is_finite():
        yield Problem(code="value.not_finite", path=path, message="must be a finite number")


def _check_datetime(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, dt.datetime):
        yield _wrong("datetime", value, path)
    elif value.tzinfo is None or value.utcoffset() is None:
        yield Problem(
            code="datetime.naive",
            path=path,
            message="must be timezone-aware (attach tzinfo, e.g. datetime.UTC)",
        )
    else:
        try:
            value.astimezone(dt.UTC)
        except OverflowError:
            yield Problem(
                code="datetime.out_of_range",
                path=path,
                message="must be an instant between years 1 and 9999 in UTC",
            )


# NUL and lone surrogates: no database stores them, and UTF-8 cannot encode surrogates.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _check_str(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield _wrong("str", value, path)
    elif _BAD_TEXT.search(value) is not None:
        yield Problem(
            code="text.invalid_character",
            path=path,
            message="must not contain NUL characters or unpaired surrogates",
        )


INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""The range of every integer field: what every supported database stores as an INTEGER."""


def _check_int(value: Any, path: str) -> Iterator[Problem]:
    if isinstance(value, bool) or not isinstance(value, int):
        yield _wrong("int", value, path)
    elif not INT_MIN <= value <= INT_MAX:
        yield Problem(
            code="value.out_of_range",
            path=path,
            message=f"must be between {INT_MIN} and {INT_MAX}",
        )


def _check_date(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        yield _wrong("date", value, path)


_ATOMS: dict[Any, TypeCheck] = {
    str: _check_str,
    int: _check_int,
    bool: _simple(lambda v: isinstance(v, bool), "bool"),
    Decimal: _check_decimal,
    dt.datetime: _check_datetime,
    dt.date: _check_date,
}


def type_checker(tp: Any) -> TypeCheck:
    """Return a function that yields problems when a value does not match type ``tp``."""
    if tp in _ATOMS:
        return _ATOMS[tp]
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(members) < len(typing.get_args(tp))
        inner = [type_checker(m) for m in members]
        expected = " | ".join(_type_name(m) for m in members)

        def check_union(value: Any, path: str) -> Iterator[Problem]:
            if value is None:
                if not optional:
                    yield _wrong(expected, value, path)
                return
            found: list[Problem] = []
            for member in inner:
                found = list(member(value, path))
                if not found:
                    return
            if len(inner) == 1:
                yield from found
            else:
                yield _wrong(expected, value, path)

        return check_union
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            item = type_checker(args[0])

            def check_tuple(value: Any, path: str) -> Iterator[Problem]:
                if not isinstance(value, tuple):
                    yield _wrong("tuple", value, path)
                    return
                for index, element in enumerate(value):
                    yield from item(element, f"{path}[{index}]")

            return check_tuple
    if isinstance(tp, type) and (issubclass(tp, enum.Enum) or attrs.has(tp)):
        return _simple(lambda v: isinstance(v, tp), tp.__name__)
    if tp is Any or tp is object:
        return lambda value, path: iter(())
    raise TypeError(f"crmcore models cannot check fields of type {tp!r}")


def _accepts_datetime(value: Any) -> bool:
    if not (
        isinstance(value, dt.datetime)
        and value.tzinfo is not None
        and value.utcoffset() is not None
    ):
        return False
    if 1 < value.year < 9999:  # only the first and last year can fall outside UTC's range
        return True
    return not any(_check_datetime(value, "$"))


# Each predicate must accept exactly what the matching check in _ATOMS passes.
_ATOM_ACCEPTS: dict[Any, Callable[[Any], bool]] = {
    # ASCII text cannot hold a surrogate; "in" and isascii() are much cheaper than a search
    str: lambda v: (
        isinstance(v, str) and ("\x00" not in v if v.isascii() else _BAD_TEXT.search(v) is None)
    ),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool) and INT_MIN <= v <= INT_MAX,
    bool: lambda v: isinstance(v, bool),
    Decimal: lambda v: isinstance(v, Decimal) and v.is_finite(),
    dt.datetime: _accepts_datetime,
    dt.date: lambda v: isinstance(v, dt.date) and not isinstance(v, dt.datetime),
}


def type_accepts(tp: Any) -> Callable[[Any], bool]:
    """Return a predicate that is true exactly when :func:`type_checker` finds no problem.

    The checks run on every model construction; the predicate answers the common
    case (a well-typed value) without building paths or problems.
    """
    if tp in _ATOM_ACCEPTS:
        return _ATOM_ACCEPTS[tp]
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(members) < len(typing.get_args(tp))
        inner = [type_accepts(m) for m in members]
        if len(inner) == 1:
            only = inner[0]
            if optional:
                return lambda v: v is None or only(v)
            return only
        return lambda v: optional if v is None else any(member(v) for member in inner)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            item = type_accepts(args[0])
            return lambda v: isinstance(v, tuple) and all(map(item, v))
    if isinstance(tp, type) and (issubclass(tp, enum.Enum) or attrs.has(tp)):
        return lambda v: isinstance(v, tp)
    if tp is Any or tp is object:
        return lambda v: True
    raise TypeError(f"crmcore models cannot check fields of type {tp!r}")


# --------------------------------------------------------------------------- models


@attrs.frozen
class _FieldSpec:
    name: str
    path: str
    type_check: TypeCheck
    accepts: Callable[[Any], bool]
    value_checks: tuple[Check, ...]


_SPECS: dict[type, tuple[_FieldSpec, ...]] = {}


def _specs(cls: type) -> tuple[_FieldSpec, ...]:
    specs = _SPECS.get(cls)
    if specs is None:
        hints = typing.get_type_hints(cls)
        specs = tuple(
            _FieldSpec(
                name=f.name,
                path=f"$.{f.name}",
                type_check=type_checker(hints[f.name]),
                accepts=type_accepts(hints[f.name]),
                value_checks=tuple(f.metadata.get(CHECKS_KEY, ())),
            )
            for f in attrs.fields(cls)
        )
        _SPECS[cls] = specs
    return specs


def field_problems(cls: type, name: str, value: Any) -> list[Problem]:
    """Return the type and value problems of one field value of model ``cls``."""
    for spec in _specs(cls):
        if spec.name == name:
            return _check_field(spec, value)
    return [Problem(code="field.unknown", path=f"$.{name}", message="is not a field")]


def _check_field(spec: _FieldSpec, value: Any) -> list[Problem]:
    if not spec.accepts(value):
        return list(spec.type_check(value, spec.path))
    found: list[Problem] = []
    for check in spec.value_checks:
        problem = check(value)
        if problem is not None:
            found.append(problem.under(spec.path))
    return found


class Model:
    """Base of every crmcore model: checks types, values and invariants on construction.

    Subclasses are ``@attrs.frozen(kw_only=True)`` classes; change them with
    :func:`replace` (checks the changed fields and the invariants) or
    :func:`attrs.evolve` (checks everything again).
    """

    __slots__ = ()

    kind_name: ClassVar[str] = "record"

    def __attrs_post_init__(self) -> None:
        found: list[Problem] = []
        for spec in _specs(type(self)):
            value = getattr(self, spec.name)
            if spec.accepts(value) and not spec.value_checks:
                continue
            found.extend(_check_field(spec, value))
        if not found:
            found.extend(self._invariants())
        if found:
            raise ValidationError(found, subject=type(self).__name__)

    def _invariants(self) -> Iterable[Problem]:
        """Yield cross-field problems; called only when every field passed its own checks."""
        return ()


# --------------------------------------------------------------------------- replace

Replacer = Callable[[Any, dict[str, Any]], Any]


@attrs.frozen
class _ReplacePlan:
    """How :func:`replace` changes instances of one class (built once per class)."""

    fields: dict[str, tuple[int, _FieldSpec, Callable[[Any], Any] | None]]
    names: tuple[str, ...]
    has_invariants: bool
    replacers: dict[tuple[str, ...], Replacer]
    copiers: dict[tuple[str, ...], Replacer] = attrs.field(factory=dict)


_PLANS: dict[type, _ReplacePlan | None] = {}
M = TypeVar("M", bound=Model)
_MAX_REPLACERS = 256
_REFUSED = object()
_UNPLANNED: Any = object()


def _plain_converter(field: attrs.Attribute[Any]) -> tuple[bool, Callable[[Any], Any] | None]:
    """``(supported, converter)``: a converter taking only the value is supported."""
    converter = field.converter
    if converter is None:
        return True, None
    if isinstance(converter, attrs.Converter):
        # attrs' stubs do not declare these attributes of Converter
        if getattr(converter, "takes_self", True) or getattr(converter, "takes_field", True):
            return False, None
        plain: Callable[[Any], Any] = getattr(converter, "converter")  # noqa: B009
        return True, plain
    return True, converter


def _plan(cls: type) -> _ReplacePlan | None:
    """The replace plan of ``cls``, or ``None`` when only :func:`attrs.evolve` is exact.

    That is the case for classes whose construction does more than :class:`Model`
    checks (attrs validators, their own post-init or pre-init hooks), fields that
    are not plain keyword arguments, or converters that need the instance.
    """
    known = _PLANS.get(cls, _UNPLANNED)
    if known is not _UNPLANNED:
        return known  # type: ignore[no-any-return]
    plan: _ReplacePlan | None = None
    fields = attrs.fields(cls)
    supported = (
        getattr(cls, "__attrs_post_init__", None) is Model.__attrs_post_init__
        and not hasattr(cls, "__attrs_pre_init__")
        and all(f.init and f.alias == f.name and f.validator is None for f in fields)
    )
    converters = [_plain_converter(f) for f in fields]
    if supported and all(ok for ok, _ in converters):
        specs = _specs(cls)
        plan = _ReplacePlan(
            fields={
                spec.name: (index, spec, converter)
                for index, (spec, (_, converter)) in enumerate(zip(specs, converters, strict=True))
            },
            names=tuple(f.name for f in fields),
            has_invariants=getattr(cls, "_invariants", None) is not Model._invariants,
            replacers={},
        )
    _PLANS[cls] = plan
    return plan


def _slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The slot descriptor's setter for field ``name`` (bypasses the frozen ``__setattr__``)."""
    for klass in cls.__mro__:
        descriptor = vars(klass).get(name)
        if isinstance(descriptor, types.MemberDescriptorType):
            setter: Callable[[Any, Any], None] = descriptor.__set__
            return setter
    return lambda instance, value: object.__setattr__(instance, name, value)


def _make_replacer(
    cls: type, plan: _ReplacePlan, changed: tuple[str, ...], *, checked: bool = True
) -> Replacer:
    """Generate the function replacing the ``changed`` fields of instances of ``cls``.

    It applies the changed fields' converters (writing the converted values back into
    ``changes``), runs their type and value checks, and returns :data:`_REFUSED` at
    the first failure (:func:`replace` then collects every problem the slow way);
    otherwise it copies the instance with one slot-setter call per field, several
    times faster than looping over the fields with ``getattr`` and ``setattr``.
    With ``checked=False`` it only copies: the values must be ones a checked
    replacer has already converted and accepted (see :func:`replace_each`).
    """
    namespace: dict[str, Any] = {"cls": cls, "new_": object.__new__, "REFUSED": _REFUSED}
    lines = ["def replace(src, changes):"]
    tests: list[str] = []
    for position, name in enumerate(changed):
        if name not in plan.fields:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
        _, spec, converter = plan.fields[name]
        if not checked:
            lines.append(f"    v{position} = changes[{name!r}]")
            continue
        if converter is not None:
            namespace[f"convert_{position}"] = converter
            lines.append(f"    v{position} = convert_{position}(changes[{name!r}])")
            lines.append(f"    changes[{name!r}] = v{position}")
        else:
            lines.append(f"    v{position} = changes[{name!r}]")
        namespace[f"accepts_{position}"] = spec.accepts
        tests.append(f"accepts_{position}(v{position})")
        for number, check in enumerate(spec.value_checks):
            namespace[f"check_{position}_{number}"] = check
            tests.append(f"check_{position}_{number}(v{position}) is None")
    if tests:
        lines.append(f"    if not ({' and '.join(tests)}):")
        lines.append("        return REFUSED")
    lines.append("    new = new_(cls)")
    for index, name in enumerate(plan.names):
        if not name.isidentifier():  # pragma: no cover - attrs field names are identifiers
            raise TypeError(f"cannot copy field {name!r}")
        namespace[f"set_{index}"] = _slot_setter(cls, name)
        value = f"v{changed.index(name)}" if name in changed else f"src.{name}"
        lines.append(f"    set_{index}(new, {value})")
    lines.append("    return new")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<crmcore replace for {cls.__qualname__}>", "exec"), namespace)
    replacer: Replacer = namespace["replace"]
    return replacer


def _refusal(cls: type, plan: _ReplacePlan, changes: dict[str, Any]) -> ValidationError:
    """Every problem of the changed values, in field order as the constructor reports them."""
    bad: list[tuple[int, list[Problem]]] = []
    for name, value in changes.items():
        index, spec, _ = plan.fields[name]
        found = _check_field(spec, value)
        if found:
            bad.append((index, found))
    bad.sort(key=lambda item: item[0])
    return ValidationError([p for _, found in bad for p in found], subject=cls.__name__)


def replace(instance: M, /, **changes: Any) -> M:
    """Return a copy of ``instance`` with ``changes``, checked as the constructor would.

    The result equals ``attrs.evolve(instance, **changes)``, and so does the
    :class:`ValidationError` raised for a bad value, but only the changed fields are
    checked (types, value checks, converters such as ``Customer.tags``'s) before the
    class's invariants run on the new instance: the unchanged fields passed when
    ``instance`` was constructed. Classes whose construction does more than
    :class:`Model`'s checks go through :func:`attrs.evolve` itself. With no changes,
    ``instance`` itself is returned.

    >>> from crmcore.models import Customer
    >>> c = Customer.person_named(family="张", given="伟")
    >>> replace(c, tags=("vip", "beijing", "vip")).tags
    ('beijing', 'vip')
    >>> try:
    ...     replace(c, display_name=" ")
    ... except ValidationError as error:
    ...     print(error.codes)
    ('value.blank',)
    """
    if not changes:
        return instance
    cls = type(instance)
    plan = _plan(cls)
    if plan is None:
        evolved: M = attrs.evolve(cast(Any, instance), **changes)
        return evolved
    return _replace_planned(instance, cls, plan, changes)


def _replace_planned(instance: M, cls: type, plan: _ReplacePlan, changes: dict[str, Any]) -> M:
    """:func:`replace` for a class with a plan; converted values are written into ``changes``."""
    key = tuple(changes)
    replacer = plan.replacers.get(key)
    if replacer is None:
        replacer = _make_replacer(cls, plan, key)
        if len(plan.replacers) < _MAX_REPLACERS:
            plan.replacers[key] = replacer
    new: M = replacer(instance, changes)
    if new is _REFUSED:
        raise _refusal(cls, plan, changes)
    if plan.has_invariants:
        _check_invariants(new, cls)
    return new


def _check_invariants(new: Model, cls: type) -> None:
    invariant_problems = list(new._invariants())
    if invariant_problems:
        raise ValidationError(invariant_problems, subject=cls.__name__)


def replace_each(instances: Iterable[M], /, **changes: Any) -> list[M]:
    """Return ``[replace(i, **changes) for i in instances]``, checking the changes once.

    The same values go into every instance, so their types and value checks run
    once, on the first; each copy still runs its class's invariants (which may
    depend on the fields left unchanged). Changes to fields with a converter (which
    might give each call its own value) go through :func:`replace` one by one. The
    results, and the first :class:`ValidationError` raised, are those of
    :func:`replace` one by one.

    >>> import datetime as dt
    >>> from crmcore.models import Customer
    >>> people = [Customer.person_named(family=f) for f in ("张", "李")]
    >>> now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    >>> [c.updated_at.day for c in replace_each(people, created_at=now, updated_at=now)]
    [23, 23]
    """
    items = list(instances)
    if not changes or not items:
        return items
    cls = type(items[0])
    plan = _plan(cls)
    if (
        plan is None
        or any(plan.fields[name][2] is not None for name in changes if name in plan.fields)
        or any(type(item) is not cls for item in items)
    ):
        # a converter may give each call its own value (minting ids, say): one by one
        return [replace(item, **changes) for item in items]
    values = dict(changes)
    out = [_replace_planned(items[0], cls, plan, values)]  # checks; converts into values
    key = tuple(values)
    copier = plan.copiers.get(key)
    if copier is None:
        copier = _make_replacer(cls, plan, key, checked=False)
        if len(plan.copiers) < _MAX_REPLACERS:
            plan.copiers[key] = copier
    invariants = plan.has_invariants
    for item in items[1:]:
        new: M = copier(item, values)
        if invariants:
            _check_invariants(new, cls)
        out.append(new)
    return out
