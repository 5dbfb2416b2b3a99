"""Customers whose birthdays are kept by the Chinese calendar, for the calendar tests."""

from __future__ import annotations

import datetime as dt

from crmcore.models import (
    Calendar,
    ContactPerson,
    Customer,
    FamilyMember,
    OrganisationProfile,
    PersonName,
    PersonProfile,
)

CHINESE = Calendar.CHINESE

MID_AUTUMN_1990 = dt.date(1990, 10, 3)
"""1990 八月十五 (中秋): in 2024 on 17 September, in 2026 on 25 September."""


def lunar_person(
    cid: str, birthday: dt.date, *, family_members: tuple[FamilyMember, ...] = ()
) -> Customer:
    """A person 陈 ``cid`` (id ``cid``) whose birthday is kept by the Chinese calendar."""
    profile = PersonProfile(
        name=PersonName(family="陈", given=cid),
        birthday=birthday,
        birthday_calendar=CHINESE,
        family_members=family_members,
    )
    return Customer.person_named(family="陈", given=cid, id=cid, person=profile)


def lunar_organisation(cid: str, birthday: dt.date) -> Customer:
    """An organisation whose contact person 李娜's birthday is kept by the Chinese calendar."""
    contact = ContactPerson(
        name=PersonName(family="李", given="娜"), birthday=birthday, birthday_calendar=CHINESE
    )
    return Customer.organisation_named(
        "华联公司",
        id=cid,
        organisation=OrganisationProfile(legal_name="华联公司", contact_persons=(contact,)),
    )
