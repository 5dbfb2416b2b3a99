"""Chinese-calendar birthdays and key dates through every store, and what queries do with them."""

from __future__ import annotations

import datetime as dt
import functools
import json
import operator
from collections.abc import Callable, Iterator

import attrs
import pytest
from tests._lunar import CHINESE, MID_AUTUMN_1990, lunar_organisation, lunar_person
from tests.integration._stores import BACKENDS, open_store

from crmcore.models import Calendar, Customer, FamilyMember, KeyDate, PersonName, PersonProfile
from crmcore.query import Field, Query
from crmcore.rules import calendars
from crmcore.rules.calendars import chinese_candidate_window
from crmcore.rules.signals import upcoming_dates
from crmcore.storage import Store
from crmcore.storage.sqlalchemy._codec import decode


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, sql_database: Callable[[str], str]) -> Iterator[Store]:
    yield from open_store(request, sql_database, normaliser=None)


def lunar_customers() -> list[Customer]:
    """A person, a family member, a key date and a contact person kept by the Chinese calendar."""
    person = lunar_person(
        "月",
        MID_AUTUMN_1990,
        family_members=(
            FamilyMember(relation="女儿", birthday=dt.date(2018, 6, 12), birthday_calendar=CHINESE),
            FamilyMember(relation="儿子", birthday=dt.date(2016, 9, 25)),
        ),
    )
    person = attrs.evolve(
        person,
        key_dates=(
            KeyDate(label="婚礼", date=dt.date(2020, 5, 23), calendar=CHINESE),  # 闰四月初一
            KeyDate(label="入职", date=dt.date(2015, 9, 1)),
        ),
    )
    gregorian = Customer.person_named(
        family="王",
        given="芳",
        id="g1",
        person=PersonProfile(name=PersonName(family="王", given="芳"), birthday=MID_AUTUMN_1990),
    )
    return [person, lunar_organisation("o1", MID_AUTUMN_1990), gregorian]


def test_calendars_round_trip_through_the_store(store: Store) -> None:
    """Added and imported customers read back with every calendar as written."""
    person, org, gregorian = lunar_customers()
    with store.unit_of_work() as uow:
        uow.customers.add(person)
        uow.commit()
    report = store.import_customers([org, gregorian])
    assert [o.id for o in report.outcomes] == ["o1", "g1"]
    with store.unit_of_work() as uow:
        read = {c.id: c for c in uow.customers.stream()}
    assert read["月"].person == person.person
    assert read["月"].key_dates == person.key_dates
    assert read["o1"].organisation == org.organisation
    assert read["g1"].person is not None
    assert read["g1"].person.birthday_calendar is Calendar.GREGORIAN


def test_the_month_day_window_compares_the_gregorian_date(store: Store) -> None:
    """A Chinese-calendar birthday is found on its Gregorian month-day, not its lunar one."""
    store.import_customers(lunar_customers())
    birthday = Field("person.birthday")

    def found(start: str, end: str) -> list[str]:
        query = Query(where=birthday.month_day_between(start, end), order_by=("id",))
        with store.unit_of_work() as uow:
            return [c.id for c in uow.customers.find(query)]

    assert found("10-01", "10-05") == ["g1", "月"]  # 3 October, either calendar
    assert found("09-20", "09-30") == []  # 中秋 2026 (25 September): not a query's answer


@pytest.mark.skipif(not calendars._has_library(), reason="the lunar extra (borax) is absent")
def test_upcoming_dates_over_a_stored_stream(store: Store) -> None:
    """Customers streamed from the store give their lunar anniversaries as signals, and the
    candidate window's query finds the same ones without reading every customer."""
    store.import_customers([*lunar_customers(), lunar_person("春", dt.date(1990, 4, 1))])
    now = dt.datetime(2026, 9, 20, 4, tzinfo=dt.UTC)
    with store.unit_of_work() as uow:
        signals = upcoming_dates(uow.customers.stream(), now=now, tz="Asia/Shanghai", days=14)
    assert [(s.customer_id, s.what, s.by.date()) for s in signals] == [
        ("o1", "李娜's birthday", dt.date(2026, 9, 25)),
        ("月", "birthday", dt.date(2026, 9, 25)),
        ("月", "儿子's birthday", dt.date(2026, 9, 25)),
        ("g1", "birthday", dt.date(2026, 10, 3)),  # the same day of birth, Gregorian
    ]
    window = chinese_candidate_window(14, dt.date(2026, 9, 20))
    paths = (
        "person.birthday",
        "person.family_members.birthday",
        "organisation.contact_persons.birthday",
        "key_dates.date",
    )
    where = functools.reduce(operator.or_, (Field(p).month_day_between(*window) for p in paths))
    with store.unit_of_work() as uow:
        candidates = uow.customers.find(Query(where=where))
    assert "春" not in {c.id for c in candidates}  # born 1990 三月初七: not near 中秋
    assert upcoming_dates(candidates, now=now, tz="Asia/Shanghai", days=14) == signals


def test_documents_without_the_field_decode_as_gregorian() -> None:
    """A stored document written before the calendar field reads with Gregorian dates."""
    old = {
        "kind": "person",
        "display_name": "王芳",
        "id": "old",
        "created_at": "2024-01-01T00:00:00+00:00",
        "updated_at": "2024-01-01T00:00:00+00:00",
        "person": {
            "name": {"family": "王", "given": "芳"},
            "birthday": "1990-10-03",
            "family_members": [{"relation": "儿子", "birthday": "2016-09-25"}],
        },
        "key_dates": [{"label": "婚礼", "date": "2020-05-23"}],
    }
    customer = decode(json.dumps(old), Customer)
    assert customer.person is not None
    assert customer.person.birthday_calendar is Calendar.GREGORIAN
    assert customer.person.family_members[0].birthday_calendar is Calendar.GREGORIAN
    assert customer.key_dates[0].calendar is Calendar.GREGORIAN
