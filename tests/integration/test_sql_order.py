"""Ordering by indexed paths (keyset segments) and counts off the index, on every backend.

The reference is ``Query.apply``; each backend (memory, SQLite, PostgreSQL, MariaDB)
must give the same pages, page after page, and the same counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Select
from sqlalchemy.dialects.mysql.base import MySQLDialect
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import Dialect
from tests.conftest import SQL_DIALECTS

from crmcore._fastpaths import set_fast_paths
from crmcore.models import (
    Customer,
    CustomerKind,
    OrganisationProfile,
    PersonName,
    PersonProfile,
    Phone,
)
from crmcore.query import Field, Query
from crmcore.storage.indexing import IndexSet
from crmcore.storage.memory import MemoryBackend
from crmcore.storage.ports import Backend
from crmcore.storage.sqlalchemy import SqlBackend, create_backend
from crmcore.storage.sqlalchemy._count import SET_PATHS, count_statement
from crmcore.storage.sqlalchemy._order import Segment, walk
from crmcore.storage.sqlalchemy._query import plan
from crmcore.storage.sqlalchemy._schema import TABLES
from crmcore.testing import strategies as cst

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

BACKENDS = ["memory", *SQL_DIALECTS]


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, sql_database: Callable[[str], str]
) -> Iterator[Backend]:
    """An empty backend of each kind."""
    name = str(request.param)
    opened: Backend = MemoryBackend() if name == "memory" else create_backend(sql_database(name))
    yield opened
    if isinstance(opened, SqlBackend):
        opened.close()


# Names sharing the 255 indexed characters (and shorter ones), CJK and full-width forms.
_PREFIX = "王" * 250 + "abcd"  # 254 characters: the 255th and later decide
_NAMES = st.sampled_from(
    [
        _PREFIX,
        _PREFIX + "a",
        _PREFIX + "a" + "b",
        _PREFIX + "a" * 40,
        _PREFIX + "b",
        _PREFIX + "ｂ",
        "王",
        "張",
        "Ｚｈａｎｇ",
        "",
        "a",
    ]
)
_CUSTOMER = st.one_of(
    st.tuples(st.just("person"), st.one_of(st.none(), _NAMES)),
    st.tuples(st.just("organisation"), _NAMES.filter(bool)),
)


def _customer(i: int, kind: str, name: str | None) -> Customer:
    phone = (Phone(number=f"+86138{i % 3:08d}"),)
    if kind == "person":
        person = PersonProfile(name=None if name is None else PersonName(family=name, given="x"))
        return Customer(
            kind=CustomerKind.PERSON,
            id=f"c{(i * 7) % 23:02d}-{i}",
            display_name=f"p{i}",
            person=person,
            phones=(*phone, Phone(number=f"+86139{i:08d}")) if i % 2 else phone,
            version=1,
            created_at=T0,
            updated_at=T0,
        )
    return Customer(
        kind=CustomerKind.ORGANISATION,
        id=f"c{(i * 7) % 23:02d}-{i}",
        display_name=f"o{i}",
        organisation=OrganisationProfile(legal_name=name[:512] if name else "x"),
        phones=phone,
        version=1,
        created_at=T0,
        updated_at=T0,
    )


def _pages(backend: Backend, query: Query) -> list[list[str]]:
    t = backend.begin()
    try:
        pages: list[list[str]] = []
        current: Query | None = query
        while current is not None and len(pages) < 60:
            page = t.query("customer", current)
            pages.append([c.id for c in page])
            current = current.next_page(page)
        return pages
    finally:
        t.rollback()


def _reference_pages(customers: list[Customer], query: Query) -> list[list[str]]:
    pages: list[list[str]] = []
    current: Query | None = query
    while current is not None and len(pages) < 60:
        page = current.apply(customers)
        pages.append([c.id for c in page])
        current = current.next_page(page)
    return pages


_RUN_A: list[tuple[str, str | None]] = [
    ("organisation", _PREFIX + "ab"),
    ("person", _PREFIX + "a" * 40),
    ("organisation", _PREFIX + "a"),
    ("person", None),
    ("person", _PREFIX + "a"),
]
_RUN_B: list[tuple[str, str | None]] = [
    ("person", _PREFIX + "ab"),
    ("person", _PREFIX + "a" * 40),
    ("person", _PREFIX),
    ("person", _PREFIX + "a"),
    ("organisation", "a"),
]

_ORDERS = st.sampled_from(
    [
        ("person.name.family",),
        ("-person.name.family",),
        ("organisation.legal_name", "display_name"),
        ("-organisation.legal_name", "-display_name"),
        ("person.name.family", "-organisation.legal_name"),
        ("display_name",),
    ]
)
_WHERE = st.sampled_from(
    [
        None,
        Field("kind") == "person",
        Field("kind") == "organisation",  # no match has a person profile
        (Field("kind") == "person") & (Field("phones.number") == "+8613800000001"),
        Field("phones.number") == "+8613800000001",
        Field("notes").is_null(),  # checked in Python: chunks bigger than the page
    ]
)


def test_pages_by_an_indexed_path_match_the_reference(backend: Backend) -> None:
    """Every page (1 to 3 records, so keysets land inside runs of equal 255-character
    prefixes and on the border between customers without and with a value) equals the
    reference's, ascending and descending, with and without filters."""

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @example(  # three names sharing 255 characters, their ids in the opposite order
        drawn=_RUN_A,
        order=("organisation.legal_name", "display_name"),
        where=None,
        limit=1,
    )
    @example(
        drawn=_RUN_B,
        order=("-person.name.family",),
        where=Field("kind") == "person",
        limit=2,
    )
    @given(
        drawn=st.lists(_CUSTOMER, min_size=1, max_size=9),
        order=_ORDERS,
        where=_WHERE,
        limit=st.integers(1, 3),
    )
    def check(
        drawn: list[tuple[str, str | None]],
        order: tuple[str, ...],
        where: object,
        limit: int,
    ) -> None:
        customers = [_customer(i, kind, name) for i, (kind, name) in enumerate(drawn)]
        query = Query(where=where, order_by=order, limit=limit)  # type: ignore[arg-type]
        t = backend.begin()
        t.insert("customer", customers)
        t.commit()
        try:
            assert _pages(backend, query) == _reference_pages(customers, query)
            t = backend.begin()
            try:
                assert t.count("customer", query) == len(query.unpaged().apply(customers))
            finally:
                t.rollback()
        finally:
            t = backend.begin()
            for c in customers:
                t.delete("customer", c.id, expected_version=1)
            t.commit()

    check()


