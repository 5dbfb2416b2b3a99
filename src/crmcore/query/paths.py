"""Field paths checked against a model: the one path resolver of crmcore.

A path names fields of a record's serialised shape with dots (``"display_name"``,
``"person.name.family"``, ``"phones.number"``, ``"organisation.contact_persons.role"``).
:func:`resolve_path` checks it against the model's field annotations and returns a
:class:`ResolvedPath`: every field along it (:class:`PathStep`: does it hold a tuple,
may it be ``None``, the type of its value) and the type at its end. A name that is
not a field is a :class:`~crmcore.errors.ValidationError` with code
``query.unknown_field``. Queries resolve their filter and ordering paths here, and the
verification rules their specs' field paths
(:mod:`crmcore.rules.verification._paths`), so both refuse the same misspellings.

The resolver reads model annotations only, through the field-type grammar
(:func:`crmcore.models._types.field_types`, no storage, no serialisation), so the
domain's rules can use it as well as queries.
"""

from __future__ import annotations

import functools
from typing import Any

import attrs

from crmcore.models._types import field_types, leaf_of
from crmcore.query._errors import query_problem
from crmcore.query.operands import is_scalar

__all__ = ["PathStep", "ResolvedPath", "resolve_path"]


@attrs.frozen
class PathStep:
    """One field on a path.

    Attributes:
        name: The attribute name.
        many: The field holds a tuple (the path is existential from here).
        optional: The field may be ``None``.
        type: The type of the field's value (the tuple's item type when ``many``).
    """

    name: str
    many: bool
    optional: bool
    type: Any


@attrs.frozen
class ResolvedPath:
    """A dotted path checked against a model.

    Attributes:
        path: The dotted path as written.
        steps: Every field along it.
        leaf: The type at its end (a scalar type, an enum, or a model class).
    """

    path: str
    steps: tuple[PathStep, ...]
    leaf: Any

    @property
    def many(self) -> bool:
        """True when the path crosses a tuple (so it yields any number of values)."""
        return any(step.many for step in self.steps)

    @property
    def scalar(self) -> bool:
        """True when the leaf is a comparable scalar (not a model)."""
        return is_scalar(self.leaf)

    def values(self, record: object) -> list[Any]:
        """Every value the path yields on ``record`` (``None`` for an absent model)."""
        current: list[Any] = [record]
        for step in self.steps:
            found: list[Any] = []
            for obj in current:
                if obj is None:
                    found.append(None)
                    continue
                value = getattr(obj, step.name)
                if step.many:
                    found.extend(value)
                else:
                    found.append(value)
            current = found
        return current


# --------------------------------------------------------------------------- resolution


@functools.cache
def resolve_path(model: type, path: str) -> ResolvedPath:
    """Check a dotted ``path`` against ``model``; raises ``query.unknown_field`` if it is wrong."""
    if not isinstance(path, str) or not path:
        raise query_problem(
            "query.unknown_field", "$.path", "a field path must be a non-empty string"
        )
    steps: list[PathStep] = []
    current: Any = model
    for depth, name in enumerate(path.split(".")):
        if not (isinstance(current, type) and attrs.has(current)):
            raise query_problem(
                "query.unknown_field",
                "$.path",
                f"{path!r}: {'.'.join(path.split('.')[:depth])!r} has no fields",
            )
        fields = field_types(current, strict=False)
        if name not in fields:
            known = ", ".join(sorted(fields))
            raise query_problem(
                "query.unknown_field",
                "$.path",
                f"{path!r}: {current.__name__} has no field {name!r} (fields: {known})",
            )
        node, many, optional = leaf_of(fields[name])
        inner = node.annotation
        steps.append(PathStep(name=name, many=many, optional=optional, type=inner))
        current = inner
    return ResolvedPath(path=path, steps=tuple(steps), leaf=current)
