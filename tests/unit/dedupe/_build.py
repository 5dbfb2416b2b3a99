"""Small builders of customers for the dedupe tests."""

from __future__ import annotations

import datetime as dt

from crmcore.models import (
    Customer,
    Email,
    Gender,
    NameOrder,
    PersonName,
    PersonProfile,
    Phone,
    PostalAddress,
)
from crmcore.rules.dedupe import FieldWeight, PairExplanation, probability

__all__ = ["AT", "person", "scored_pair"]

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def person(
    cid: str,
    family: str,
    given: str,
    *,
    phone: str | None = None,
    email: str | None = None,
    born: dt.date | None = None,
    gender: Gender | None = None,
    street: str | None = None,
    postal: str | None = None,
    order: NameOrder | None = None,
    other: PersonName | None = None,
    **fields: object,
) -> Customer:
    """A person customer with the given name and optional contact points."""
    name = PersonName(family=family, given=given, **({"order": order} if order else {}))
    return Customer.person_named(
        family=family,
        given=given,
        id=cid,
        created_at=fields.pop("created_at", AT),
        updated_at=fields.pop("updated_at", AT),
        person=PersonProfile(name=name, birthday=born, gender=gender, other_name=other),
        phones=(Phone(number=phone, region="CN"),) if phone else (),
        emails=(Email(address=email),) if email else (),
        addresses=(
            (PostalAddress(country="CN", postal_code=postal, street_lines=(street,)),)
            if street
            else ()
        ),
        **fields,
    )


def scored_pair(left: str, right: str, total: float) -> PairExplanation:
    """A pair explanation with one field weighing ``total`` (for clustering tests)."""
    weight = FieldWeight(
        field="name", level=5, label="exact", left="x", right="x", m=0.9, u=0.1, weight=total
    )
    return PairExplanation(
        left=left,
        right=right,
        prior_weight=0.0,
        fields=(weight,),
        total=total,
        probability=probability(total),
    )
