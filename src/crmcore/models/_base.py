"""Construction-time checking shared by every model.

Every model is an ``@attrs.frozen(kw_only=True)`` class deriving from :class:`Model`.
On construction, :meth:`Model.__attrs_post_init__` checks, in one pass:

1. each field's runtime type against its annotation (``str``, ``int``, ``bool``,
   ``Decimal``, aware ``datetime``, ``date``, enums, models, ``X | None``,
   ``tuple[X, ...]``), as parsed by the field-type grammar (:mod:`crmcore.models._types`);
2. each field's value checks, declared in the field's metadata with
   :func:`crmcore.models.checks.checks`;
3. the class's cross-field invariants (:meth:`Model._invariants`), only when 1 and 2 passed.

Everything found is raised together as one :class:`crmcore.errors.ValidationError`,
with paths such as ``$.display_name``. This module imports the standard library,
attrs and :mod:`crmcore.errors` only.

The check vocabulary now lives in the public :mod:`crmcore.models.checks`, and
:func:`replace` in :mod:`crmcore.models._replace`; both are re-exported here for the
modules that still import them from this one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

from crmcore.errors import Problem, ValidationError
from crmcore.models._types import parse, type_test
from crmcore.models.checks import (
    CHECKS_KEY,
    INT_MAX,
    INT_MIN,
    Check,
    checks,
    field_problems,
    field_specs,
    in_range,
    max_length,
    non_blank,
    non_negative,
    positive,
    unique,
)

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

TypeCheck = Callable[[Any, str], Iterator[Problem]]


def type_checker(tp: Any) -> TypeCheck:
    """Return a function that yields problems when a value does not match type ``tp``."""
    check = type_test(parse(tp)).check
    return lambda value, path: iter(check(value, path))


def type_accepts(tp: Any) -> Callable[[Any], bool]:
    """Return a predicate that is true exactly when :func:`type_checker` finds no problem."""
    return type_test(parse(tp)).accepts


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
        for spec in field_specs(type(self)):
            value = getattr(self, spec.name)
            if not spec.accepts(value):
                found.extend(spec.type_check(value, spec.path))
            elif spec.value_checks:
                found.extend(spec.value_problems(value))
        if not found:
            found.extend(self._invariants())
        if found:
            raise ValidationError(found, subject=type(self).__name__)

    def _invariants(self) -> Iterable[Problem]:
        """Yield cross-field problems; called only when every field passed its own checks."""
        return ()


from crmcore.models._replace import replace, replace_each  # noqa: E402 - replace needs Model
