"""Reading fields of a customer by path, for specs that name fields as data."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping

from crmcore.models import ContactPoint, Customer, ProfileFact, Provenance

__all__ = ["as_text", "is_present", "provenances", "resolve"]


def resolve(
    customer: Customer, path: str, related: Mapping[str, int] | None = None
) -> list[tuple[str, object]]:
    """Return the values at ``path`` with their ``$.paths``, leaving out absent (``None``) ones.

    Paths are attribute names joined by dots (``"person.birthday"``,
    ``"addresses.postal_code"``); a tuple in the middle fans out over its items.
    ``"facts:<category>"`` is the customer's profile facts of that category, and
    ``"related:<name>"`` a count the caller passes in ``related`` (purchases,
    interactions: records held outside the customer).
    """
    if path.startswith("facts:"):
        category = path.removeprefix("facts:")
        return [
            (f"$.facts[{i}]", fact)
            for i, fact in enumerate(customer.facts)
            if fact.category.value == category
        ]
    if path.startswith("related:"):
        count = (related or {}).get(path.removeprefix("related:"), 0)
        return [(f"$.related.{path.removeprefix('related:')}", count)] if count else []
    found: list[tuple[str, object]] = [("$", customer)]
    parts = path.split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        step: list[tuple[str, object]] = []
        for where, value in found:
            child = getattr(value, part, None)
            if child is None:
                continue
            here = f"{where}.{part}"
            if isinstance(child, tuple) and not last:
                step.extend((f"{here}[{i}]", item) for i, item in enumerate(child))
            else:
                step.append((here, child))
        found = step
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
