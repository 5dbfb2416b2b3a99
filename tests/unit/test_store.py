"""The Store application API and the in-memory backend, beyond what the kit checks."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ConcurrencyConflict, Problem, StorageError, ValidationError
from crmcore.models import ChangeOperation, Customer, CustomerKind, OrganisationProfile, Phone
from crmcore.query import Field, Query
from crmcore.serialization import to_dict
from crmcore.storage import (
    ImportStatus,
    MemoryBackend,
    Store,
    customer_versions,
    diff_customers,
    history_changes,
)
from crmcore.testing import TickingClock
from crmcore.testing import strategies as cst


def normalise_phones(customer: Customer) -> Customer:
    """A stand-in normaliser: strips spaces from phone numbers, refuses the tag 'spam'."""
    if "spam" in customer.tags:
        raise ValidationError([Problem(code="test.spam", path="$.tags", message="spam")])
    phones = tuple(attrs.evolve(p, number=p.number.replace(" ", "")) for p in customer.phones)
    return attrs.evolve(customer, phones=phones)


@pytest.fixture
def store() -> Store:
    return Store(MemoryBackend(), normaliser=normalise_phones, clock=TickingClock())


def zhang(**fields: object) -> Customer:
    return Customer.person_named(family="张", given="伟", **fields)


def test_normaliser_runs_on_add_update_and_import(store: Store) -> None:
    """Every customer write path stores the normaliser's result."""
    spaced = (Phone(number="+86 138 0013 8000"),)
    with store.unit_of_work() as uow:
        added = uow.customers.add(zhang(phones=spaced))
        uow.commit()
    assert added.phones[0].number == "+8613800138000"
    with store.unit_of_work() as uow:
        updated = uow.customers.update(
            attrs.evolve(added, phones=(Phone(number="+49 30 1234567"),))
        )
        uow.commit()
    assert updated.phones[0].number == "+49301234567"
    report = store.import_customers([zhang(phones=spaced)])
    imported_id = report.outcomes[0].id
    assert imported_id is not None
    with store.unit_of_work() as uow:
        assert uow.customers.get(imported_id).phones[0].number == "+8613800138000"


def test_normaliser_rejection_writes_nothing(store: Store) -> None:
    """A customer the normaliser rejects raises ValidationError and is not stored."""
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as info:
            uow.customers.add(zhang(tags=("spam",)))
        assert info.value.codes == ("test.spam",)
        assert uow.customers.count() == 0


def test_update_of_stale_customer_conflicts_before_writing(store: Store) -> None:
    """update() of a customer whose version moved on raises ConcurrencyConflict."""
    with store.unit_of_work() as uow:
        added = uow.customers.add(zhang())
        uow.commit()
    with store.unit_of_work() as uow:
        uow.customers.update(attrs.evolve(added, grade="B"))  # a change: a no-op writes nothing
        with pytest.raises(ConcurrencyConflict) as info:
            uow.customers.update(added)
    assert (info.value.expected_version, info.value.actual_version) == (1, 2)
    # the same unit of work made the newer version: the message must not blame another writer
    assert str(info.value) == (
        f"customer {added.id!r} was changed after this write read it "
        "(write based on version 1, stored version is 2)"
    )


def test_repository_refuses_other_models(store: Store) -> None:
    """Passing a customer to the purchases repository is a TypeError."""
    with store.unit_of_work() as uow, pytest.raises(TypeError):
        uow.purchases.add(zhang())  # type: ignore[arg-type]


def test_find_checks_the_query(store: Store) -> None:
    """find() and count() refuse a query that does not fit the model."""
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError):
            uow.customers.find(Query(where=Field("nope") == 1))
        with pytest.raises(ValidationError):
            uow.interactions.count(Query(where=Field("display_name") == "x"))


def test_diff_customers_lists_changed_leaves() -> None:
    """The diff holds one change per changed leaf path, with JSON old and new values."""
    old = zhang(tags=("vip",), phones=(Phone(id="p1", number="+1"),))
    new = attrs.evolve(old, tags=(), grade="A", phones=(Phone(id="p1", number="+2"),), version=9)
    changes = {c.path: (c.old, c.new) for c in diff_customers(old, new)}
    assert changes == {
        "$.grade": ("null", '"A"'),
        "$.phones[0].number": ('"+1"', '"+2"'),
        "$.tags": (None, "[]"),
        "$.tags[0]": ('"vip"', None),
    }
    assert diff_customers(old, old) == ()


def test_creation_history_is_small_and_removal_keeps_everything() -> None:
    """A creation records no values; a removal records the whole customer at $."""
    customer = zhang(phones=(Phone(number="+8613800138000"),))
    assert history_changes(None, customer) == ()
    [removal] = history_changes(customer, None)
    assert removal.path == "$"
    assert removal.new is None
    data = json.loads(removal.old or "")
    assert data["id"] == customer.id
    assert "version" not in data


def test_versions_are_rebuilt_from_updates_and_removal(store: Store) -> None:
    """customer_versions undoes updates (lists growing and shrinking) back to version 1."""
    with store.unit_of_work(actor="a") as uow:
        v1 = uow.customers.add(zhang(tags=("vip",)))
        uow.commit()
    edits: list[dict[str, Any]] = [
        {"phones": (Phone(id="p1", number="+8613800138000"),), "tags": ()},
        {"phones": (Phone(id="p1", number="+1"), Phone(id="p2", number="+2")), "grade": "A"},
        {"phones": (), "person": None, "kind": CustomerKind.ORGANISATION,
         "organisation": OrganisationProfile(legal_name="张伟有限公司")},
    ]  # fmt: skip
    written = [v1]
    for edit in edits:
        with store.unit_of_work() as uow:
            written.append(uow.customers.update(attrs.evolve(written[-1], **edit)))
            uow.commit()
    with store.unit_of_work() as uow:
        uow.customers.remove(written[-1])
        uow.commit()
        history = uow.customers.history(v1.id)
    versions = customer_versions(None, history)
    assert sorted(versions) == [1, 2, 3, 4]
    for record in written:
        expected = to_dict(record)
        for key in ("version", "created_at", "updated_at"):
            del expected[key]
        assert versions[record.version] == expected