@pytest.mark.parametrize(
    ("where", "single"),
    [
        (Field("person.name.family") == "王", True),
        (Field("person.name.family").in_(["王", "張"]), True),
        (Field("phones.number") == "+8613800000001", False),
        (Field("phones.number").starts_with("+86138"), False),
        (Field("tags").contains("vip"), True),
        (Field("tags") == "vip", True),
        (Field("tags").in_(["vip", "gold"]), False),
        (Field("tags").starts_with("v"), False),
    ],
)
def test_a_single_indexed_leaf_is_counted_off_the_index(where: object, single: bool) -> None:
    """The count of one indexed leaf reads only the index table: ``COUNT(*)`` of the
    entries for a single-valued path or one value of a set (tags), of the distinct
    customers for any other multi-valued one."""
    query = Query(where=where)  # type: ignore[arg-type]
    statement = count_statement(query.compile(Customer), TABLES["customer"], IndexSet.of())
    assert statement is not None
    text = str(statement)
    assert "crm_customer_index" in text
    assert "FROM crm_customer " not in text
    assert "FROM crm_customer\n" not in text
    assert ("DISTINCT" in text) is not single


def test_counts_count_each_customer_once(backend: Backend) -> None:
    """A customer holding two matching values is counted once, on every backend."""
    customers = [
        _customer(i, kind, name)
        for i, (kind, name) in enumerate(
            [("person", "王"), ("person", "王"), ("organisation", "王"), ("person", None)]
        )
    ]
    t = backend.begin()
    t.insert("customer", customers)
    t.commit()
    t = backend.begin()
    try:
        for where in (
            Field("phones.number") == "+8613800000001",
            Field("phones.number").starts_with("+86"),
            Field("person.name.family") == "王",
            Field("person.name.family").is_null(),
            (Field("person.name.family") == "王") & (Field("phones.number") >= "+8613800000001"),
        ):
            query = Query(where=where)
            assert t.count("customer", query) == len(query.apply(customers)), where
    finally:
        t.rollback()


@settings(max_examples=200, deadline=None)
@given(customer=cst.customers(), tags=st.lists(st.sampled_from(["vip", "VIP", " vip", "北京"])))
def test_a_set_path_holds_each_value_once_a_customer(customer: Customer, tags: list[str]) -> None:
    """Each value of a ``SET_PATHS`` path is in one entry of a customer at most (what
    counting one value's entries without ``DISTINCT`` relies on), repeats given or not."""
    customer = attrs.evolve(customer, tags=(*customer.tags, *tags, *tags))
    for path in SET_PATHS:
        values = [e.value for e in IndexSet.of().entries(customer) if e.path == path]
        assert len(values) == len(set(values))


