"""Month-day windows that wrap the year end: two index ranges, the reference's answers.

SQLite reads a wrapping window (``12-25`` to ``01-07``) as a ``UNION ALL`` of its two
ranges of ``<path>#month_day`` entries, the other dialects as one ``OR`` (``_window``);
``count`` counts the ranges' entries (their ``UNION`` on a multi-valued path). Pages,
counts, negations and combinations equal the reference on every dialect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from crmcore.models import Customer, FamilyMember, KeyDate, PersonName, PersonProfile
from crmcore.query import Field, Query
from crmcore.storage.sqlalchemy import TABLES, create_backend
from crmcore.storage.sqlalchemy._schema import INDEX

SQL_DIALECTS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]

DAYS = st.dates(dt.date(1950, 1, 1), dt.date(2010, 12, 31))
MONTH_DAYS = st.sampled_from(["01-01", "01-07", "02-29", "06-30", "12-24", "12-25", "12-31"])


@st.composite
def people(draw: st.DrawFn, number: int) -> Customer:
    """A person with maybe a birthday, family members' birthdays and key dates."""
    birthday = draw(st.none() | DAYS)
    members = tuple(
        FamilyMember(relation="child", birthday=day)
        for day in draw(st.lists(st.none() | DAYS, max_size=3))
    )
    dates = tuple(KeyDate(label="day", date=day) for day in draw(st.lists(DAYS, max_size=3)))
    return Customer.person_named(
        family="张",
        given=f"伟{number}",
        id=f"c{number:03d}",
        person=PersonProfile(
            name=PersonName(family="张", given=f"伟{number}"),
            birthday=birthday,
            family_members=members,
        ),
        key_dates=dates,
    )


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_wrapping_windows_answer_as_the_reference(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    """Every window, wrapping or not, alone, negated or combined: pages and counts."""
    backend = create_backend(sql_database(dialect))

    @settings(max_examples=25, deadline=None)
    @given(
        customers=st.integers(1, 12).flatmap(lambda n: st.tuples(*(people(i) for i in range(n)))),
        start=MONTH_DAYS,
        end=MONTH_DAYS,
        path=st.sampled_from(
            ["person.birthday", "person.family_members.birthday", "key_dates.date"]
        ),
    )
    def check(customers: tuple[Customer, ...], start: str, end: str, path: str) -> None:
        window = Field(path).month_day_between(start, end)
        t = backend.begin()
        try:
            t.insert("customer", list(customers))
            for where in (window, ~window, window & (Field("kind") == "person"), window | ~window):
                for query in (
                    Query(where=where),
                    Query(where=where, order_by=("-display_name",), limit=3),
                ):
                    assert t.query("customer", query) == query.apply(customers)
                    predicate = query.compile(Customer).predicate
                    assert t.count("customer", query) == sum(map(predicate, customers))
        finally:
            t.rollback()
            with backend.engine.begin() as connection:
                connection.execute(delete(TABLES["customer"]))
                connection.execute(delete(INDEX))

    try:
        check()
    finally:
        backend.close()
