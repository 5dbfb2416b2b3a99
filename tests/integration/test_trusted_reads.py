"""Trusted reads: rows the store wrote are read without re-running the checks; others are checked.

The fast path (the codec's trusted reader, chosen per row by ``doc_digest``) and its
reference (the checked reader, ``_codec.decode``) must give identical records, field for
field and type for type; a row whose document was edited by hand or corrupted must be
reported with a coded ``ValidationError``, never loaded.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from unittest import mock

import attrs
import pytest
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import column, insert, inspect, select, table, update
from tests.conftest import SQL_DIALECTS

from crmcore._fastpaths import fast_paths_enabled, set_fast_paths
from crmcore.errors import ValidationError
from crmcore.models import Customer, LifecycleStage, Model, PersonName, Phone, replace
from crmcore.models._types import ModelType, field_types
from crmcore.query import Field, Query
from crmcore.storage.ports import RECORD_TYPES, Backend, Record, RecordKind
from crmcore.storage.sqlalchemy import (
    COPY_THRESHOLD,
    TABLES,
    _backend,
    _codec,
    _rows,
    _trusted,
    alembic_config,
    create_backend,
    make_engine,
    upgrade,
)
from crmcore.storage.sqlalchemy._rows import record_row
from crmcore.testing import strategies as cst

KINDS: dict[type, RecordKind] = {cls: kind for kind, cls in RECORD_TYPES.items()}
RECORDS = st.one_of(cst.customers(), cst.interactions(), cst.complaints(), cst.purchases())
T0 = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def assert_identical(fast: object, checked: object, path: str = "$") -> None:
    """``fast`` and ``checked`` are equal field for field, with the same types throughout.

    Stricter than ``==``: ``True == 1``, ``Decimal("1.0") == Decimal("1")`` and two
    datetimes at one instant in different offsets are equal, but not identical here.
    """
    assert type(fast) is type(checked), f"{path}: {type(fast)} is not {type(checked)}"
    if attrs.has(type(fast)):
        for field in attrs.fields(type(fast)):  # type: ignore[arg-type]
            assert_identical(
                getattr(fast, field.name), getattr(checked, field.name), f"{path}.{field.name}"
            )
    elif isinstance(fast, tuple | list):
        assert isinstance(checked, tuple | list)
        assert len(fast) == len(checked), path
        for index, (a, b) in enumerate(zip(fast, checked, strict=True)):
            assert_identical(a, b, f"{path}[{index}]")
    elif isinstance(fast, Decimal):
        assert isinstance(checked, Decimal)
        assert fast.as_tuple() == checked.as_tuple(), path
    elif isinstance(fast, dt.datetime):
        assert isinstance(checked, dt.datetime)
        assert (fast, fast.utcoffset(), fast.fold) == (checked, checked.utcoffset(), checked.fold)
    else:
        assert fast == checked, path


@pytest.fixture
def fast_paths_on() -> Iterator[None]:
    """The fast paths are on for the test (even in CI's run with the switch set)."""
    previous = set_fast_paths(True)
    yield
    set_fast_paths(previous)


def checked_reads() -> Any:
    """Count the documents read by the checked reader (``_codec.decode``) in the block."""
    return mock.patch.object(_trusted, "decode", wraps=_codec.decode)


def every_read(backend: Backend, kind: RecordKind, ids: list[str]) -> list[list[Record]]:
    """What get, get_many, scan, a find, keyset pages and a document-ordered find return."""
    t = backend.begin()
    try:
        by_get = [t.get(kind, i) for i in ids]
        by_many = t.get_many(kind, ids)
        scanned = list(t.scan(kind, batch_size=2))
        found = t.query(kind, Query(order_by=(Field("id").asc(),)))
        pages: list[Record] = []
        page_query: Query | None = Query(order_by=(Field("created_at").desc(),), limit=2)
        while page_query is not None:
            page = t.query(kind, page_query)
            pages.extend(page)
            page_query = page_query.next_page(page) if page else None
        by_document = t.query(kind, Query(order_by=(Field("version").asc(), Field("id").asc())))
    finally:
        t.rollback()
    return [
        [r for r in by_get if r is not None],
        [by_many[i] for i in ids],
        scanned,
        found,
        pages,
        by_document,
    ]


# --------------------------------------------------------------------------- the codec


@settings(max_examples=300, deadline=None)
@given(record=RECORDS)
def test_the_trusted_reader_builds_what_the_checked_reader_builds(record: Model) -> None:
    """On every document the store writes, the trusted reader's record is the checked one's."""
    previous = set_fast_paths(True)
    try:
        text = _codec.encode(record)
        checked = _codec.decode(text, type(record))
        fast = _codec.trusted_reader(type(record))(json.loads(text))
        assert_identical(fast, checked)
        assert fast == record  # JSON keeps no fold: identical to the checked read, equal to this
        assert _trusted.stored_reader(type(record))(text, _trusted.digest(text)) == record
    finally:
        set_fast_paths(previous)


def _models_in(value: object) -> Iterator[object]:
    """``value`` and every model instance inside it."""
    if attrs.has(type(value)):
        yield value
        for field in attrs.fields(type(value)):  # type: ignore[arg-type]
            yield from _models_in(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _models_in(item)


def _model_classes(cls: type, seen: set[type]) -> set[type]:
    """``cls`` and every model class its fields can hold."""
    if cls in seen or not attrs.has(cls):
        return seen
    seen.add(cls)
    nodes = list(field_types(cls, strict=False).values())
    while nodes:
        node = nodes.pop()
        if isinstance(node, ModelType):
            _model_classes(node.cls, seen)
        nodes.extend(node.children())
    return seen


def test_every_stored_model_is_built_with_plain_stores() -> None:
    """Each model class a stored record holds has a builder subclass of the same layout."""
    classes: set[type] = set()
    for cls in RECORD_TYPES.values():
        _model_classes(cls, classes)
    assert {Customer, Phone, PersonName} <= classes
    for cls in classes:
        if _codec._settable(cls):
            builder = _codec._builder(cls)
            assert builder is not None, cls
            assert issubclass(builder, cls)
            assert builder.__slots__ == ()


@settings(max_examples=150, deadline=None)
@given(record=RECORDS)
def test_trusted_records_are_instances_of_the_model_itself_and_frozen(record: Model) -> None:
    """No builder subclass escapes the trusted reader: every value is of its model class,
    frozen, hashable and copyable as a constructed one is."""
    import copy
    import pickle

    previous = set_fast_paths(True)
    try:
        fast = _codec.trusted_reader(type(record))(json.loads(_codec.encode(record)))
    finally:
        set_fast_paths(previous)
    built = list(_models_in(fast))
    assert [type(m) for m in built] == [type(m) for m in _models_in(record)]
    for model in built:
        assert not type(model).__name__.startswith("_Build"), type(model)
        name = attrs.fields(type(model))[0].name  # type: ignore[arg-type]
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(model, name, getattr(model, name))
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            delattr(model, name)
    assert hash(fast) == hash(record)
    assert copy.copy(fast) == pickle.loads(pickle.dumps(fast)) == record


@settings(max_examples=100, deadline=None)
@given(record=RECORDS)
def test_the_row_digest_is_the_digest_of_the_row_document(record: Record) -> None:
    """Every row function stores, last, the digest of the document it stores."""
    row = record_row(KINDS[type(record)], record)
    assert list(row)[-1] == "doc_digest"
    assert row["doc_digest"] == _trusted.digest(row["doc"]) == _trusted.digest(row["doc"].encode())
    assert len(row["doc_digest"]) == _trusted.DIGEST_LENGTH


def test_the_remembered_document_belongs_to_the_record_asked_about() -> None:
    """doc_digest(r) is r's digest even when another record was encoded last."""
    first = Customer.person_named(family="张", given="伟")
    second = Customer.person_named(family="李", given="娜")
    _codec.encode(first)
    _codec.encode(second)
    assert _trusted.doc_digest(first) == _trusted.digest(_codec._encode(first))
    assert _trusted.doc_digest(first) != _trusted.doc_digest(second)


def test_the_digest_is_keyed_and_not_a_plain_hash() -> None:
    """A plain BLAKE2b (or any unkeyed hash) of the document is not its digest."""
    import hashlib

    text = _codec.encode(Customer.person_named(family="王", given="芳"))
    plain = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    assert _trusted.digest(text) != plain
    assert _trusted.digest(text + " ") != _trusted.digest(text)


def test_a_row_whose_digest_does_not_match_is_read_checked(fast_paths_on: None) -> None:
    """The trusted reader would accept a blank name; a stale digest sends it to the checks."""
    text = _codec.encode(Customer.person_named(family="张", given="伟"))
    mark = _trusted.digest(text)
    edited = text.replace('"display_name":"张伟"', '"display_name":" "')
    assert edited != text
    # the trusted reader itself checks nothing: that is why the digest must match
    blank = _codec.trusted_reader(Customer)(json.loads(edited))
    assert blank.display_name == " "
    with pytest.raises(ValidationError) as caught:
        _trusted.stored_reader(Customer)(edited, mark)
    assert ("value.blank", "$.display_name") in [(p.code, p.path) for p in caught.value.problems]


def test_with_fast_paths_off_every_row_is_read_checked(fast_paths_on: None) -> None:
    """Under CRMCORE_NO_FAST_PATHS a row with a matching digest is still read checked."""
    text = _codec.encode(Customer.person_named(family="张", given="伟"))
    mark = _trusted.digest(text)
    with checked_reads() as checked:
        _trusted.stored_reader(Customer)(text, mark)
    assert checked.call_count == 0
    set_fast_paths(False)
    assert not fast_paths_enabled()
    with checked_reads() as checked:
        _trusted.stored_reader(Customer)(text, mark)
    assert checked.call_count == 1


def test_a_class_whose_construction_does_more_than_checks_is_constructed() -> None:
    """A model with an attrs validator is read by calling it: the validator still runs."""

    def odd(instance: object, attribute: object, value: int) -> None:
        if value % 2 == 0:
            raise ValueError("even")

    @attrs.frozen(kw_only=True)
    class Odd(Model):
        number: int = attrs.field(validator=odd)

    reader = _codec.trusted_reader(Odd)
    assert reader({"number": 3}) == Odd(number=3)
    with pytest.raises(_codec.TRUSTED_ERRORS):
        reader({"number": 4})


def test_binary_copy_still_covers_every_record_table() -> None:
    """With doc_digest, PostgreSQL's binary COPY still knows every column's type."""
    for kind, records in TABLES.items():
        types = _rows.copy_types(records)
        assert types is not None, kind
        assert types[-1] == "text"
        assert list(records.columns)[-1].name == "doc_digest"


# --------------------------------------------------------------------------- every backend


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=st.lists(RECORDS, min_size=1, max_size=4, unique_by=lambda r: (type(r), r.id)))
def test_every_read_of_stored_rows_is_trusted_and_equals_the_checked_read(
    sql_backend: Backend, records: list[Record]
) -> None:
    """get, get_many, scan, find, keyset pages: trusted on stored rows, identical to checked."""
    previous = set_fast_paths(True)
    written: dict[RecordKind, list[Any]] = {}
    for record in records:
        written.setdefault(KINDS[type(record)], []).append(replace(record, version=1))
    t = sql_backend.begin()
    for kind, batch in written.items():
        t.insert(kind, batch)
    t.commit()
    try:
        for kind, batch in written.items():
            ids = [r.id for r in batch]
            with checked_reads() as checked:
                fast = every_read(sql_backend, kind, ids)
            assert checked.call_count == 0, "a row the store wrote was read checked"
            set_fast_paths(False)
            reference = every_read(sql_backend, kind, ids)
            set_fast_paths(True)
            assert_identical(fast, reference)
            assert sorted(fast[0], key=lambda r: r.id) == sorted(batch, key=lambda r: r.id)
    finally:
        t = sql_backend.begin()
        for kind, batch in written.items():
            for record in batch:
                t.delete(kind, record.id, expected_version=1)
        t.commit()
        set_fast_paths(previous)


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_a_large_batch_stores_the_digest_of_each_document(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    """Batches past the COPY threshold (binary COPY on PostgreSQL) store every digest too."""
    store = create_backend(sql_database(dialect))
    customers = [
        Customer.person_named(
            family="张", given=f"伟{i}", version=1, created_at=T0, updated_at=T0, id=f"c{i:04d}"
        )
        for i in range(COPY_THRESHOLD + 20)
    ]
    try:
        t = store.begin()
        t.insert("customer", customers)
        t.commit()
        table = TABLES["customer"]
        with store.engine.connect() as connection:
            rows = connection.execute(select(table.c.doc, table.c.doc_digest)).all()
        assert len(rows) == len(customers)
        assert all(mark == _trusted.digest(doc) for doc, mark in rows)
    finally:
        store.close()


def _stored_customer(backend: Backend) -> Customer:
    customer = Customer.person_named(
        family="张",
        given="伟",
        version=1,
        created_at=T0,
        updated_at=T0,
        tags=("vip", "北京"),
        phones=(Phone(number="+8613800138000"),),
        lifecycle_stage=LifecycleStage.REPEAT,
    )
    t = backend.begin()
    t.insert("customer", [customer])
    t.commit()
    return customer


def _edit_row(backend: Backend, record_id: str, **values: object) -> None:
    """Change a stored row by hand, in SQL, as a person with a database tool would."""
    table = TABLES["customer"]
    assert isinstance(backend, _backend.SqlBackend)
    with backend.engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == record_id).values(**values))


