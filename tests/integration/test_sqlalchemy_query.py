"""SQL query pushdown returns exactly what the reference Query.apply returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.models import (
    Customer,
    Email,
    Gender,
    Interaction,
    InteractionChannel,
    LifecycleStage,
    PersonProfile,
    Phone,
)
from crmcore.models import Direction as Dir
from crmcore.query import Field, Not, Query, Search
from crmcore.storage.ports import Backend, Record
from crmcore.storage.sqlalchemy import SqlBackend, create_backend

SQL_DIALECTS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]

UTC = dt.UTC
PLUS8 = dt.timezone(dt.timedelta(hours=8))
MINUS5 = dt.timezone(dt.timedelta(hours=-5))
BASE = dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

NAMES = ["张伟", "张伟明", "王芳", "Anna Schmidt", "anna", "Zoë", "zoe", "Émile", "李娜", "a b"]
STAGES = list(LifecycleStage)
OFFSETS = [UTC, PLUS8, MINUS5]


def dataset() -> list[Customer]:
    customers = []
    for i in range(36):
        name = NAMES[i % len(NAMES)]
        family, given = (name[0], name[1:]) if len(name) <= 3 else (name, "")
        created = (BASE + dt.timedelta(hours=(i * 7) % 5)).astimezone(OFFSETS[i % 3])
        customers.append(
            Customer.person_named(
                family=family,
                given=given or "x",
                id=f"id{(i * 17) % 36:02d}",
                display_name=name,
                version=1 + i % 3,
                created_at=created,
                updated_at=created + dt.timedelta(minutes=i % 4),
                acquired_on=None if i % 4 == 0 else dt.date(2025, 1 + i % 12, 1 + i % 3),
                lifecycle_stage=STAGES[i % 5],
                tags=tuple(t for t, on in (("vip", i % 3 == 0), ("北京", i % 4 == 1)) if on),
                phones=(Phone(number=f"+86 138 0013 {8000 + i % 7}"),) if i % 2 else (),
                emails=(Email(address=f"user{i % 5}@example.com"),) if i % 3 != 2 else (),
                person=PersonProfile(
                    name=Customer.person_named(family=family, given=given or "x").person.name,  # type: ignore[union-attr]
                    gender=[None, Gender.FEMALE, Gender.MALE][i % 3],
                ),
            )
        )
    return customers


@pytest.fixture(scope="module", params=SQL_DIALECTS)
def loaded(
    request: pytest.FixtureRequest, sql_database: Callable[[str], str]
) -> Iterator[tuple[Backend, list[Customer]]]:
    store = create_backend(sql_database(request.param))
    customers = dataset()
    t = store.begin()
    t.insert("customer", customers)
    t.commit()
    try:
        yield store, customers
    finally:
        store.close()


def leaf() -> st.SearchStrategy[object]:
    date = st.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    instant = st.integers(0, 6).map(lambda h: (BASE + dt.timedelta(hours=h)).astimezone(PLUS8))
    name = st.sampled_from([*NAMES, "张", "a", "Z", ""])
    stage = st.sampled_from(STAGES)
    return st.one_of(
        st.builds(lambda v: Field("display_name") == v, name),
        st.builds(lambda v: Field("display_name") != v, name),
        st.builds(lambda v: Field("display_name") < v, name),
        st.builds(lambda v: Field("display_name") >= v, name),
        st.builds(lambda v: Field("display_name").starts_with(v), name),
        st.builds(lambda v: Field("display_name").in_(v), st.lists(name, max_size=3)),
        st.builds(lambda v: Field("lifecycle_stage") == v, stage),
        st.builds(lambda v: Field("lifecycle_stage") > v.value, stage),
        st.builds(lambda v: Field("lifecycle_stage").in_(v), st.lists(stage, max_size=3)),
        st.builds(lambda v: Field("acquired_on") >= v, date),
        st.builds(lambda v: Field("acquired_on") != v, date),
        st.just(Field("acquired_on").is_null()),
        st.builds(lambda v: Field("created_at") < v, instant),
        st.builds(lambda v: Field("updated_at") == v, instant),
        st.builds(lambda v: Field("version") <= v, st.integers(0, 4)),
        st.builds(lambda v: Field("id") > v, st.sampled_from(["id10", "id2", "id35"])),
        st.builds(lambda v: Field("tags").contains(v), st.sampled_from(["vip", "北京"])),
        st.builds(lambda v: Field("tags") == v, st.sampled_from(["vip", "北京"])),
        st.builds(lambda v: Field("person.gender") == v, st.sampled_from(list(Gender))),
        st.just(Field("person.gender").is_null()),
        st.builds(
            Search,
            text=st.sampled_from(
                ["张伟", "张明", "anna", "ANNA", "138 0013 8003", "１３８", "example", "芳"]
            ),
        ),
    )


def filters() -> st.SearchStrategy[object]:
    return st.recursive(
        leaf(),
        lambda inner: st.one_of(
            st.builds(lambda a, b: a & b, inner, inner),
            st.builds(lambda a, b: a | b, inner, inner),
            st.builds(lambda a: Not(filter=a), inner),
        ),
        max_leaves=4,
    )


ORDERS = [
    "display_name",
    "-display_name",
    "lifecycle_stage",
    "-lifecycle_stage",
    "acquired_on",
    "-acquired_on",
    "created_at",
    "-updated_at",
    "version",
    "-id",
    "person.gender",
    "-person.name.family",
]


def queries() -> st.SearchStrategy[Query]:
    return st.builds(
        lambda where, order, limit: Query(where=where, order_by=tuple(order), limit=limit),
        st.none() | filters(),
        st.lists(st.sampled_from(ORDERS), max_size=3, unique=True),
        st.none() | st.integers(1, 12),
    )


def pages(backend: Backend, query: Query) -> list[list[Record]]:
    t = backend.begin()
    try:
        result: list[list[Record]] = []
        current: Query | None = query
        while current is not None and len(result) < 40:
            page = t.query("customer", current)
            result.append(page)
            current = current.next_page(page)
        return result
    finally:
        t.rollback()


def reference_pages(records: list[Customer], query: Query) -> list[list[Customer]]:
    result: list[list[Customer]] = []
    current: Query | None = query
    while current is not None and len(result) < 40:
        page = current.apply(records)
        result.append(page)
        current = current.next_page(page)
    return result


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries())
def test_every_page_matches_the_reference(
    loaded: tuple[Backend, list[Customer]], query: Query
) -> None:
    """Each page, followed by cursor, equals the reference's page; count equals its length."""
    backend, customers = loaded
    assert pages(backend, query) == reference_pages(customers, query)
    t = backend.begin()
    try:
        assert t.count("customer", query) == len(query.unpaged().apply(customers))
    finally:
        t.rollback()


