"""Merging keeps a date kept by the Chinese calendar beside the same day kept by the Gregorian."""

from __future__ import annotations

import datetime as dt

from crmcore.models import (
    Calendar,
    Customer,
    FamilyMember,
    KeyDate,
    PersonName,
    PersonProfile,
)
from crmcore.rules.dedupe import plan_merge
from crmcore.serialization import to_dict
from crmcore.storage import MemoryBackend, Store

DAY = dt.date(2012, 6, 9)


def _person(customer_id: str, *, calendar: Calendar) -> Customer:
    return Customer.person_named(
        id=customer_id,
        person=PersonProfile(
            name=PersonName(family="李", given="伟"),
            family_members=(
                FamilyMember(
                    relation="mother",
                    name=PersonName(family="王", given="芳"),
                    birthday=dt.date(1960, 3, 1),
                    birthday_calendar=calendar,
                ),
            ),
        ),
        key_dates=(KeyDate(label="wedding anniversary", date=DAY, calendar=calendar),),
    )


def test_a_merge_plan_keeps_one_day_by_both_calendars() -> None:
    """plan_merge unions key dates and family members by calendar too: nothing is lost."""
    plan = plan_merge(
        [_person("a", calendar=Calendar.GREGORIAN), _person("b", calendar=Calendar.CHINESE)]
    )
    assert {k.calendar for k in plan.customer.key_dates} == {Calendar.GREGORIAN, Calendar.CHINESE}
    assert plan.customer.person is not None
    members = plan.customer.person.family_members
    assert {m.birthday_calendar for m in members} == {Calendar.GREGORIAN, Calendar.CHINESE}


def test_a_merge_plan_still_folds_the_same_key_date_by_one_calendar() -> None:
    """Two copies of one key date by one calendar are still one."""
    plan = plan_merge(
        [_person("a", calendar=Calendar.CHINESE), _person("b", calendar=Calendar.CHINESE)]
    )
    assert plan.customer.key_dates == (
        KeyDate(label="wedding anniversary", date=DAY, calendar=Calendar.CHINESE),
    )


def test_a_merging_import_appends_a_key_date_of_another_calendar() -> None:
    """A row's key date on the stored day but by another calendar is added, not written over."""
    store = Store(MemoryBackend(), normaliser=None)
    stored = _person("c1", calendar=Calendar.GREGORIAN)
    with store.unit_of_work() as uow:
        uow.customers.add(stored)
        uow.commit()
    row = to_dict(_person("c1", calendar=Calendar.CHINESE))
    del row["person"]["family_members"]
    store.import_customers([row], mode="merge")
    with store.unit_of_work() as uow:
        merged = uow.customers.get("c1")
    assert [(k.date, k.calendar) for k in merged.key_dates] == [
        (DAY, Calendar.GREGORIAN),
        (DAY, Calendar.CHINESE),
    ]
    # the same key date by the same calendar is still the stored one
    store.import_customers([to_dict(merged)], mode="merge")
    with store.unit_of_work() as uow:
        assert uow.customers.get("c1").key_dates == merged.key_dates