def _reads(t: Any, record_id: str) -> dict[str, Callable[[], object]]:
    return {
        "get": lambda: t.get("customer", record_id),
        "get_many": lambda: t.get_many("customer", [record_id]),
        "scan": lambda: list(t.scan("customer", batch_size=10)),
        "find": lambda: t.query("customer", Query(where=Field("display_name") != "", limit=5)),
        "page by name": lambda: t.query(
            "customer", Query(order_by=(Field("display_name").desc(),), limit=2)
        ),
        "find by document": lambda: t.query("customer", Query(order_by=(Field("notes").asc(),))),
    }


def _counted_in_python(query: Query) -> bool:
    """Whether the backend counts ``query`` by reading the rows (not by SQL ``COUNT``)."""
    from crmcore.storage.indexing import IndexSet
    from crmcore.storage.sqlalchemy import _query

    plan = _query.plan(query.compile(Customer), TABLES["customer"], IndexSet.of())
    return not plan.exact


def _doc_with(customer: Customer, change: Callable[[dict[str, Any]], object]) -> str:
    data = json.loads(_codec.encode(customer))
    change(data)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


HAND_EDITS = [
    pytest.param(lambda d: d.update(display_name=" "), "value.blank", "$.display_name", id="blank"),
    pytest.param(lambda d: d.update(surprise="x"), "field.unknown", "$.surprise", id="unknown key"),
    pytest.param(
        lambda d: d["phones"][0].update(primary="yes"),
        "type.invalid",
        "$.phones[0].primary",
        id="nested type",
    ),
    pytest.param(
        lambda d: d.update(lifecycle_stage="ghost"),
        "value.not_allowed",
        "$.lifecycle_stage",
        id="enum",
    ),
    pytest.param(
        lambda d: d.update(updated_at="2020-01-01T00:00:00+00:00"),
        "customer.updated_before_created",
        "$.updated_at",
        id="invariant",
    ),
]