def test_tag_counts_count_each_customer_once(backend: Backend) -> None:
    """Counting one tag counts its customers, on every backend, past the indexed prefix."""
    long = "v" * 255  # the indexed prefix of the longer tags
    people = [
        Customer.person_named(family="王", given="一", id="a", tags=("vip", "VIP", "vip")),
        Customer.person_named(family="王", given="二", id="b", tags=(long, long + "x")),
        Customer.person_named(family="王", given="三", id="c", tags=(long + "x", long + "y")),
        Customer.person_named(family="王", given="四", id="d"),
    ]
    t = backend.begin()
    t.insert("customer", people)
    t.commit()
    t = backend.begin()
    try:
        for where in (
            Field("tags").contains("vip"),
            Field("tags") == "VIP",
            Field("tags").contains(long),
            Field("tags").contains(long + "x"),
            Field("tags").contains("v"),
            Field("tags").starts_with("v"),
            Field("tags").in_(["vip", "VIP"]),
        ):
            query = Query(where=where)
            assert t.count("customer", query) == len(query.apply(people)), where
    finally:
        t.rollback()


@pytest.mark.postgres
def test_postgresql_estimates_each_paths_values_on_its_own(
    sql_database: Callable[[str], str],
) -> None:
    """Revision 0007's extended statistics: a value frequent under one path but rare
    in the whole index table is estimated from its own path's frequency."""
    from sqlalchemy import text

    backend = create_backend(sql_database("postgresql"))
    try:
        # 300 customers with fact key "wine"; 3,000 index rows of other paths (tags,
        # phones) hold other values, so "wine" is 1 in 12 rows overall.
        customers = []
        for i in range(300):
            c = _customer(i, "person", f"name{i % 30}")
            customers.append(attrs.evolve(c, tags=tuple(f"t{i}-{k}" for k in range(8))))
        t = backend.begin()
        t.insert("customer", customers)
        t.commit()
        with backend.engine.connect() as connection:
            names = set(
                connection.execute(
                    text(
                        "SELECT stxname FROM pg_statistic_ext WHERE stxnamespace = "
                        "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
                    )
                ).scalars()
            )
            assert {"crm_customer_index_path_text", "crm_customer_index_path_number"} <= names
            connection.execute(text("ANALYZE crm_customer_index"))
            plan = (
                connection.execute(
                    text(
                        "EXPLAIN SELECT customer_id FROM crm_customer_index "
                        "WHERE path = 'person.name.family' AND text_value = 'name7'"
                    )
                )
                .scalars()
                .first()
            )
        assert plan is not None
        estimated = int(plan.split("rows=")[1].split()[0])
        assert 5 <= estimated <= 30, plan  # 10 match
    finally:
        backend.close()


@pytest.mark.parametrize(
    "dialect",
    [SQLiteDialect(), PGDialect(), MySQLDialect()],  # type: ignore[no-untyped-call]
)
@pytest.mark.parametrize(
    "order", [("person.name.family",), ("-person.name.family",), ("display_name",)]
)
@pytest.mark.parametrize(
    "where", [None, Field("kind") == "person", Field("phones.number") == "+8613800000001"]
)
def test_reused_first_page_statements_equal_the_reference(
    dialect: Dialect, order: tuple[str, ...], where: object
) -> None:
    """The first page's segments and statements kept from one query to the next (fast
    path) compile to the statements built anew (``CRMCORE_NO_FAST_PATHS=1``), with the
    filter's own values, however often they are reused."""
    table = TABLES["customer"]
    indexes = IndexSet.of(["organisation.legal_name"])
    extra = (table.c.doc, table.c.doc_digest, table.c.id)
    kept: dict[tuple[Any, ...], tuple[Segment, ...]] = {}  # as a plan cache's ``shapes``

    def statements(enabled: bool, name: str) -> list[tuple[str, dict[str, object]]]:
        previous = set_fast_paths(enabled)
        try:
            filtered = where if where is None else where & (Field("display_name") == name)  # type: ignore[operator]
            query = Query(where=filtered, order_by=order, limit=3)
            compiled = query.compile(Customer)
            sql = plan(compiled, table, indexes, shapes=kept)
            assert sql.segments is not None
            seen: list[tuple[str, dict[str, object]]] = []

            def execute(statement: Select[Any]) -> list[Any]:
                done = statement.compile(dialect=dialect)
                seen.append((str(done), dict(done.params)))
                return []

            for segment in sql.segments:
                list(walk(segment, sql.where, extra, execute, 3))
            return seen
        finally:
            set_fast_paths(previous)

    for name in ("王", "Ｚｈａｎｇ", "王"):
        reference = statements(False, name)
        assert statements(True, name) == reference
        assert statements(True, name) == reference  # reused
        assert any(name in params.values() for _, params in reference) or where is None
    assert len(kept) == 1  # one ordering, its segments kept once
