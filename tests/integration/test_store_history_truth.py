"""History tells the truth on every backend: lives of a re-created id, no-op updates, created_at."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import attrs
import pytest
from tests.integration._stores import BACKENDS, FIXED, open_store

from crmcore.errors import StorageError
from crmcore.models import ChangeOperation, ChangeRecord, Customer, FieldChange
from crmcore.serialization import to_dict
from crmcore.storage import ImportStatus, Store, customer_lives, customer_versions
from crmcore.storage.sqlalchemy import SqlBackend


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, sql_database: Callable[[str], str]) -> Iterator[Store]:
    """A store whose clock always says FIXED, so every history record ties on ``at``."""
    yield from open_store(request, sql_database, clock=lambda: FIXED)


def _graded(customer: Customer, grade: str) -> Customer:
    return attrs.evolve(customer, grade=grade)


def test_versions_of_an_id_removed_and_created_again(store: Store) -> None:
    """customer_versions gives the current life; customer_lives gives both, oldest first."""
    first = Customer.person_named(family="张", given="伟", grade="A", id="c-again")
    with store.unit_of_work() as uow:
        saved = uow.customers.add(first)
        saved = uow.customers.update(_graded(saved, "B"))
        uow.customers.remove(saved)
        uow.commit()
    second = Customer.person_named(family="李", given="娜", grade="X", id="c-again")
    with store.unit_of_work() as uow:
        again = uow.customers.add(second)
        again = uow.customers.update(_graded(again, "Y"))
        uow.commit()
    with store.unit_of_work() as uow:
        current = uow.customers.get("c-again")
        history = uow.customers.history("c-again")
    versions = customer_versions(current, history)
    assert [(n, v["grade"], v["display_name"]) for n, v in versions.items()] == [
        (1, "X", "李娜"),
        (2, "Y", "李娜"),
    ]
    lives = customer_lives(current, history)
    assert [[(n, v["grade"]) for n, v in life.items()] for life in lives] == [
        [(1, "A"), (2, "B")],
        [(1, "X"), (2, "Y")],
    ]


def test_versions_of_a_removed_id_are_its_last_life(store: Store) -> None:
    """After the second life is removed too, customer_versions(None, ...) is that life."""
    with store.unit_of_work() as uow:
        one = uow.customers.add(Customer.person_named(family="王", given="芳", grade="A", id="x"))
        uow.customers.remove(one)
        two = uow.customers.add(Customer.person_named(family="王", given="芳", grade="B", id="x"))
        two = uow.customers.update(_graded(two, "C"))
        uow.customers.remove(two)
        uow.commit()
    with store.unit_of_work() as uow:
        history = uow.customers.history("x")
    assert [(n, v["grade"]) for n, v in customer_versions(None, history).items()] == [
        (1, "B"),
        (2, "C"),
    ]
    assert [len(life) for life in customer_lives(None, history)] == [1, 2]


def test_a_no_op_update_writes_nothing(store: Store) -> None:
    """Updating with what is stored (timestamps aside) keeps version 1 and adds no history."""
    with store.unit_of_work() as uow:
        saved = uow.customers.add(Customer.person_named(family="张", given="伟", grade="A"))
        uow.commit()
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    with store.unit_of_work() as uow:
        result = uow.customers.update(attrs.evolve(saved, updated_at=later))
        uow.commit()
    assert result == saved
    with store.unit_of_work() as uow:
        assert uow.customers.get(saved.id) == saved
        assert [c.operation for c in uow.customers.history(saved.id)] == [ChangeOperation.CREATED]


def test_a_no_op_update_still_checks_the_version(store: Store) -> None:
    """A stale no-op update is still a conflict: the version check comes first."""
    from crmcore.errors import ConcurrencyConflict

    with store.unit_of_work() as uow:
        saved = uow.customers.add(Customer.person_named(family="张", given="伟"))
        uow.customers.update(_graded(saved, "B"))
        uow.commit()
    with store.unit_of_work() as uow, pytest.raises(ConcurrencyConflict):
        uow.customers.update(_graded(saved, "B"))


LEGACY = "2015-03-01T08:00:00+08:00"


def _row(customer_id: str, created_at: str | None = LEGACY) -> dict[str, object]:
    row: dict[str, object] = to_dict(Customer.person_named(family="赵", given="敏", id=customer_id))
    for key in ("version", "created_at", "updated_at"):
        row.pop(key)
    if created_at is not None:
        row["created_at"] = created_at
    return row


def test_an_import_keeps_a_legacy_created_at(store: Store) -> None:
    """A row's created_at is kept on creation, on the fast path and on the careful one."""
    report = store.import_customers([_row("a1")])  # fast path: nothing stored yet
    assert report.created == 1
    store.import_customers([_row("a1")])  # meets a stored id: the next batch goes carefully
    report = store.import_customers([_row("a2"), _row("a3", created_at=None)])
    assert report.created == 2
    legacy = dt.datetime.fromisoformat(LEGACY)
    with store.unit_of_work() as uow:
        assert uow.customers.get("a1").created_at == legacy
        assert uow.customers.get("a2").created_at == legacy
        assert uow.customers.get("a3").created_at == FIXED  # none given: the import's time
        assert uow.customers.get("a1").updated_at == FIXED


def test_an_import_reports_a_created_at_it_does_not_keep(store: Store) -> None:
    """A stored customer keeps its created_at; a row giving another one gets a warning."""
    store.import_customers([_row("b1", created_at=None)])
    report = store.import_customers([_row("b1")])
    [outcome] = report.outcomes
    assert outcome.status is ImportStatus.UNCHANGED
    assert [(w.code, w.path, w.severity) for w in outcome.warnings] == [
        ("import.created_at_kept", "$.created_at", "warning")
    ]
    with store.unit_of_work() as uow:
        assert uow.customers.get("b1").created_at == FIXED


def test_change_records_round_trip_and_a_repeated_id_is_refused_whole(
    sql_backend: SqlBackend,
) -> None:
    """Each dialect's history insert keeps every field (CJK text, aware times) and refuses
    a batch holding an id already recorded, writing none of that batch."""
    at = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    first = ChangeRecord(
        customer_id="c-历史",
        operation=ChangeOperation.CREATED,
        at=at,
        version=1,
        source="导入",
        changes=(FieldChange(path="$.display_name", new="张伟"),),
    )
    later = ChangeRecord(customer_id="c-历史", operation=ChangeOperation.UPDATED, at=at, version=2)
    transaction = sql_backend.begin()
    transaction.append_history([first])
    transaction.commit()
    transaction = sql_backend.begin()
    with pytest.raises(StorageError, match="already recorded"):
        transaction.append_history([later, first])
    transaction.rollback()
    transaction = sql_backend.begin()
    assert transaction.history("c-历史") == [first]
    transaction.rollback()
