"""Remembered query plans (``_plan_cache``, a fast path) answer as plans built anew.

The reference builds the compiled query, the plan, the count statement and each
statement anew for every call (``CRMCORE_NO_FAST_PATHS=1``); the fast path keeps them
per query. Both must give the reference answers (``Query.apply``), page after page,
and run the very same SQL with the very same parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Boolean, event, literal, select
from sqlalchemy.engine import Connection
from tests.conftest import SQL_DIALECTS
from tests.integration.test_sql_order import _reference_pages

from crmcore._fastpaths import set_fast_paths
from crmcore.models import Customer, CustomerKind, Email, PersonName, PersonProfile, Phone
from crmcore.query import Field, Query, Search
from crmcore.storage.indexing import IndexSet
from crmcore.storage.ports import RECORD_TYPES, RecordKind
from crmcore.storage.sqlalchemy import SqlBackend, _plan_cache, create_backend
from crmcore.storage.sqlalchemy._plan_cache import Entry, PlanCache, driver_form, plan_key

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FAMILIES = ("王", "Schmidt", "Ｚｈａｎｇ", "陈", "Müller")


def _customer(i: int) -> Customer:
    family = FAMILIES[i % len(FAMILIES)] if i % 7 else None
    return Customer(
        kind=CustomerKind.PERSON,
        id=f"c{(i * 11) % 37:02d}-{i}",
        display_name=f"{family or 'x'} {i % 5}",
        person=PersonProfile(name=None if family is None else PersonName(family=family, given="a")),
        phones=(Phone(number=f"+86138{i % 4:08d}"),),
        emails=(Email(address=f"u{i % 6}@example.com"),),
        tags=("vip",) if i % 3 == 0 else ("new", "web") if i % 3 == 1 else (),
        version=1,
        created_at=T0,
        updated_at=T0,
    )


CUSTOMERS = [_customer(i) for i in range(60)]

QUERIES = [
    Query(where=Field("phones.number") == "+8613800000001", limit=5),
    Query(where=Field("emails.address") == "u2@example.com", limit=4),
    Query(where=Field("tags").contains("vip"), limit=7),
    Query(where=Field("tags").in_(["new", "vip"]) & ~(Field("display_name") == "王 1"), limit=6),
    Query(where=Search(text="Schmidt"), limit=3),
    Query(order_by=("display_name",), limit=9),
    Query(where=Field("kind") == "person", order_by=("person.name.family",), limit=8),
    Query(order_by=("-person.name.family", "display_name"), limit=11),
    Query(where=Field("tags").is_null(), order_by=("-display_name",), limit=4),
]


@pytest.fixture(params=SQL_DIALECTS)
def stored(
    request: pytest.FixtureRequest, sql_database: Callable[[str], str]
) -> Iterator[SqlBackend]:
    """A SQL backend of each dialect holding :data:`CUSTOMERS`."""
    backend = create_backend(sql_database(str(request.param)))
    t = backend.begin()
    t.insert("customer", CUSTOMERS)
    t.commit()
    try:
        yield backend
    finally:
        backend.close()


def _answers(backend: SqlBackend, query: Query) -> tuple[list[list[str]], int]:
    """Every page of ``query`` (by its cursors) and its count, in one transaction each."""
    pages: list[list[str]] = []
    current: Query | None = query
    while current is not None and len(pages) < 60:
        t = backend.begin()
        try:
            page = t.query("customer", current)
        finally:
            t.rollback()
        pages.append([c.id for c in page])
        current = current.next_page(page)
    t = backend.begin()
    try:
        return pages, t.count("customer", query)
    finally:
        t.rollback()


def _reference(query: Query) -> tuple[list[list[str]], int]:
    return _reference_pages(CUSTOMERS, query), len(query.unpaged().apply(CUSTOMERS))


@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_remembered_plans_answer_as_plans_built_anew(stored: SqlBackend, query: Query) -> None:
    """Asked again (its plan remembered) or with fast paths off, a query gives the
    reference pages and count."""
    expected = _reference(query)
    previous = set_fast_paths(False)
    try:
        assert _answers(stored, query) == expected
        assert len(stored._plans) == 0  # the reference keeps nothing
    finally:
        set_fast_paths(previous)
    set_fast_paths(True)
    try:
        assert _answers(stored, query) == expected
        kept = len(stored._plans)
        assert kept >= 1
        assert _answers(stored, query) == expected  # every plan remembered now
        assert len(stored._plans) == kept
    finally:
        set_fast_paths(previous)


def _statements(backend: SqlBackend, query: Query) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        seen.append((statement, parameters))

    event.listen(backend.engine, "before_cursor_execute", record)
    try:
        _answers(backend, query)
    finally:
        event.remove(backend.engine, "before_cursor_execute", record)
    return seen


def _anew(kind: RecordKind, query: Query, indexes: IndexSet | None) -> Entry:
    """An entry nobody keeps: everything built anew for the call (the reference)."""
    return Entry(query.compile(RECORD_TYPES[kind]), indexes)


def test_remembered_statements_are_the_statements_built_anew(
    stored: SqlBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same SQL with the same parameters, in the same order, as the statements built
    anew for every call (the cache alone bypassed: the other fast paths choose the
    columns read)."""
    previous = set_fast_paths(True)
    try:
        for query in QUERIES:
            with monkeypatch.context() as patch:
                patch.setattr(stored._plans, "entry", _anew)
                reference = _statements(stored, query)
            assert _statements(stored, query) == reference
            assert _statements(stored, query) == reference  # remembered
        assert len(stored._plans) >= len(QUERIES)  # and one per cursor page
    finally:
        set_fast_paths(previous)