@pytest.mark.parametrize(("change", "code", "path"), HAND_EDITS)
def test_a_hand_edited_row_is_reported_with_its_code_by_every_read(
    sql_backend: Backend,
    fast_paths_on: None,
    change: Callable[[dict[str, Any]], object],
    code: str,
    path: str,
) -> None:
    """Valid JSON with an invalid value, digest left as it was: every read raises the code."""
    customer = _stored_customer(sql_backend)
    _edit_row(sql_backend, customer.id, doc=_doc_with(customer, change))
    t = sql_backend.begin()
    try:
        for name, read in _reads(t, customer.id).items():
            with pytest.raises(ValidationError) as caught:
                read()
            found = [(p.code, p.path) for p in caught.value.problems]
            assert (code, path) in found, (name, found)
            # the error names the row, so it can be found and repaired
            assert caught.value.subject == f"Customer {customer.id!r} (stored customer row)"
            assert repr(customer.id) in str(caught.value)
        # count reads rows only where SQL cannot answer; there, the row is reported too
        vip = Query(where=Field("tags").contains("vip"))
        if _counted_in_python(vip):
            with pytest.raises(ValidationError) as caught:
                t.count("customer", vip)
            assert (code, path) in [(p.code, p.path) for p in caught.value.problems]
        else:
            assert t.count("customer", vip) == 1
    finally:
        t.rollback()


