"""Field paths of a customer, for specs that name fields as data.

A spec names customer fields by path: attribute names joined by dots
(``"person.birthday"``, ``"addresses.postal_code"``), checked by the one path resolver
queries use (:func:`crmcore.query.paths.resolve_path`), plus ``"facts:<category>"``
(profile facts of a :class:`~crmcore.models.FactCategory`) and ``"related:<name>"``
(a count of records held outside the customer, passed in by the caller).
:func:`spec_path` and :func:`spec_paths` are the value checks spec fields declare, so a
misspelt path (``"person.brithday"``) is refused with ``spec.unknown_field`` when the
spec is built or decoded; :func:`resolve` reads the values a path names.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping

from crmcore.errors import Problem, ValidationError
from crmcore.models import ContactPoint, Customer, FactCategory, ProfileFact, Provenance
from crmcore.query.paths import PathStep, resolve_path

__all__ = ["as_text", "is_present", "provenances", "resolve", "spec_path", "spec_paths"]

_FACTS = "facts:"
_RELATED = "related:"
_CATEGORIES = frozenset(c.value for c in FactCategory)


def _path_problem(path: str) -> str | None:
    """Why ``path`` names nothing on a customer, or ``None`` when it is a field path."""
    if path.startswith(_FACTS):
        category = path.removeprefix(_FACTS)
        if category not in _CATEGORIES:
            known = ", ".join(sorted(_CATEGORIES))
            return f"{path!r}: no fact category {category!r} (categories: {known})"
        return None
    if path.startswith(_RELATED):
        if not path.removeprefix(_RELATED).strip():
            return f"{path!r}: name the related records (related:purchases)"
        return None
    try:
        resolve_path(Customer, path)
    except ValidationError as error:
        return error.problems[0].message
    return None


def spec_path(value: object) -> Problem | None:
    """Refuse a field path that names nothing on a customer (``spec.unknown_field``).

    A value check for spec fields holding one path; blank paths are left to
    :func:`~crmcore.models.non_blank`.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    message = _path_problem(value)
    if message is None:
        return None
    return Problem(code="spec.unknown_field", message=message)


def spec_paths(value: object) -> Problem | None:
    """Refuse the first path of a tuple that names nothing on a customer (``spec.unknown_field``).

    A value check for spec fields holding several paths; the problem is at the item.
    """
    if not isinstance(value, tuple):
        return None
    for index, path in enumerate(value):
        message = _path_problem(path) if isinstance(path, str) else None
        if message is not None:
            return Problem(code="spec.unknown_field", path=f"$[{index}]", message=message)
    return None


def _steps(path: str) -> tuple[PathStep, ...]:
    try:
        return resolve_path(Customer, path).steps
    except ValidationError as error:
        raise ValidationError(
            [Problem(code="spec.unknown_field", path="$.path", message=error.problems[0].message)],
            subject="Spec",
        ) from None


def resolve(
    customer: Customer, path: str, related: Mapping[str, int] | None = None
) -> list[tuple[str, object]]:
    """Return the values at ``path`` with their ``$.paths``, leaving out absent (``None``) ones.

    Paths are attribute names joined by dots (``"person.birthday"``,
    ``"addresses.postal_code"``); a tuple in the middle fans out over its items.
    ``"facts:<category>"`` is the customer's profile facts of that category, and
    ``"related:<name>"`` a count the caller passes in ``related`` (purchases,
    interactions: records held outside the customer). A dotted path that names no
    field raises :class:`~crmcore.errors.ValidationError` (``spec.unknown_field``).
    """
    if path.startswith(_FACTS):
        category = path.removeprefix(_FACTS)
        return [
            (f"$.facts[{i}]", fact)
            for i, fact in enumerate(customer.facts)
            if fact.category.value == category
        ]
    if path.startswith(_RELATED):
        count = (related or {}).get(path.removeprefix(_RELATED), 0)
        return [(f"$.related.{path.removeprefix(_RELATED)}", count)] if count else []
    found: list[tuple[str, object]] = [("$", customer)]
    steps = _steps(path)
    last = len(steps) - 1
    for depth, step in enumerate(steps):
        fanned: list[tuple[str, object]] = []
        for where, value in found:
            child = getattr(value, step.name)
            if child is None:
                continue
            here = f"{where}.{step.name}"
            if step.many and depth < last:
                fanned.extend((f"{here}[{i}]", item) for i, item in enumerate(child))
            else:
                fanned.append((here, child))
        found = fanned
    return found


def is_present(value: object) -> bool:
    """Return False for ``None``, blank strings, empty tuples, zero counts and ``unknown`` enums."""
    if value is None:
        return False
    if isinstance(value, enum.Enum):
        return bool(value.value != "unknown")
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, tuple):
        return bool(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value != 0
    return True


def as_text(value: object) -> str:
    """Return an enum's value, else ``str(value)``."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def provenances(customer: Customer) -> Iterator[tuple[str, Provenance]]:
    """Every provenance record on a customer, with its ``$.path``."""
    if customer.provenance is not None:
        yield "$.provenance", customer.provenance
    lists: tuple[tuple[str, tuple[ContactPoint | ProfileFact, ...]], ...] = (
        ("phones", customer.phones),
        ("emails", customer.emails),
        ("addresses", customer.addresses),
        ("social_handles", customer.social_handles),
        ("facts", customer.facts),
    )
    for field, items in lists:
        for i, item in enumerate(items):
            if item.provenance is not None:
                yield f"$.{field}[{i}].provenance", item.provenance
    if customer.organisation is not None:
        org = customer.organisation
        if org.credit_provenance is not None:
            yield "$.organisation.credit_provenance", org.credit_provenance
        for i, person in enumerate(org.contact_persons):
            if person.provenance is not None:
                yield f"$.organisation.contact_persons[{i}].provenance", person.provenance
