"""``replace`` and ``replace_each``: changing frozen models, checking only what changed.

The fast path is a function generated per class and set of changed fields
(through :mod:`crmcore._codegen`); its reference is :func:`attrs.evolve`, which
checks every field again. With ``CRMCORE_NO_FAST_PATHS=1`` (:mod:`crmcore._fastpaths`)
:func:`replace` is :func:`attrs.evolve` and :func:`replace_each` replaces one by one.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import attrs

from crmcore._codegen import generate
from crmcore._fastpaths import fast_paths_enabled, on_switch
from crmcore.errors import Problem, ValidationError
from crmcore.models._base import Model
from crmcore.models.checks import FieldSpec, field_specs

__all__ = ["replace", "replace_each"]

Replacer = Callable[[Any, dict[str, Any]], Any]


@attrs.frozen
class _ReplacePlan:
    """How :func:`replace` changes instances of one class (built once per class)."""

    fields: dict[str, tuple[int, FieldSpec, Callable[[Any], Any] | None]]
    names: tuple[str, ...]
    has_invariants: bool
    replacers: dict[tuple[str, ...], Replacer]
    copiers: dict[tuple[str, ...], Replacer] = attrs.field(factory=dict)


_PLANS: dict[type, _ReplacePlan | None] = {}
on_switch(_PLANS.clear)
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
    # with the fast paths off, no class has a plan: replace is attrs.evolve
    enabled = fast_paths_enabled()
    supported = enabled and (
        getattr(cls, "__attrs_post_init__", None) is Model.__attrs_post_init__
        and not hasattr(cls, "__attrs_pre_init__")
        and all(f.init and f.alias == f.name and f.validator is None for f in fields)
    )
    converters = [_plain_converter(f) for f in fields]
    if supported and all(ok for ok, _ in converters):
        specs = field_specs(cls)
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
    what = f"{'replace' if checked else 'copy'} {', '.join(changed)} of {cls.__qualname__}"
    replacer: Replacer = generate("\n".join(lines), "replace", namespace, what=what)
    return replacer


def _refusal(cls: type, plan: _ReplacePlan, changes: dict[str, Any]) -> ValidationError:
    """Every problem of the changed values, in field order as the constructor reports them."""
    bad: list[tuple[int, list[Problem]]] = []
    for name, value in changes.items():
        index, spec, _ = plan.fields[name]
        found = spec.problems(value)
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
