"""The memory backend's dictionary indexes: the same answers as a scan, kept at commit only."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore._fastpaths import set_fast_paths
from crmcore.errors import ConcurrencyConflict
from crmcore.models import Consent, Customer, LifecycleStage, OptOut, Phone
from crmcore.query import (
    And,
    AnyFilter,
    Compare,
    Field,
    MonthDay,
    Not,
    Op,
    Or,
    Query,
    Reachable,
    resolve_path,
)
from crmcore.query.audience import CHANNELS
from crmcore.storage.indexing import DEFAULT_INDEXED_PATHS, IndexSet
from crmcore.storage.memory import KEY_PATHS, CustomerIndex, MemoryBackend
from crmcore.testing.strategies import customers

PATHS = (*DEFAULT_INDEXED_PATHS, *KEY_PATHS, "display_name", "grade", "phones.kind")
MONTH_DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2000, 12, 31)).map(
    lambda d: d.strftime("%m-%d")
)
DATE_PATHS = [
    "person.birthday",
    "person.family_members.birthday",
    "organisation.contact_persons.birthday",
    "key_dates.date",
    "acquired_on",
]


@pytest.fixture(autouse=True)
def _fast_paths_on() -> Iterator[None]:
    previous = set_fast_paths(True)
    yield
    set_fast_paths(previous)


def _unique(batch: list[Customer]) -> list[Customer]:
    return [attrs.evolve(c, id=f"c{i:03d}-{uuid.uuid4().hex[:6]}") for i, c in enumerate(batch)]


def _values(batch: list[Customer], path: str) -> list[Any]:
    resolved = resolve_path(Customer, path)
    return [v for c in batch for v in resolved.values(c) if v is not None]


@st.composite
def _filters(draw: st.DrawFn, batch: list[Customer], depth: int = 0) -> AnyFilter:
    kind = draw(
        st.sampled_from(
            ["eq", "contains", "in", "month_day", "reachable", "ordered"]
            + (["and", "or", "not"] if depth < 2 else [])
        )
    )
    if kind in ("and", "or", "not"):
        parts = draw(st.lists(_filters(batch, depth + 1), min_size=0, max_size=3))
        if kind == "not":
            return Not(filter=parts[0] if parts else Field("tags") == "vip")
        return And(filters=tuple(parts)) if kind == "and" else Or(filters=tuple(parts))
    if kind == "month_day":
        return MonthDay(
            path=draw(st.sampled_from(DATE_PATHS)), start=draw(MONTH_DAYS), end=draw(MONTH_DAYS)
        )
    if kind == "reachable":
        return Reachable(
            channel=draw(st.sampled_from(CHANNELS)),
            purpose=draw(st.sampled_from([None, "marketing", "newsletter", "营销短信"])),
        )
    path = draw(st.sampled_from(PATHS))
    present = _values(batch, path)
    if not present:
        return Field(path).is_null()
    value = draw(st.sampled_from(present))
    field = Field(path)
    if kind == "in":
        return field.in_(draw(st.lists(st.sampled_from(present), min_size=1, max_size=3)))
    if kind == "contains" and resolve_path(Customer, path).many:
        return field.contains(value)
    if kind == "ordered":
        return Compare(op=Op.GE, path=path, value=value)
    return field.eq(value)


def _scan(backend: MemoryBackend, query: Query) -> tuple[list[str], int]:
    previous = set_fast_paths(False)
    try:
        tx = backend.begin()
        found = [c.id for c in tx.query("customer", query)]
        count = tx.count("customer", query)
        tx.rollback()
    finally:
        set_fast_paths(previous)
    return found, count


def _store(batch: list[Customer], **options: Any) -> MemoryBackend:
    backend = MemoryBackend(**options)
    tx = backend.begin()
    tx.insert("customer", batch)
    tx.commit()
    return backend


@settings(max_examples=80, deadline=None)
@given(data=st.data(), batch=st.lists(customers(), min_size=1, max_size=6).map(_unique))
def test_indexed_answers_equal_the_scan_and_the_reference(
    data: st.DataObject, batch: list[Customer]
) -> None:
    """Every generated filter returns exactly Query.apply, with and without the index."""
    backend = _store(batch)
    where = data.draw(_filters(batch))
    query = Query(where=where, order_by=("display_name",))
    tx = backend.begin()
    found = [c.id for c in tx.query("customer", query)]
    count = tx.count("customer", query)
    tx.rollback()
    expected = [c.id for c in query.apply(batch)]
    assert found == expected
    assert count == len(expected)
    assert _scan(backend, query) == (expected, len(expected))


@settings(max_examples=80, deadline=None)
@given(data=st.data(), batch=st.lists(customers(), min_size=1, max_size=6).map(_unique))
def test_candidates_hold_every_match(data: st.DataObject, batch: list[Customer]) -> None:
    """The index never leaves out a customer the filter matches (candidates are a superset)."""
    index = CustomerIndex(IndexSet.of())
    for customer in batch:
        index.put(customer.id, index.keys_of(customer))
    where = data.draw(_filters(batch))
    compiled = Query(where=where).compile(Customer)
    ids = index.candidates(where)
    matched = {c.id for c in batch if compiled.predicate(c)}
    if ids is not None:
        assert matched <= ids


@settings(max_examples=40, deadline=None)
@given(
    batch=st.lists(customers(), min_size=1, max_size=5).map(_unique),
    changes=st.lists(st.tuples(st.integers(0, 4), customers() | st.none()), max_size=6),
)
def test_the_index_equals_one_built_from_scratch(
    batch: list[Customer], changes: list[tuple[int, Customer | None]]
) -> None:
    """After updates and deletions, the index is what indexing the committed state gives."""
    backend = _store(batch)
    for position, replacement in changes:
        tx = backend.begin()
        target = tx.get("customer", batch[position % len(batch)].id)
        if target is None:
            tx.rollback()
            continue
        if replacement is None:
            tx.delete("customer", target.id, expected_version=target.version)
        else:
            new = attrs.evolve(replacement, id=target.id, version=target.version + 1)
            tx.update("customer", new, expected_version=target.version)
        tx.commit()
    backend._index.refresh()
    fresh = CustomerIndex(IndexSet.of())
    for record in backend._records["customer"].values():
        assert isinstance(record, Customer)
        fresh.put(record.id, fresh.keys_of(record))
    assert backend._index._ids == fresh._ids
    assert backend._index._keys == fresh._keys
    assert all(backend._index._ids.values())  # no empty id sets left behind


# --------------------------------------------------------------------------- transactions

VIP = Query(where=Field("tags").contains("vip"), order_by=("display_name",))


def _named(given: str, *tags: str, **fields: Any) -> Customer:
    return Customer.person_named(family="王", given=given, id=f"id-{given}", tags=tags, **fields)


def _ids(backend_or_tx: Any, query: Query = VIP) -> list[str]:
    if isinstance(backend_or_tx, MemoryBackend):
        tx = backend_or_tx.begin()
        try:
            return [c.id for c in tx.query("customer", query)]
        finally:
            tx.rollback()
    return [c.id for c in backend_or_tx.query("customer", query)]


def test_own_writes_are_seen_before_commit_and_others_are_not() -> None:
    """A transaction sees its own inserts, updates and deletions; others see them at commit."""
    backend = _store([_named("一", "vip"), _named("二", "vip"), _named("三")])
    tx = backend.begin()
    tx.insert("customer", [_named("四", "vip")])
    one = tx.get("customer", "id-一")
    three = tx.get("customer", "id-三")
    assert isinstance(one, Customer)
    assert isinstance(three, Customer)
    tx.update("customer", attrs.evolve(one, tags=(), version=1), expected_version=0)
    tx.update("customer", attrs.evolve(three, tags=("vip",), version=1), expected_version=0)
    tx.delete("customer", "id-二", expected_version=0)
    assert _ids(tx) == ["id-三", "id-四"]
    assert tx.count("customer", VIP) == 2
    assert _ids(backend) == ["id-一", "id-二"]  # not committed: the others see the old state
    tx.commit()
    assert _ids(backend) == ["id-三", "id-四"]


def test_rollback_and_a_failed_commit_leave_the_index_alone() -> None:
    """Neither a rolled-back transaction nor a conflicting commit changes the index."""
    backend = _store([_named("一", "vip")])
    backend._index.refresh()
    before = {k: set(v) for k, v in backend._index._ids.items()}
    tx = backend.begin()
    tx.insert("customer", [_named("二", "vip")])
    tx.rollback()
    backend._index.refresh()
    assert backend._index._ids == before
    first, second = backend.begin(), backend.begin()
    for tx in (first, second):
        current = tx.get("customer", "id-一")
        assert isinstance(current, Customer)
        tx.update(
            "customer", attrs.evolve(current, tags=("vip", "b2b"), version=1), expected_version=0
        )
    second.insert("customer", [_named("三", "vip")])
    first.commit()
    backend._index.refresh()
    after_first = {k: set(v) for k, v in backend._index._ids.items()}
    with pytest.raises(ConcurrencyConflict):
        second.commit()
    backend._index.refresh()
    assert backend._index._ids == after_first
    assert _ids(backend) == ["id-一"]


def test_a_withdrawal_moves_the_customer_out_of_the_audience() -> None:
    """Committing a withdrawal after a grant removes the audience key."""
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    grant = Consent(purpose="marketing", granted=True, recorded_at=at)
    phone = Phone(number="+8613800138000", consents=(grant,))
    backend = _store([_named("一", phones=(phone,))])
    audience = Query(where=Reachable(channel="sms", purpose="marketing"))
    assert _ids(backend, audience) == ["id-一"]
    tx = backend.begin()
    current = tx.get("customer", "id-一")
    assert isinstance(current, Customer)
    withdrawn = attrs.evolve(
        phone,
        consents=(grant, attrs.evolve(grant, granted=False, recorded_at=at + dt.timedelta(1))),
    )
    tx.update("customer", attrs.evolve(current, phones=(withdrawn,), version=1), expected_version=0)
    assert _ids(tx, audience) == []
    tx.commit()
    assert _ids(backend, audience) == []
    assert _ids(backend, Query(where=Reachable(channel="sms"))) == ["id-一"]
    tx = backend.begin()
    current = tx.get("customer", "id-一")
    assert isinstance(current, Customer)
    out = attrs.evolve(withdrawn, opt_outs=(OptOut.ALL,))
    tx.update("customer", attrs.evolve(current, phones=(out,), version=2), expected_version=1)
    tx.commit()
    assert _ids(backend, Query(where=Reachable(channel="sms"))) == []


def test_the_index_narrows_the_records_read() -> None:
    """Selective indexed filters read only their candidates; other filters read everything."""
    batch = [
        _named(f"{i}", *(("vip",) if i % 10 == 0 else ()), lifecycle_stage=LifecycleStage.PROSPECT)
        for i in range(100)
    ]
    backend = _store(batch)
    tx = backend.begin()
    assert len(tx._candidates("customer", VIP)) == 10
    narrowed = Query(where=(Field("tags") == "vip") & (Field("display_name") != "王0"))
    assert len(tx._candidates("customer", narrowed)) == 10
    assert (
        len(tx._candidates("customer", Query(where=Not(filter=Field("tags").contains("vip")))))
        == 100
    )
    assert len(tx._candidates("customer", Query(where=Field("display_name") == "王1"))) == 100
    stage = Query(where=Field("lifecycle_stage") == "client")
    assert tx._candidates("customer", stage) == []
    set_fast_paths(False)
    assert len(tx._candidates("customer", VIP)) == 100
    tx.rollback()


def test_declared_indexes_are_used() -> None:
    """A backend built with a declared path indexes it too."""
    batch = [_named(f"{i}", grade="A" if i == 3 else "B") for i in range(20)]
    backend = _store(batch, indexes=IndexSet.of(["grade"]))
    tx = backend.begin()
    query = Query(where=Field("grade") == "A")
    assert [c.id for c in tx._candidates("customer", query)] == ["id-3"]
    assert [c.id for c in tx.query("customer", query)] == ["id-3"]
    tx.rollback()
