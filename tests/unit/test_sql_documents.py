"""A customer's document split around its version and timestamps (sqlalchemy/_documents.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore._fastpaths import set_fast_paths
from crmcore.models import Customer
from crmcore.storage.sqlalchemy import _codec
from crmcore.storage.sqlalchemy._documents import document_parts, join_document
from crmcore.testing.strategies import aware_datetimes, customers


@pytest.fixture(autouse=True)
def _fast_paths_on() -> Iterator[None]:
    """The split is a fast path: these tests check it, whatever CRMCORE_NO_FAST_PATHS says."""
    previous = set_fast_paths(True)
    try:
        yield
    finally:
        set_fast_paths(previous)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customer=customers(),
    version=st.integers(min_value=1, max_value=2**31 - 1),
    created=aware_datetimes(),
    later=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=400)),
)
def test_joined_parts_are_the_stamped_customers_document(
    customer: Customer, version: int, created: dt.datetime, later: dt.timedelta
) -> None:
    """The parts a worker makes, joined with any stamp, are encode() of the stamped customer."""
    parts = document_parts(customer)
    assert parts is not None
    updated = created + later
    stamped = attrs.evolve(customer, version=version, created_at=created, updated_at=updated)
    assert join_document(parts, version, created, updated) == _codec.encode(stamped)


def test_names_that_look_like_the_fields_do_not_move_the_split() -> None:
    tricky = Customer.person_named(family='王,"version":7', given='芳\\","created_at":"x')
    tricky = attrs.evolve(tricky, display_name='"updated_at":"2020-01-01T00:00:00+00:00"')
    parts = document_parts(tricky)
    assert parts is not None
    at = dt.datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    stamped = attrs.evolve(tricky, version=1, created_at=at, updated_at=at)
    assert join_document(parts, 1, at, at) == _codec.encode(stamped)


def test_with_fast_paths_off_nothing_is_split() -> None:
    customer = Customer.person_named(family="李", given="娜")
    set_fast_paths(False)
    assert document_parts(customer) is None
    set_fast_paths(True)
    assert document_parts(customer) is not None
