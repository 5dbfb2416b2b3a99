"""The one table of record kinds, and what derives from it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast, get_args

import pytest

from crmcore.models import Customer, Direction, Interaction, InteractionChannel
from crmcore.storage import (
    RECORD_KINDS,
    RECORD_TYPES,
    MemoryBackend,
    Record,
    RecordKind,
    RecordKindInfo,
    Store,
    StoreCustomerRepository,
    StoreRepository,
    StoreUnitOfWork,
    UnitOfWork,
)
from crmcore.storage import unit_of_work as unit_of_work_module
from crmcore.storage.ports import Backend, Capabilities, Transaction
from crmcore.testing import TickingClock


def test_the_record_kind_literal_lists_the_table() -> None:
    """RecordKind (the Literal type checkers see) names exactly the table's kinds, in order."""
    assert get_args(RecordKind) == tuple(RECORD_KINDS)


def test_each_kind_is_named_as_its_model_and_keyed_by_its_name() -> None:
    """A kind's name is its model's kind_name and the key it is found under."""
    for name, kind in RECORD_KINDS.items():
        assert kind.name == name == kind.model.kind_name


def test_record_types_derive_from_the_table() -> None:
    """RECORD_TYPES is the table's kind -> model mapping, in the table's order."""
    assert {name: kind.model for name, kind in RECORD_KINDS.items()} == RECORD_TYPES
    assert list(RECORD_TYPES) == list(RECORD_KINDS)


def test_every_kind_has_its_repository_on_the_unit_of_work() -> None:
    """Each kind's repository sits on the unit of work under the table's name, typed and
    declared: customers (the kind with history) get the customer repository."""
    store = Store(MemoryBackend(), normaliser=None)
    with store.unit_of_work() as uow:
        for kind in RECORD_KINDS.values():
            repository = getattr(uow, kind.repository)
            expected = StoreCustomerRepository if kind.history else StoreRepository
            assert type(repository) is expected
            assert kind.repository in StoreUnitOfWork.__annotations__
            assert kind.repository in UnitOfWork.__dict__
    assert [k.name for k in RECORD_KINDS.values() if k.history] == ["customer"]


def test_each_repository_writes_its_own_kind() -> None:
    """A record added through a kind's repository is stored under that kind."""
    store = Store(MemoryBackend(), normaliser=None, clock=TickingClock())
    customer = Customer.person_named(family="张", given="伟", id="c1")
    interaction = Interaction(
        customer_id="c1",
        channel=InteractionChannel.PHONE,
        direction=Direction.INBOUND,
        occurred_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        subject="called",
    )
    with store.unit_of_work() as uow:
        uow.customers.add(customer)
        uow.interactions.add(interaction)
        uow.commit()
    tx = store.backend.begin()
    try:
        assert tx.get("customer", "c1") is not None
        assert tx.get("interaction", interaction.id) is not None
        assert tx.get("customer", interaction.id) is None
    finally:
        tx.rollback()


class NotebookTransaction:
    """Just enough of a backend transaction to see which kind each insert is for."""

    def __init__(self, inserts: list[tuple[str, list[str]]]) -> None:
        self.inserts = inserts

    def insert(self, kind: RecordKind, records: Sequence[Record]) -> None:
        self.inserts.append((kind, [r.id for r in records]))

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass


class NotebookBackend:
    """A backend that only notes inserts, whatever kind they are for."""

    capabilities = Capabilities(persistent=False, concurrent_writers=False)

    def __init__(self) -> None:
        self.inserts: list[tuple[str, list[str]]] = []

    def begin(self) -> Transaction:
        return cast(Transaction, NotebookTransaction(self.inserts))

    def close(self) -> None:
        pass


def test_a_new_kind_in_the_table_gets_its_repository_with_no_other_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Adding an entry to RECORD_KINDS is all the unit of work needs: the new kind's
    repository appears under its name and writes records of that kind."""
    note = RecordKindInfo(
        name=cast(RecordKind, "note"), model=Interaction, repository="notes", history=False
    )
    kinds: dict[Any, RecordKindInfo] = {**RECORD_KINDS, "note": note}
    monkeypatch.setattr(unit_of_work_module, "RECORD_KINDS", kinds)
    backend = NotebookBackend()
    store = Store(cast(Backend, backend), normaliser=None, clock=TickingClock())
    with store.unit_of_work() as uow:
        notes = getattr(uow, "notes")  # noqa: B009 - the attribute the table names
        assert type(notes) is StoreRepository
        added = notes.add(
            Interaction(
                customer_id="c1",
                channel=InteractionChannel.EMAIL,
                direction=Direction.OUTBOUND,
                occurred_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
                subject="a note",
            )
        )
        uow.commit()
    assert backend.inserts == [("note", [added.id])]
    assert added.version == 1


def test_the_sql_schema_has_one_table_per_kind() -> None:
    """The SQL schema's kind -> table mapping follows the table: crm_<kind>, in its order."""
    schema = pytest.importorskip("crmcore.storage.sqlalchemy._schema")
    assert list(schema.TABLES) == list(RECORD_KINDS)
    assert {kind: table.name for kind, table in schema.TABLES.items()} == {
        kind: f"crm_{kind}" for kind in RECORD_KINDS
    }