def test_queries_equal_as_values_but_written_differently_are_kept_apart() -> None:
    """``1 == True`` in Python, but a query comparing with ``True`` is not the one with ``1``."""
    one, true = Query(where=Field("version") == 1), Query(where=Field("version") == True)  # noqa: E712
    assert one == true
    assert plan_key("customer", one) != plan_key("customer", true)
    assert plan_key("customer", one) == plan_key("customer", Query(where=Field("version") == 1))


def test_another_index_set_gets_its_own_entry_and_the_cache_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plan is only reused for the index set it was made for; the oldest goes first."""
    previous = set_fast_paths(True)
    try:
        cache = PlanCache()
        query = Query(where=Field("phones.number") == "+8613800000001")
        first, second = IndexSet.of([]), IndexSet.of(["person.name.family"])
        entry = cache.entry("customer", query, first)
        assert cache.entry("customer", query, first) is entry
        other = cache.entry("customer", query, second)
        assert other is not entry
        assert other.indexes is second
        assert len(cache) == 1
        monkeypatch.setattr(_plan_cache, "MAX_ENTRIES", 3)
        for number in range(10):
            cache.entry("customer", Query(where=Field("display_name") == str(number)), first)
        assert len(cache) == 3
        long = Query(where=Field("display_name").in_([f"{n:08d}" for n in range(20_000)]))
        assert cache.entry("customer", long, first) is not cache.entry("customer", long, first)
        assert len(cache) == 3  # too large to keep
        cache.shapes[("an ordering",)] = ()
        set_fast_paths(False)
        assert len(cache) == 0  # switching cleared it
        assert not cache.shapes  # the first pages' segments too
        assert cache.entry("customer", query, first) is not cache.entry("customer", query, first)
        assert len(cache) == 0  # the reference keeps nothing
    finally:
        set_fast_paths(previous)


def _core_runs(backend: SqlBackend, query: Query, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many statements Core runs for ``query``'s pages and count."""
    runs = [0]
    original = Connection.execute

    def counted(self: Connection, statement: Any, *args: Any, **kwargs: Any) -> Any:
        runs[0] += 1
        return original(self, statement, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Connection, "execute", counted)
        _answers(backend, query)
    return runs[0]


@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_remembered_statements_run_on_the_driver_as_core_ran_them(
    stored: SqlBackend, query: Query, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From its second run a remembered statement goes straight to the driver's cursor,
    with the SQL and parameters Core gave the driver the first time, and the answers are
    the reference's; Core runs fewer statements then."""
    expected = _reference(query)
    previous = set_fast_paths(True)
    try:
        core_sent = _statements(stored, query)  # watched: Core runs everything
        first = _core_runs(stored, query, monkeypatch)
        again = _core_runs(stored, query, monkeypatch)
        assert _answers(stored, query) == expected
        assert again < first
        driven = [
            found
            for entry in list(stored._plans._entries.values())
            for _, found in entry._driven.values()
            if found is not None
        ]
        assert driven
        for statement in driven:
            assert (statement.sql, statement.parameters) in [
                (sql, tuple(p) if isinstance(p, list | tuple) else p) for sql, p in core_sent
            ]
    finally:
        set_fast_paths(previous)


def test_watched_connections_and_converted_rows_stay_on_core(
    stored: SqlBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine event sees every statement (Core runs it, as with fast paths off); a
    statement whose rows Core converts (a boolean on SQLite) is never run on the driver."""
    query = QUERIES[0]
    previous = set_fast_paths(False)
    try:
        every = _core_runs(stored, query, monkeypatch)
    finally:
        set_fast_paths(previous)
    previous = set_fast_paths(True)
    try:
        _answers(stored, query)
        seen: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            seen.append(statement)

        event.listen(stored.engine, "before_cursor_execute", record)
        try:
            _answers(stored, query)
            assert len(seen) == every
        finally:
            event.remove(stored.engine, "before_cursor_execute", record)
        with stored.engine.connect() as conn:
            result = conn.execute(select(literal(True, Boolean()).label("flag")))
            converted = driver_form(result)
            assert result.all() == [(True,)]
        if stored.dialect == "sqlite":
            assert converted is None
    finally:
        set_fast_paths(previous)


def test_with_fast_paths_off_every_statement_runs_on_core(
    stored: SqlBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``CRMCORE_NO_FAST_PATHS=1``: nothing is remembered, Core runs every statement."""
    previous = set_fast_paths(False)
    try:
        for query in QUERIES:
            first = _core_runs(stored, query, monkeypatch)
            assert _core_runs(stored, query, monkeypatch) == first
            assert _answers(stored, query) == _reference(query)
    finally:
        set_fast_paths(previous)


def test_the_same_query_object_finds_its_entry_without_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Asked again with the very same query object, the cache skips computing the key; an
    equal query object finds the same entry by its key, another kind or index set its own."""
    previous = set_fast_paths(True)
    try:
        cache = PlanCache()
        indexes = IndexSet.of([])
        query = Query(where=Field("phones.number") == "+8613800000001")
        entry = cache.entry("customer", query, indexes)
        with monkeypatch.context() as patch:
            patch.setattr(_plan_cache, "plan_key", None)  # calling it would fail
            assert cache.entry("customer", query, indexes) is entry
        equal = Query(where=Field("phones.number") == "+8613800000001")
        assert cache.entry("customer", equal, indexes) is entry
        assert cache.entry("customer", query, IndexSet.of(["grade"])) is not entry
        other = Query(where=Field("version") == 1)
        assert cache.entry("purchase", other, None) is not cache.entry("interaction", other, None)
        cache.clear()
        assert cache.entry("customer", query, indexes) is not entry
    finally:
        set_fast_paths(previous)
