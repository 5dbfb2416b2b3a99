"""Properties of merging imports (Hypothesis, memory backend, no normaliser)."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.models import Customer
from crmcore.serialization import to_dict
from crmcore.storage import ImportStatus, MemoryBackend, Store
from crmcore.storage.history import same_apart_from_bookkeeping
from crmcore.testing import strategies as cst

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_KEPT_WHEN_ABSENT = ("grade", "owner", "notes", "lifecycle_stage", "acquired_on", "key_dates")


def _stored(customer: Customer) -> tuple[Store, Customer]:
    store = Store(MemoryBackend(), normaliser=None)
    with store.unit_of_work() as uow:
        saved = uow.customers.add(attrs.evolve(customer, version=0))
        uow.commit()
    return store, saved


def _row(customer: Customer, keep: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = to_dict(customer)
    required = {"id", "kind", "display_name", "person", "organisation"}
    return {k: v for k, v in data.items() if k in keep | required and k != "version"}


@SETTINGS
@given(customer=cst.customers())
def test_re_importing_a_stored_customer_in_merge_mode_is_unchanged(customer: Customer) -> None:
    """Merging a customer's own serialised form into it changes nothing."""
    store, saved = _stored(customer)
    row = _row(saved, set(to_dict(saved)))
    [outcome] = store.import_customers([row]).outcomes
    assert outcome.status is ImportStatus.UNCHANGED, outcome
    with store.unit_of_work() as uow:
        assert uow.customers.get(saved.id) == saved


@SETTINGS
@given(stored=cst.customers(), other=cst.customers(), data=st.data())
def test_fields_absent_from_a_row_stay_as_stored(
    stored: Customer, other: Customer, data: st.DataObject
) -> None:
    """Whatever a row changes, the top-level fields it does not have keep their values."""
    store, saved = _stored(stored)
    absent = set(data.draw(st.sets(st.sampled_from(_KEPT_WHEN_ABSENT))))
    given_fields = set(_KEPT_WHEN_ABSENT) - absent
    row = _row(other, given_fields)
    row.update(id=saved.id, kind=saved.kind.value, display_name=saved.display_name)
    row["person"] = to_dict(saved)["person"]
    row["organisation"] = to_dict(saved)["organisation"]
    [outcome] = store.import_customers([row]).outcomes
    assert outcome.status is not ImportStatus.REJECTED, outcome
    with store.unit_of_work() as uow:
        after = uow.customers.get(saved.id)
    for name in absent:
        assert getattr(after, name) == getattr(saved, name), name
    for name in given_fields - {"key_dates"}:
        assert getattr(after, name) == getattr(other, name), name
    if outcome.status is ImportStatus.UNCHANGED:
        assert same_apart_from_bookkeeping(after, saved)