def test_a_truncated_document_is_invalid_json_not_a_driver_error(
    sql_backend: Backend, fast_paths_on: None
) -> None:
    """A document cut short (not JSON at all) is reported as json.invalid."""
    customer = _stored_customer(sql_backend)
    _edit_row(sql_backend, customer.id, doc=_codec.encode(customer)[:40])
    t = sql_backend.begin()
    try:
        with pytest.raises(ValidationError) as caught:
            t.get("customer", customer.id)
        assert caught.value.codes == ("json.invalid",)
        assert repr(customer.id) in str(caught.value.subject)
    finally:
        t.rollback()


def test_a_valid_hand_edit_is_read_checked_and_rewritten_trusted(
    sql_backend: Backend, fast_paths_on: None
) -> None:
    """A still-valid edit loads (checked); the store's next write of the row trusts it again."""
    customer = _stored_customer(sql_backend)
    _edit_row(sql_backend, customer.id, doc=_doc_with(customer, lambda d: d.update(notes="改过")))
    t = sql_backend.begin()
    with checked_reads() as checked:
        edited = t.get("customer", customer.id)
    assert checked.call_count == 1
    assert edited == attrs.evolve(customer, notes="改过")
    t.update("customer", attrs.evolve(edited, version=2), expected_version=1)
    t.commit()
    t = sql_backend.begin()
    try:
        with checked_reads() as checked:
            again = t.get("customer", customer.id)
        assert checked.call_count == 0
        assert again == attrs.evolve(customer, notes="改过", version=2)
    finally:
        t.rollback()


