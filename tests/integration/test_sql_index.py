"""The SQL customer index: exact long text, the 0003 backfill, declared indexes, explain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from tests.conftest import SQL_DIALECTS

from crmcore.errors import SchemaOutdated, StorageError, ValidationError
from crmcore.models import (
    Customer,
    CustomerKind,
    FactCategory,
    Identifier,
    IdentifierKind,
    OrganisationProfile,
    ProfileFact,
)
from crmcore.query import AnyFilter, Field, Query, Reachable
from crmcore.storage.indexing import DEFAULT_INDEXED_PATHS, IndexSet
from crmcore.storage.sqlalchemy import (
    SqlBackend,
    create_backend,
    declare_index,
    make_engine,
    upgrade,
)
from crmcore.storage.sqlalchemy import _index as index_module
from crmcore.storage.sqlalchemy._rows import record_row
from crmcore.storage.sqlalchemy._schema import INDEX, TABLES
from crmcore.testing._queries import CUSTOMER_QUERIES
from crmcore.testing._query_audience import AUDIENCE_QUERIES, audience_customers
from crmcore.testing.data import sample_customers

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _stamped(customers: list[Customer]) -> list[Customer]:
    return [attrs.evolve(c, version=1, created_at=T0, updated_at=T0) for c in customers]


def _answers(backend: SqlBackend, query: Query) -> tuple[list[str], int]:
    t = backend.begin()
    try:
        found = [c.id for c in t.query("customer", query)]
        return found, t.count("customer", query)
    finally:
        t.rollback()


def _index_rows(backend: SqlBackend) -> set[tuple[Any, ...]]:
    with backend.engine.connect() as connection:
        return {tuple(r) for r in connection.execute(select(INDEX)).all()}


# --------------------------------------------------------------------------- long text

_PREFIX = "前" * 200 + "a" * 54  # 254 characters: the 255th decides
_TAILS = ["", "a", "b", "a ", "a\u00a0", "甲", "𠮷", "aa", "ab", "a" * 30, "a" * 30 + "b"]
_LONG = st.sampled_from(_TAILS).map(lambda t: _PREFIX + t) | st.sampled_from(
    [_PREFIX[:-1], "前", "z"]
)


def _org(i: int, value: str, legal: str) -> Customer:
    return Customer(
        kind=CustomerKind.ORGANISATION,
        display_name=f"org {i}",
        id=f"long-{i:02d}",
        identifiers=(Identifier(kind=IdentifierKind.OTHER, value=value),),
        organisation=OrganisationProfile(legal_name=legal[:512]),
    )


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_long_text_compares_exactly(dialect: str, sql_database: Callable[[str], str]) -> None:
    """Values longer than the indexed 255 characters, sharing prefixes, compare and sort exactly."""
    backend = create_backend(sql_database(dialect))

    @settings(max_examples=25, deadline=None)
    @given(
        values=st.lists(st.tuples(_LONG, _LONG), min_size=1, max_size=6),
        operand=_LONG,
        op=st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge", "starts", "in"]),
        cut=st.integers(0, 300),
        descending=st.booleans(),
    )
    def check(
        values: list[tuple[str, str]], operand: str, op: str, cut: int, descending: bool
    ) -> None:
        customers = _stamped([_org(i, v, legal) for i, (v, legal) in enumerate(values)])
        field = Field("identifiers.value")
        builders: dict[str, Callable[[], AnyFilter]] = {
            "eq": lambda: field == operand,
            "ne": lambda: field != operand,
            "lt": lambda: field < operand,
            "le": lambda: field <= operand,
            "gt": lambda: field > operand,
            "ge": lambda: field >= operand,
            "starts": lambda: field.starts_with(operand[:cut]),
            "in": lambda: field.in_([operand, _PREFIX]),
        }
        where = builders[op]()
        query = Query(
            where=where,
            order_by=(("-" if descending else "") + "organisation.legal_name",),
        )
        t = backend.begin()
        try:
            t.insert("customer", customers)
            found = [c.id for c in t.query("customer", query)]
            assert found == [c.id for c in query.apply(customers)]
            assert t.count("customer", query) == len(query.apply(customers))
            # a keyset page from each record gives exactly the records after it
            ordered = Query(order_by=query.order_by).apply(customers)
            for index, record in enumerate(ordered):
                page = [
                    c.id
                    for c in t.query("customer", Query(order_by=query.order_by).page_after(record))
                ]
                assert page == [c.id for c in ordered[index + 1 :]]
        finally:
            t.rollback()

    try:
        assert backend.explain("customer", Query(where=Field("identifiers.value") == "x")).exact
        check()
    finally:
        backend.close()


# --------------------------------------------------------------------------- writes keep the index


def test_writes_keep_the_index_rows(sql_backend: SqlBackend) -> None:
    """Insert, update and delete leave exactly the entries of the stored customers."""
    customers = _stamped(sample_customers())
    index_set = IndexSet.of()
    t = sql_backend.begin()
    t.insert("customer", customers)
    t.commit()
    assert _index_rows(sql_backend) == set(index_module.index_rows(index_set, customers))
    changed = attrs.evolve(customers[0], tags=("新标签",), phones=(), version=2)
    t = sql_backend.begin()
    t.update("customer", changed, expected_version=1)
    t.delete("customer", customers[1].id, expected_version=1)
    t.commit()
    remaining = [changed, *customers[2:]]
    assert _index_rows(sql_backend) == set(index_module.index_rows(index_set, remaining))
    found, count = _answers(sql_backend, Query(where=Field("tags") == "新标签"))
    assert found == [changed.id]
    assert count == 1


def test_a_large_batch_writes_the_same_rows(sql_backend: SqlBackend) -> None:
    """A batch past the COPY threshold (PostgreSQL's binary COPY path) writes every entry."""
    customers = _stamped(
        [attrs.evolve(c, id=f"{c.id}-{n:03d}") for n in range(40) for c in sample_customers()]
    )
    rows = index_module.index_rows(IndexSet.of(), customers)
    assert len(rows) >= index_module.COPY_ROWS
    t = sql_backend.begin()
    t.insert("customer", customers)
    t.commit()
    assert _index_rows(sql_backend) == set(rows)
    query = Query(where=Field("tags") == "vip", order_by=("-person.name.family",), limit=50)
    assert _answers(sql_backend, query)[0] == [c.id for c in query.apply(customers)]


def test_explain_says_where_each_leaf_runs(sql_backend: SqlBackend) -> None:
    """explain() names the leaves answered by a key column, the index table, or the document."""
    query = Query(
        where=(Field("tags") == "vip")
        & (Field("lifecycle_stage") == "client")
        & (Field("notes") == "x"),
        order_by=("person.name.family", "display_name"),
    )
    plan = sql_backend.explain("customer", query)
    assert [(s.path, s.where) for s in plan.filters] == [
        ("tags", "index"),
        ("lifecycle_stage", "column"),
        ("notes", "document"),
    ]
    assert [(s.path, s.where) for s in plan.orders] == [
        ("person.name.family", "index"),
        ("display_name", "column"),
    ]
    assert plan.ordered_in_sql
    assert plan.exact
    assert plan.python_paths == ()
    assert sql_backend.explain("customer", Query(where=Field("tags") == "vip")).exact


def test_every_default_path_filters_in_sql(sql_backend: SqlBackend) -> None:
    """A comparison on each default indexed path runs in SQL; the kit's index queries are exact."""
    for path in DEFAULT_INDEXED_PATHS:
        assert sql_backend.explain("customer", Query(where=Field(path).is_null())).exact, path
    for name, query in CUSTOMER_QUERIES.items():
        if name.startswith("index "):
            assert sql_backend.explain("customer", query).exact, name


# --------------------------------------------------------------------------- declared indexes


def test_declared_index_is_backfilled_and_used(sql_backend: SqlBackend) -> None:
    """A declared path is backfilled, kept on writes, used by queries, and read on reopening."""
    fact = ProfileFact(category=FactCategory.PREFERENCE, key="diet", value="素食")
    customers = _stamped(
        [
            attrs.evolve(c, facts=(fact,)) if i % 3 == 0 else c
            for i, c in enumerate(sample_customers())
        ]
    )
    t = sql_backend.begin()
    t.insert("customer", customers)
    t.commit()
    query = Query(where=Field("facts.value") == "素食", order_by=("display_name",))
    before = sql_backend.explain("customer", query)  # undeclared: the document, in SQL
    assert [s.where for s in before.filters] == ["document"]
    calls: list[tuple[int, int]] = []
    assert declare_index(sql_backend, "facts.value", progress=lambda d, n: calls.append((d, n)))
    assert calls[-1] == (len(customers), len(customers))
    assert not declare_index(sql_backend, "facts.value")
    assert [s.where for s in sql_backend.explain("customer", query).filters] == ["index"]
    expected = [c.id for c in query.apply(customers)]
    assert _answers(sql_backend, query) == (expected, len(expected))
    newcomer = _stamped([attrs.evolve(customers[1], id="new-one", facts=(fact,))])
    t = sql_backend.begin()
    t.insert("customer", newcomer)
    t.commit()
    assert "new-one" in _answers(sql_backend, query)[0]
    url = sql_backend.engine.url.render_as_string(hide_password=False)
    again = create_backend(url)
    try:
        assert again.index_set().declared == ("facts.value",)
        assert again.explain("customer", query).exact
    finally:
        again.close()


def test_a_path_that_cannot_be_indexed_is_refused(sql_backend: SqlBackend) -> None:
    """Declaring a decimal, a model or a misspelt path raises index.path_invalid."""
    for path in ("organisation.registered_capital.amount", "person", "person.surname"):
        with pytest.raises(ValidationError) as info:
            declare_index(sql_backend, path)
        assert info.value.codes == ("index.path_invalid",)


# --------------------------------------------------------------------------- migration 0003


def _database_at_0002(url: str, customers: list[Customer]) -> None:
    upgrade(url, revision="0002")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            rows = [record_row("customer", c) for c in customers]
            for row in rows:
                del row["doc_digest"]  # added by revision 0005
            connection.execute(insert(TABLES["customer"]), rows)
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_an_upgraded_database_answers_like_a_new_one(
    dialect: str, fresh_sql_url: Callable[[str], str]
) -> None:
    """Customers stored at revision 0002 are backfilled by the upgrade, with progress."""
    customers = _stamped(sample_customers())
    url = fresh_sql_url(dialect)
    _database_at_0002(url, customers)
    calls: list[tuple[int, int]] = []
    upgrade(url, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(len(customers), len(customers))]
    backend = create_backend(url)
    try:
        assert _index_rows(backend) == set(index_module.index_rows(IndexSet.of(), customers))
        for name, query in CUSTOMER_QUERIES.items():
            expected = [c.id for c in query.apply(customers)]
            assert _answers(backend, query)[0] == expected, name
    finally:
        backend.close()


class _Interrupted(Exception):
    pass


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_an_interrupted_backfill_resumes(
    dialect: str, fresh_sql_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill stopped after a batch is refused by backends, then resumed to the same rows."""
    customers = _stamped(sample_customers())
    url = fresh_sql_url(dialect)
    _database_at_0002(url, customers)
    monkeypatch.setattr(index_module, "BACKFILL_BATCH", 10)

    def stop(done: int, total: int) -> None:
        raise _Interrupted

    with pytest.raises(_Interrupted):
        upgrade(url, progress=stop)
    backend = create_backend(url, migrate=False)
    try:
        with pytest.raises(SchemaOutdated, match="backfilled") as refused:
            _answers(backend, Query(where=Field("tags") == "vip"))
        assert refused.value.code == "storage.schema_outdated"
        assert len({row[0] for row in _index_rows(backend)}) <= 10
    finally:
        backend.close()
    calls: list[tuple[int, int]] = []
    upgrade(url, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(20, len(customers)), (len(customers), len(customers))]
    backend = create_backend(url, migrate=False)
    try:
        assert _index_rows(backend) == set(index_module.index_rows(IndexSet.of(), customers))
        query = Query(where=Field("tags") == "vip", order_by=("person.name.family",))
        assert _answers(backend, query)[0] == [c.id for c in query.apply(customers)]
    finally:
        backend.close()


@pytest.mark.parametrize("dialect", ["sqlite"])
def test_a_backend_on_an_old_schema_refuses_queries(
    dialect: str, fresh_sql_url: Callable[[str], str]
) -> None:
    """A backend over a revision-0002 database raises StorageError instead of scanning."""
    url = fresh_sql_url(dialect)
    upgrade(url, revision="0002")
    backend = SqlBackend(make_engine(url))
    try:
        with pytest.raises(StorageError, match="revision 0003"):
            _answers(backend, Query(where=Field("tags") == "vip"))
    finally:
        backend.close()


def test_the_cli_declares_an_index(tmp_path: Any) -> None:
    """`crmcore db index add PATH URL` declares and backfills; a bad path is a coded error."""
    from click.testing import CliRunner

    from crmcore.cli._app import app

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", url]).exit_code == 0
    result = runner.invoke(app, ["db", "index", "add", "facts.value", url])
    assert result.exit_code == 0, result.output
    assert "indexed facts.value" in result.output
    again = runner.invoke(app, ["db", "index", "add", "facts.value", url])
    assert "already indexed" in again.output
    bad = runner.invoke(app, ["db", "index", "add", "person", url])
    assert bad.exit_code != 0
    assert "index.path_invalid" in bad.output
    backend = create_backend(url)
    try:
        assert backend.index_set().declared == ("facts.value",)
    finally:
        backend.close()


# --------------------------------------------------------------------------- audience and month-day


def test_audience_and_month_day_filters_run_on_the_index(sql_backend: SqlBackend) -> None:
    """Kit audience and month-day queries run on the index and answer their known ids."""
    customers = audience_customers()
    t = sql_backend.begin()
    t.insert("customer", customers)
    t.commit()
    t = sql_backend.begin()
    try:
        for name, (query, ids) in AUDIENCE_QUERIES.items():
            plan = sql_backend.explain("customer", query)
            # Plain reachability (no purpose) is not indexed: it runs on the document.
            assert plan.exact, (name, plan)
            assert {c.id for c in t.query("customer", query)} == ids, name
            matching = Query(where=query.where).apply(customers)
            assert t.count("customer", query) == len(matching), name  # count ignores limits
            assert [c.id for c in t.query("customer", query)] == [
                c.id for c in query.apply(customers)
            ], name
    finally:
        t.rollback()


def test_a_backend_opened_before_a_declaration_writes_the_new_path(
    tmp_path: Any,
) -> None:
    """A store opened before ``declare_index`` writes the declared path's entries too."""
    url = f"sqlite:///{tmp_path / 'declared.db'}"
    old = create_backend(url)
    try:

        def add(customer_id: str) -> None:
            customer = attrs.evolve(
                Customer.person_named(family="甲", given="一", id=customer_id), notes="call back"
            )
            t = old.begin()
            t.insert("customer", [customer])
            t.commit()

        add("x1")
        old.index_set()  # the old backend has read its index set: no declared path
        declare_index(url, "notes")
        add("x2")
        new = create_backend(url)
        try:
            query = Query(where=Field("notes") == "call back")
            assert new.explain("customer", query).exact
            t = new.begin()
            assert [c.id for c in t.query("customer", query)] == ["x1", "x2"]
            assert t.count("customer", query) == 2
            t.rollback()
        finally:
            new.close()
    finally:
        old.close()


def test_consent_audiences_with_a_purpose_are_exact_sql(sql_backend: SqlBackend) -> None:
    """``Reachable`` with a purpose and every month-day window compile to the index."""
    for query in [
        Query(where=Reachable(channel="sms", purpose="marketing")),
        Query(where=~Reachable(channel="email", purpose="newsletter")),
        Query(where=Field("person.birthday").month_day_between("12-25", "01-07")),
    ]:
        assert sql_backend.explain("customer", query).exact, query
    plain = sql_backend.explain("customer", Query(where=Reachable(channel="sms")))
    assert plain.exact
    assert [s.where for s in plain.filters] == ["document"]
