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

__all__ = ["AT", "person"]

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