def test_a_row_without_a_digest_is_read_checked(sql_backend: Backend, fast_paths_on: None) -> None:
    """NULL (rows from before revision 0005) means checked: valid rows load, invalid ones raise."""
    customer = _stored_customer(sql_backend)
    _edit_row(sql_backend, customer.id, doc_digest=None)
    t = sql_backend.begin()
    with checked_reads() as checked:
        assert t.get("customer", customer.id) == customer
        assert list(t.scan("customer", batch_size=5)) == [customer]
    assert checked.call_count == 2
    t.rollback()
    _edit_row(
        sql_backend, customer.id, doc=_doc_with(customer, lambda d: d.update(display_name=""))
    )
    t = sql_backend.begin()
    try:
        with pytest.raises(ValidationError) as caught:
            t.get("customer", customer.id)
        assert ("value.blank", "$.display_name") in [
            (p.code, p.path) for p in caught.value.problems
        ]
    finally:
        t.rollback()


def test_a_forged_digest_on_a_different_document_is_not_trusted(
    sql_backend: Backend, fast_paths_on: None
) -> None:
    """Copying one row's digest onto another document does not make it trusted."""
    customer = _stored_customer(sql_backend)
    other = Customer.person_named(family="李", given="娜")
    _edit_row(sql_backend, customer.id, doc_digest=_trusted.doc_digest(other))
    t = sql_backend.begin()
    try:
        with checked_reads() as checked:
            assert t.get("customer", customer.id) == customer
        assert checked.call_count == 1
    finally:
        t.rollback()


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_rows_stored_before_revision_0005_keep_null_and_read_checked(
    dialect: str, fresh_sql_url: Callable[[str], str]
) -> None:
    """Upgrading adds the column without a backfill; old rows read checked, new rows trusted."""
    url = fresh_sql_url(dialect)
    before = ScriptDirectory.from_config(alembic_config()).get_revision("0005").down_revision
    assert isinstance(before, str)
    upgrade(url, revision=before)
    old = Customer.person_named(
        family="陈", given="静", version=1, created_at=T0, updated_at=T0, id="old"
    )
    engine = make_engine(url)
    try:
        existing = {c["name"] for c in inspect(engine).get_columns("crm_customer")}
        assert "doc_digest" not in existing
        row = {k: v for k, v in record_row("customer", old).items() if k in existing}
        with engine.begin() as connection:
            connection.execute(insert(table("crm_customer", *map(column, row))).values(row))
    finally:
        engine.dispose()
    store = create_backend(url)
    try:
        assert old.person is not None
        person = attrs.evolve(old.person, name=PersonName(family="周"))
        new = attrs.evolve(old, id="new", display_name="周", person=person)
        t = store.begin()
        t.insert("customer", [new])
        t.commit()
        customers = TABLES["customer"]
        with store.engine.connect() as connection:
            marks = dict(connection.execute(select(customers.c.id, customers.c.doc_digest)).all())
        assert marks["old"] is None
        assert marks["new"] == _trusted.doc_digest(new)
        previous = set_fast_paths(True)
        t = store.begin()
        try:
            with checked_reads() as checked:
                assert list(t.scan("customer", batch_size=10)) == [new, old]
            assert checked.call_count == 1
        finally:
            t.rollback()
            set_fast_paths(previous)
    finally:
        store.close()