@settings(max_examples=50, deadline=None)
@given(versions=st.lists(cst.customers(), min_size=2, max_size=4))
def test_any_sequence_of_versions_is_rebuilt(versions: list[Customer]) -> None:
    """For any sequence of updates, history rebuilds every version exactly."""
    store = Store(MemoryBackend(), clock=TickingClock(), normaliser=None)
    with store.unit_of_work() as uow:
        current = uow.customers.add(versions[0])
        written = [current]
        for later in versions[1:]:
            current = uow.customers.update(
                attrs.evolve(later, id=current.id, version=current.version)
            )
            written.append(current)
        uow.commit()
        rebuilt = customer_versions(current, uow.customers.history(current.id))
    for record in written:
        expected = to_dict(record)
        for key in ("version", "created_at", "updated_at"):
            del expected[key]
        assert rebuilt[record.version] == expected


def test_history_timestamps_come_from_the_clock() -> None:
    """Change records carry the store clock's time."""
    start = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    store = Store(MemoryBackend(), clock=TickingClock(start), normaliser=None)
    with store.unit_of_work(actor="ops") as uow:
        added = uow.customers.add(zhang())
        uow.commit()
        [record] = uow.customers.history(added.id)
    assert record.at > start
    assert record.operation is ChangeOperation.CREATED
    assert record.actor == "ops"


def test_store_without_history_records_none() -> None:
    """history=False skips change records (for benchmarks and migrations)."""
    store = Store(MemoryBackend(), history=False, normaliser=None)
    store.import_customers([zhang()])
    with store.unit_of_work() as uow:
        added = uow.customers.add(zhang())
        uow.commit()
        assert uow.customers.history(added.id) == []


def test_import_rejects_a_non_positive_batch_size(store: Store) -> None:
    """batch_size must be at least one."""
    with pytest.raises(ValueError, match="batch_size"):
        store.import_customers([], batch_size=0)


def test_import_problem_paths_point_into_the_record(store: Store) -> None:
    """A rejected mapping's problems carry $.paths into that record."""
    report = store.import_customers(
        [{"kind": "person", "display_name": "x", "person": {"name": {"family": 5}}}]
    )
    [outcome] = report.outcomes
    assert outcome.status is ImportStatus.REJECTED
    assert [p.path for p in outcome.problems] == ["$.person.name.family"]


def test_import_reports_every_record_of_an_empty_or_large_input(store: Store) -> None:
    """An empty import reports nothing; a large one reports one outcome per record."""
    assert store.import_customers([]).outcomes == ()
    report = store.import_customers(zhang(id=f"id-{n}") for n in range(1001))
    assert report.created == 1001
    assert report.ok


def test_store_is_a_context_manager_that_closes_the_backend() -> None:
    """Leaving a store's with-block closes its backend."""
    with Store(MemoryBackend(), normaliser=None) as store:
        pass
    with pytest.raises(StorageError), store.unit_of_work() as uow:
        uow.customers.count()


def test_finished_memory_transactions_refuse_work() -> None:
    """A committed or rolled-back memory transaction cannot be used again."""
    backend = MemoryBackend()
    tx = backend.begin()
    tx.commit()
    with pytest.raises(StorageError):
        tx.get("customer", "x")
    with pytest.raises(StorageError):
        tx.commit()
    tx.rollback()  # harmless


def test_memory_commit_conflict_changes_nothing() -> None:
    """A memory commit whose base version moved on raises and applies none of its writes."""
    backend = MemoryBackend()
    store = Store(backend, normaliser=None)
    with store.unit_of_work() as uow:
        a = uow.customers.add(zhang())
        b = uow.customers.add(zhang())
        uow.commit()
    first, second = backend.begin(), backend.begin()
    first.update("customer", attrs.evolve(a, version=2), expected_version=1)
    second.update("customer", attrs.evolve(a, version=2, grade="X"), expected_version=1)
    second.update("customer", attrs.evolve(b, version=2, grade="X"), expected_version=1)
    first.commit()
    with pytest.raises(ConcurrencyConflict):
        second.commit()
    check = backend.begin()
    assert check.get("customer", b.id) == b
    assert check.get("customer", a.id) == attrs.evolve(a, version=2)


def test_import_streams_outcomes_to_a_callback(store: Store) -> None:
    """With on_outcome each outcome goes to the callback; the report keeps counts, rejections."""
    received: list[ImportStatus] = []
    records: list[object] = [zhang(id=f"id-{n}") for n in range(5)]
    records.insert(2, {"kind": "robot"})
    report = store.import_customers(
        records,  # type: ignore[arg-type]
        batch_size=2,
        on_outcome=lambda outcome: received.append(outcome.status),
    )
    assert sorted(received) == sorted([ImportStatus.CREATED] * 5 + [ImportStatus.REJECTED])
    assert (report.created, report.rejected, report.total) == (5, 1, 6)
    assert [o.index for o in report.outcomes] == [2]
    assert report.rejections() == report.outcomes