def test_pushdown_reaches_sql_for_key_column_queries(
    loaded: tuple[Backend, list[Customer]],
) -> None:
    """A filter and order on key columns is planned exactly, ordered in SQL."""
    from crmcore.storage.sqlalchemy import TABLES
    from crmcore.storage.sqlalchemy._query import plan

    backend, customers = loaded
    query = Query(
        where=(Field("lifecycle_stage") == "repeat") & ~Field("acquired_on").is_null(),
        order_by=("-acquired_on", "display_name"),
        limit=3,
    )
    sql = plan(query.compile(Customer), TABLES["customer"])
    assert sql.exact
    assert sql.order is not None
    assert pages(backend, query) == reference_pages(customers, query)


def test_queries_on_other_kinds_match_the_reference(sql_database: Callable[[str], str]) -> None:
    """Interactions filtered by customer and ordered by time match the reference."""
    store = create_backend(sql_database("sqlite"))
    try:
        items = [
            Interaction(
                id=f"i{i:02d}",
                customer_id=f"c{i % 3}",
                channel=list(InteractionChannel)[i % 4],
                direction=Dir.INBOUND if i % 2 else Dir.OUTBOUND,
                occurred_at=(BASE + dt.timedelta(minutes=i % 5)).astimezone(OFFSETS[i % 3]),
                subject="来电",
                version=1,
                created_at=BASE,
            )
            for i in range(20)
        ]
        t = store.begin()
        t.insert("interaction", items)
        query = Query(
            where=Field("customer_id") == "c1", order_by=("-occurred_at", "channel"), limit=2
        )
        got, want = [], []
        current: Query | None = query
        while current is not None:
            page = t.query("interaction", current)
            got.append(page)
            current = current.next_page(page)
        current = query
        while current is not None:
            page = current.apply(items)
            want.append(page)
            current = current.next_page(page)
        assert got == want
        t.rollback()
    finally:
        store.close()


def test_sql_backend_type() -> None:
    """create_backend returns the SQL backend class."""
    assert SqlBackend.__name__ == "SqlBackend"
    assert attrs.has(Query)
