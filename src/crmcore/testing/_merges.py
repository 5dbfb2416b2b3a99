"""Merges through the store: nothing lost, all or nothing, ids resolvable, undone exactly."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import (
    ConcurrencyConflict,
    CustomerMerged,
    MergeAlreadyUndone,
    MergeChangedSince,
    NotFound,
)
from crmcore.models import (
    ChangeOperation,
    Complaint,
    Customer,
    Direction,
    Interaction,
    InteractionChannel,
    MergeRecord,
    Money,
    Purchase,
)
from crmcore.rules.dedupe import plan_merge
from crmcore.rules.dedupe.merge_plan import _point_key
from crmcore.serialization import to_dict
from crmcore.storage.ports import Backend, Record, RecordKind, Transaction
from crmcore.storage.store import Store
from crmcore.testing import strategies as cst
from crmcore.testing._fixtures import KIT_SETTINGS, BackendFixtures, TickingClock

__all__ = ["MergeTests"]

_DEPENDENTS: tuple[tuple[RecordKind, str], ...] = (
    ("interaction", "interactions"),
    ("complaint", "complaints"),
    ("purchase", "purchases"),
)
_Dependent = Interaction | Complaint | Purchase
_POINTS = ("phones", "emails", "addresses", "social_handles")


def _id() -> str:
    return uuid.uuid4().hex


@st.composite
def _family(draw: st.DrawFn) -> tuple[list[Customer], list[_Dependent]]:
    """Two to four customers of one kind, each with a few records naming it."""
    kind = draw(st.sampled_from([cst.person_customers, cst.organisation_customers]))
    customers = [attrs.evolve(c, id=_id()) for c in draw(st.lists(kind(), min_size=2, max_size=4))]
    records: list[_Dependent] = []
    for customer in customers:
        persons = (
            [p.id for p in customer.organisation.contact_persons] if customer.organisation else []
        )
        person = st.none() | (st.sampled_from(persons) if persons else st.none())
        for _ in range(draw(st.integers(0, 2))):
            interaction = draw(cst.interactions(customer.id))
            records.append(attrs.evolve(interaction, id=_id(), contact_person_id=draw(person)))
        for _ in range(draw(st.integers(0, 2))):
            complaint = draw(cst.complaints(customer.id))
            records.append(attrs.evolve(complaint, id=_id(), contact_person_id=draw(person)))
        for _ in range(draw(st.integers(0, 2))):
            records.append(attrs.evolve(draw(cst.purchases(customer.id)), id=_id()))
    return customers, records


def _add(store: Store, customers: Sequence[Customer], records: Sequence[Record]) -> list[Customer]:
    with store.unit_of_work(actor="kit") as uow:
        stored = [uow.customers.add(c) for c in customers]
        for record in records:
            getattr(uow, f"{record.kind_name}s").add(record)
        uow.commit()
    return stored


def _state(store: Store, customer_ids: Sequence[str], record_ids: Sequence[tuple[str, str]]) -> Any:
    """Every named customer and record as serialised (``None`` when absent), and the merges."""
    tx = store.backend.begin()
    try:
        customers = {i: _dict(tx.get("customer", i)) for i in customer_ids}
        records = {i: _dict(tx.get(cast(RecordKind, k), i)) for k, i in record_ids}
        merges = [to_dict(m) for m in tx.scan("merge", batch_size=100)]
        history = {i: [to_dict(h) for h in tx.history(i)] for i in customer_ids}
    finally:
        tx.rollback()
    return customers, records, merges, history


def _dict(record: Record | None) -> Any:
    return None if record is None else to_dict(record)


def _without_version(data: Any) -> Any:
    return {k: v for k, v in data.items() if k != "version"}


class _FailingTransaction:
    """A transaction that fails its ``fail_on``-th write with a conflict, once."""

    def __init__(self, inner: Transaction, counter: list[int]) -> None:
        self._inner = inner
        self._counter = counter

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in ("insert", "update", "delete", "append_history"):
            return attribute

        def write(*args: Any, **kwargs: Any) -> Any:
            self._counter[0] -= 1
            if self._counter[0] == 0:
                raise ConcurrencyConflict("customer", "injected", expected_version=1)
            return attribute(*args, **kwargs)

        return write


class _FailingBackend:
    def __init__(self, inner: Backend, fail_on: int) -> None:
        self._inner = inner
        self.capabilities = inner.capabilities
        self._counter = [fail_on]

    def begin(self) -> Transaction:
        return cast(Transaction, _FailingTransaction(self._inner.begin(), self._counter))

    def close(self) -> None:  # pragma: no cover - the kit closes the inner backend
        self._inner.close()


class MergeTests(BackendFixtures):
    """Applying a merge plan: atomic, nothing lost, lineage kept, ids resolvable, undoable."""

    @settings(KIT_SETTINGS, max_examples=10)
    @given(family=_family())
    def test_merge_loses_nothing_and_undo_restores_exactly(
        self, store: Store, family: tuple[list[Customer], list[_Dependent]]
    ) -> None:
        """A merge loses nothing, and its undo restores everything exactly.

        Every contact point, interaction, complaint and purchase survives a merge on the
        survivor, and the undo gives back every customer and record exactly as it was
        (serialised forms equal apart from ``version``).
        """
        customers, records = family
        stored = _add(store, customers, records)
        ids = [c.id for c in stored]
        record_ids = [(r.kind_name, r.id) for r in records]
        before = _state(store, ids, record_ids)
        plan = plan_merge(stored)
        merge = store.merge(plan, actor="kit", source="review")
        customers_after, _, merges, _ = _state(store, ids, record_ids)
        survivor = cast(Customer, _get(store, "customer", plan.survivor_id))
        assert merge.id in [m["id"] for m in merges]
        for customer in stored:
            if customer.id != plan.survivor_id:
                assert customers_after[customer.id] is None
            for name in _POINTS:
                kept = {_point_key(p) for p in getattr(survivor, name)}
                assert {_point_key(p) for p in getattr(customer, name)} <= kept, name
            assert set(customer.tags) <= set(survivor.tags)
        persons = (
            {p.id for p in survivor.organisation.contact_persons}
            if survivor.organisation
            else set()
        )
        for record in records:
            now = cast(Interaction, _get(store, record.kind_name, record.id))
            assert now is not None
            assert getattr(now, "customer_id") == plan.survivor_id  # noqa: B009
            person = getattr(now, "contact_person_id", None)
            assert person is None or person in persons
            if getattr(record, "contact_person_id", None) is None:
                assert person is None
            back: dict[str, Any] = {"customer_id": record.customer_id, "version": 1}
            if hasattr(record, "contact_person_id"):
                back["contact_person_id"] = record.contact_person_id
            assert to_dict(attrs.evolve(now, **back)) == before[1][record.id]
        moved = {(r.kind, r.record_id) for r in merge.repointed}
        assert {(r.kind_name, r.id) for r in records if r.customer_id != plan.survivor_id} <= moved
        assert {s.customer_id for s in merge.before} == set(ids)

        store.undo_merge(merge.id, actor="kit")
        customers_back, records_back, _, _ = _state(store, ids, record_ids)
        for customer_id, data in before[0].items():
            assert _without_version(customers_back[customer_id]) == _without_version(data)
        for record_id, data in before[1].items():
            assert _without_version(records_back[record_id]) == _without_version(data)

    def test_stale_plan_writes_nothing(self, store: Store) -> None:
        """A customer changed after the plan was made: ConcurrencyConflict, nothing written."""
        stored, records = self._pair(store)
        plan = plan_merge(stored)
        with store.unit_of_work() as uow:
            other = uow.customers.get(plan.merged_ids[0])
            uow.customers.update(attrs.evolve(other, notes="changed meanwhile"))
            uow.commit()
        state = _state(store, [c.id for c in stored], records)
        with pytest.raises(ConcurrencyConflict):
            store.merge(plan)
        assert _state(store, [c.id for c in stored], records) == state

    @pytest.mark.parametrize("fail_on", [1, 2, 3, 4, 5])
    def test_a_failing_write_writes_nothing(self, backend: Backend, fail_on: int) -> None:
        """A conflict at any write of the merge writes nothing.

        A conflict at any write of the merge (survivor, re-pointing, removal, lineage,
        history) leaves every customer, record, merge and history as it was.
        """
        store = Store(backend, clock=TickingClock(), normaliser=None)
        stored, records = self._pair(store)
        ids = [c.id for c in stored]
        state = _state(store, ids, records)
        failing = Store(
            cast(Backend, _FailingBackend(backend, fail_on)), clock=TickingClock(), normaliser=None
        )
        with pytest.raises(ConcurrencyConflict):
            failing.merge(plan_merge(stored))
        assert _state(store, ids, records) == state

    def test_merged_ids_resolve_across_chained_merges(self, store: Store) -> None:
        """Merged ids resolve across chained merges, and the merges undo in order.

        A into b, then b into c: a and b resolve to c; reading a merged id names its
        survivor; undoing out of order is refused, in order it brings everything back.
        """
        a, b, c = _add(
            store, [_person("A", "李娜"), _person("B", "李娜"), _person("C", "李娜")], []
        )
        first = store.merge(plan_merge([a, b], survivor_id=b.id))
        with store.unit_of_work() as uow:
            b2, c2 = uow.customers.get(b.id), uow.customers.get(c.id)
        second = store.merge(plan_merge([b2, c2], survivor_id=c.id))
        assert [store.resolve_customer_id(i) for i in (a.id, b.id, c.id)] == [c.id] * 3
        with store.unit_of_work() as uow:
            with pytest.raises(CustomerMerged) as raised:
                uow.customers.get(a.id)
            assert (raised.value.survivor_id, raised.value.merge_id) == (b.id, first.id)
            assert raised.value.code == "storage.merged"
            [*_, last] = uow.customers.history(a.id)
            assert (last.operation, last.merge_id) == (ChangeOperation.MERGED, first.id)
            [*_, merged] = uow.customers.history(b.id)
            assert (merged.operation, merged.merge_id) == (ChangeOperation.MERGED, second.id)
        with pytest.raises(MergeChangedSince) as refused:
            store.undo_merge(first.id)
        assert refused.value.code == "merge.changed_since"
        store.undo_merge(second.id)
        assert store.resolve_customer_id(a.id) == b.id
        store.undo_merge(first.id)
        assert [store.resolve_customer_id(i) for i in (a.id, b.id, c.id)] == [a.id, b.id, c.id]
        with pytest.raises(MergeAlreadyUndone) as again:
            store.undo_merge(first.id)
        assert again.value.code == "merge.already_undone"
        with pytest.raises(NotFound):
            store.resolve_customer_id("never-stored")

    def test_undo_refuses_after_changes(self, store: Store) -> None:
        """An undo after the survivor or a re-pointed record changed is refused.

        An update of the survivor or of a re-pointed record after the merge: the undo
        is refused with ``merge.changed_since`` and changes nothing.
        """
        stored, records = self._pair(store)
        merge = store.merge(plan_merge(stored))
        kind, record_id = merge.repointed[0].kind, merge.repointed[0].record_id
        with store.unit_of_work() as uow:
            moved = uow.interactions.get(record_id)
            uow.interactions.update(attrs.evolve(moved, notes="after the merge"))
            uow.commit()
        ids = [c.id for c in stored]
        state = _state(store, ids, records)
        with pytest.raises(MergeChangedSince) as refused:
            store.undo_merge(merge.id)
        assert refused.value.changed == f"{kind} {record_id}"
        assert _state(store, ids, records) == state
        with store.unit_of_work() as uow:
            survivor = uow.customers.get(merge.survivor_id)
            uow.customers.update(attrs.evolve(survivor, notes="edited"))
            uow.commit()
        with pytest.raises(MergeChangedSince) as refused:
            store.undo_merge(merge.id)
        assert refused.value.changed == f"customer {merge.survivor_id}"

    def test_lineage_and_history(self, store: Store) -> None:
        """The merge record keeps the lineage, and the history records the merge.

        The merge record names every field's source and reason; the survivor's history
        holds the diff, the merged-away customer's its whole last state and the survivor.
        """
        stored, _ = self._pair(store)
        plan = plan_merge(stored)
        merge = store.merge(plan, actor="审核员", source="review")
        with store.unit_of_work() as uow:
            kept = uow.merges.get(merge.id)
            survivor_history = uow.customers.history(plan.survivor_id)
            gone_history = uow.customers.history(plan.merged_ids[0])
        assert isinstance(kept, MergeRecord)
        assert to_dict(kept) == to_dict(merge)
        assert (kept.actor, kept.source, kept.merged_ids) == ("审核员", "review", plan.merged_ids)
        assert [(f.path, f.source_id, f.rule, f.reason) for f in kept.fields] == [
            (d.path, d.source_id, d.rule, d.reason) for d in plan.fields
        ]
        last = survivor_history[-1]
        assert (last.operation, last.merge_id, last.actor) == (
            ChangeOperation.MERGED,
            merge.id,
            "审核员",
        )
        assert last.changes  # the diff
        gone = gone_history[-1]
        assert gone.operation is ChangeOperation.MERGED
        assert {c.path for c in gone.changes} == {"$", "$.merged_into"}

    def test_merged_ids_resolve_without_history(self, backend: Backend) -> None:
        """With history turned off, the merge records alone resolve merged-away ids."""
        store = Store(backend, clock=TickingClock(), normaliser=None, history=False)
        stored, _ = self._pair(store)
        plan = plan_merge(stored)
        merge = store.merge(plan)
        gone = plan.merged_ids[0]
        assert store.resolve_customer_id(gone) == plan.survivor_id
        with store.unit_of_work() as uow:
            with pytest.raises(CustomerMerged) as raised:
                uow.customers.get(gone)
            assert raised.value.merge_id == merge.id
            assert uow.customers.history(gone) == []
        store.undo_merge(merge.id)
        assert store.resolve_customer_id(gone) == gone

    def _pair(self, store: Store) -> tuple[list[Customer], list[tuple[str, str]]]:
        first = _person("P", "欧阳娜娜")
        second = attrs.evolve(_person("Q", "欧阳娜娜"), tags=("vip",), notes="茶叶")
        records: list[Record] = [
            Interaction(
                id=_id(),
                customer_id=second.id,
                channel=InteractionChannel.PHONE,
                direction=Direction.INBOUND,
                occurred_at=first.created_at,
                subject="来电",
            ),
            Purchase(
                id=_id(),
                customer_id=second.id,
                purchased_at=first.created_at,
                amount=Money.of("12.50", "CNY"),
                product="茶叶礼盒",
            ),
        ]
        stored = _add(store, [first, second], records)
        return stored, [(r.kind_name, r.id) for r in records]


def _person(tag: str, name: str) -> Customer:
    return Customer.person_named(family=name[:2], given=name[2:], id=f"{tag}-{_id()[:12]}")


def _get(store: Store, kind: str, record_id: str) -> Record | None:
    tx = store.backend.begin()
    try:
        return tx.get(cast(RecordKind, kind), record_id)
    finally:
        tx.rollback()
