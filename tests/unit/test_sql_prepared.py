"""What the SQL backend's import workers prepare (``sqlalchemy/_documents.WorkerPreparer``).

A worker makes a customer's document parts, search columns and index rows before the
import stamps its version and timestamps; the importing process writes them as they
came. They must equal what the importing process makes of the stamped customer (the
reference, which it uses with fast paths off, or for another index set).
"""

from __future__ import annotations

import datetime as dt
import pickle

import attrs
from hypothesis import given, settings

from crmcore._fastpaths import set_fast_paths
from crmcore.models import Customer, Phone
from crmcore.storage._parallel import Ready, Stamped
from crmcore.storage.indexing import IndexSet
from crmcore.storage.sqlalchemy import _index
from crmcore.storage.sqlalchemy._codec import encode
from crmcore.storage.sqlalchemy._documents import WorkerPreparer, join_document, stamped_rows
from crmcore.storage.sqlalchemy._rows import customer_row
from crmcore.storage.sqlalchemy._search import search_columns
from crmcore.testing.strategies import customers

STAMP = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DECLARED = ("facts.value", "phones.verified")


def _stamped(customer: Customer) -> Customer:
    return attrs.evolve(customer, version=1, created_at=STAMP, updated_at=STAMP)


@settings(max_examples=60, deadline=None)
@given(customer=customers())
def test_what_a_worker_prepares_is_what_the_importing_process_makes(customer: Customer) -> None:
    previous = set_fast_paths(True)
    try:
        made = pickle.loads(pickle.dumps(WorkerPreparer(DECLARED)(customer)))
    finally:
        set_fast_paths(previous)
    assert made is not None
    parts, search, declared, rows, _ = made
    stamped = _stamped(customer)
    index_set = IndexSet.of(DECLARED)
    set_fast_paths(False)
    try:
        reference = _index.index_rows(index_set, [stamped])
        reference_search = search_columns(stamped)
    finally:
        set_fast_paths(previous)
    assert declared == index_set.declared
    assert rows == reference
    assert search == reference_search
    if parts is not None:
        assert join_document(parts, 1, STAMP, STAMP) == encode(stamped)


@settings(max_examples=60, deadline=None)
@given(customer=customers())
def test_rows_joined_from_a_workers_parts_are_the_stamped_customers_rows(
    customer: Customer,
) -> None:
    """stamped_rows gives customer_row and the index rows of the stamped customer, legacy
    creation times included; without parts or for another index set it gives nothing."""
    previous = set_fast_paths(True)
    try:
        made = pickle.loads(pickle.dumps(WorkerPreparer(DECLARED)(customer)))
    finally:
        set_fast_paths(previous)
    ready = Ready(customer.id, customer.created_at, pickle.dumps(customer))
    later = max(STAMP, customer.created_at)
    batch = [Stamped(ready, made, STAMP, STAMP), Stamped(ready, made, customer.created_at, later)]
    index_set = IndexSet.of(DECLARED)
    joined = stamped_rows(batch, index_set.declared)
    if made is None or made[0] is None:
        assert joined is None
        return
    assert joined is not None
    set_fast_paths(False)
    try:
        references = [s.customer() for s in batch]
        rows = [customer_row(c, encode(c)) for c in references]
        entries = _index.index_rows(index_set, references)
    finally:
        set_fast_paths(previous)
    assert joined == (rows, entries)
    assert stamped_rows(batch, ("tags",)) is None


def test_rows_made_for_another_index_set_are_made_again() -> None:
    """A path declared after the pool started: the importing process makes the rows."""
    customer = Customer.person_named(
        family="欧阳", given="娜", phones=(Phone(number="+8613812345678"),), tags=("会员",)
    )
    previous = set_fast_paths(True)
    try:
        made = WorkerPreparer(())(customer)
        now = IndexSet.of(["phones.verified"])
        assert made is not None
        assert made[2] == ()
        rows = _index.prepared_rows(now, [customer], {customer.id: made})
        assert rows == _index.index_rows(now, [customer])
        assert any(r[1] == "phones.verified" for r in rows)
        # made for this set: taken as they came
        assert _index.prepared_rows(IndexSet.of(), [customer], {customer.id: made}) == made[3]
    finally:
        set_fast_paths(previous)


def test_an_index_on_a_stamped_field_is_left_to_the_importing_process() -> None:
    customer = Customer.person_named(family="李", given="伟")
    previous = set_fast_paths(True)
    try:
        made = WorkerPreparer(("created_at",))(customer)
    finally:
        set_fast_paths(previous)
    assert made is not None
    assert made[2] is None
    assert made[3] is None


def test_with_fast_paths_off_a_worker_prepares_nothing() -> None:
    previous = set_fast_paths(False)
    try:
        assert WorkerPreparer(DECLARED)(Customer.person_named(family="王", given="芳")) is None
    finally:
        set_fast_paths(previous)
