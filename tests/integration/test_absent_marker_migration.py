"""Revision 0012 writes the absence markers of the customers a database already holds.

A database of revision 0011 has no ``<path>#absent`` rows: after ``upgrade`` it holds
exactly the rows every write makes today, and a first ascending page by a nullable
indexed path (customers without the value first) is the reference evaluator's
(SQLite, PostgreSQL, MariaDB).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest
from sqlalchemy import delete, select, text
from tests.conftest import SQL_DIALECTS

from crmcore.models import Customer, PersonProfile, Phone
from crmcore.query import Field, Query
from crmcore.storage import connect
from crmcore.storage.indexing import ABSENT_SUFFIX, IndexSet
from crmcore.storage.sqlalchemy import declare_index, make_engine, upgrade
from crmcore.storage.sqlalchemy._migrate import VERSION_TABLE
from crmcore.storage.sqlalchemy._schema import INDEX, INDEX_BACKFILL, INDEX_TEXT_LENGTH


def _customers() -> list[Customer]:
    people = [
        Customer.person_named(family=family, given="芳", id=f"p{i:02d}")
        for i, family in enumerate(("王", "Ｗａｎｇ", "李", "Zhang", "欧阳", "王"))
    ]
    nameless = Customer.person_named(
        family="x", given="伟", id="p90", phones=(Phone(number="+8613800000000"),)
    )
    people.append(attrs.evolve(nameless, person=PersonProfile(name=None)))  # no family name
    firms = [
        Customer.organisation_named(name, id=f"o{i:02d}", grade="A" if i % 2 else None)
        for i, name in enumerate(("上海华通贸易有限公司", "Acme GmbH", "北京星辰科技"))
    ]
    return people + firms


def _markers(url: str) -> set[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(INDEX.c.customer_id, INDEX.c.path).where(
                    INDEX.c.path.like("%" + ABSENT_SUFFIX)
                )
            )
            return {(str(a), str(b)) for a, b in rows}
    finally:
        engine.dispose()


def _page(url: str, query: Query) -> list[str]:
    """The ids of ``query``'s page on the database at ``url`` (not migrated on opening)."""
    with connect(url, normaliser=None, migrate=False) as store:
        t = store.backend.begin()
        try:
            return [c.id for c in t.query("customer", query)]
        finally:
            t.rollback()


def _to_revision_0011(url: str) -> int:
    """Delete every absence marker and set the revision, as revision 0011 left it."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            dropped = connection.execute(delete(INDEX).where(INDEX.c.path.like("%#absent")))
            connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0011'"))
        return int(dropped.rowcount)
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_upgrading_writes_the_absence_markers_of_existing_customers(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    customers = _customers()
    url = sql_database(dialect)
    with connect(url, normaliser=None) as store:
        assert store.import_customers(customers).rejected == 0
    written = _markers(url)
    expected = {
        (row[0], row[1])
        for row in IndexSet.of().entry_rows(customers, INDEX_TEXT_LENGTH)
        if row[1].endswith(ABSENT_SUFFIX)
    }
    assert ("p90", "person.name.family#absent") in expected
    assert written == expected
    assert _to_revision_0011(url) == len(expected)
    upgrade(url)
    assert _markers(url) == expected
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(select(INDEX_BACKFILL.c.path)).first() is None
    finally:
        engine.dispose()
    query = Query(order_by=("person.name.family",), limit=4)
    found = _page(url, query)
    assert found == [c.id for c in query.apply(customers)]
    assert found == ["o00", "o01", "o02", "p90"]


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_a_declared_single_valued_path_gets_markers_for_customers_already_stored(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    """Declaring ``person.name.given`` backfills its markers: first pages by it are exact."""
    customers = _customers()
    nameless = next(c for c in customers if c.id == "p90")
    url = sql_database(dialect)
    with connect(url, normaliser=None) as store:
        assert store.import_customers(customers).rejected == 0
    engine = make_engine(url)
    try:
        assert declare_index(engine, "person.name.given")
    finally:
        engine.dispose()
    assert (nameless.id, "person.name.given#absent") in _markers(url)
    assert not any(
        path == "person.name.given#absent"
        for _, path in _markers(url) - {(nameless.id, "person.name.given#absent")}
    )
    for where in (None, Field("kind") == "person", Field("kind") == "organisation"):
        query = Query(where=where, order_by=("person.name.given",), limit=3)
        assert _page(url, query) == [c.id for c in query.apply(customers)]
