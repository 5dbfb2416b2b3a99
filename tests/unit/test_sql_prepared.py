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
from crmcore.storage.indexing import IndexSet
from crmcore.storage.sqlalchemy import _index
from crmcore.storage.sqlalchemy._documents import WorkerPreparer, join_document
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
    parts, search, declared, rows = made
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
        from crmcore.storage.sqlalchemy._codec import encode

        assert join_document(parts, 1, STAMP, STAMP) == encode(stamped)


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
