"""The check vocabulary: value checks that models, rules, queries and serialisation share.

A field's value checks are declared in its attrs metadata with :func:`checks`::

    display_name: str = attrs.field(metadata=checks(non_blank, max_length(200)))

Each check takes the field's value (already of the right type) and returns a
:class:`crmcore.errors.Problem` with a path relative to the value (``$``), or
``None``. :class:`crmcore.models.Model` runs them on construction after the field's
type check; :func:`field_problems` runs both for one value.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from crmcore._fastpaths import on_switch
from crmcore.errors import Problem
from crmcore.models._types import INT_MAX, INT_MIN, FieldType, field_types, type_test

__all__ = [
    "CHECKS_KEY",
    "INT_MAX",
    "INT_MIN",
    "Check",
    "FieldSpec",
    "checks",
    "field_problems",
    "field_specs",
    "in_range",
    "max_length",
    "non_blank",
    "non_negative",
    "positive",
    "unique",
]

CHECKS_KEY = "crmcore.checks"
"""The attrs metadata key under which :func:`checks` stores a field's value checks."""

Check = Callable[[Any], Problem | None]
"""A value check: returns a :class:`Problem` (path relative to the value, ``$``) or ``None``."""


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


# --------------------------------------------------------------------------- per field


@attrs.frozen
class FieldSpec:
    """Everything checked about one field of a model (built once per class).

    ``accepts`` and ``type_check`` are the field node's :class:`TypeTest`: the fast
    predicate and the check, true and empty for exactly the same values.
    """

    name: str
    path: str
    node: FieldType
    accepts: Callable[[Any], bool]
    type_check: Callable[[Any, str], list[Problem]]
    value_checks: tuple[Check, ...]

    def problems(self, value: Any) -> list[Problem]:
        """The type problems of ``value``, or else its value checks' problems."""
        if not self.accepts(value):
            return self.type_check(value, self.path)
        return self.value_problems(value)

    def value_problems(self, value: Any) -> list[Problem]:
        """The value checks' problems of ``value`` (a value of the field's type)."""
        found: list[Problem] = []
        for check in self.value_checks:
            problem = check(value)
            if problem is not None:
                found.append(problem.under(self.path))
        return found


_SPECS: dict[type, tuple[FieldSpec, ...]] = {}


def field_specs(cls: type) -> tuple[FieldSpec, ...]:
    """The :class:`FieldSpec` of every field of attrs class ``cls``, in field order."""
    specs = _SPECS.get(cls)
    if specs is None:
        nodes = field_types(cls)
        tests = {name: type_test(node) for name, node in nodes.items()}
        specs = tuple(
            FieldSpec(
                name=f.name,
                path=f"$.{f.name}",
                node=nodes[f.name],
                accepts=tests[f.name].accepts,
                type_check=tests[f.name].check,
                value_checks=tuple(f.metadata.get(CHECKS_KEY, ())),
            )
            for f in attrs.fields(cls)
        )
        _SPECS[cls] = specs
    return specs


def field_problems(cls: type, name: str, value: Any) -> list[Problem]:
    """Return the type and value problems of one field value of model ``cls``."""
    for spec in field_specs(cls):
        if spec.name == name:
            return spec.problems(value)
    return [Problem(code="field.unknown", path=f"$.{name}", message="is not a field")]


on_switch(_SPECS.clear)
