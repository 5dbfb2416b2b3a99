"""Stored "not a duplicate" decisions: kept, listed, removed, respected, following merges."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import NotFound, ValidationError
from crmcore.models import (
    ChangeOperation,
    Customer,
)
from crmcore.rules.dedupe import MatchModel, plan_merge
from crmcore.serialization import to_dict
from crmcore.storage import dedupe
from crmcore.storage.duplicates import NOT_DUPLICATE_OF
from crmcore.storage.ports import Backend
from crmcore.storage.store import Store
from crmcore.testing._fixtures import KIT_SETTINGS, BackendFixtures, TickingClock, requires
from crmcore.testing.data import person, sample_match_model

__all__ = ["DecisionTests"]


def _sisters() -> list[Customer]:
    """Three records of "李娜": two of one woman, and her twin sister with her phone."""
    born = dt.date(1985, 7, 1)
    return [
        person("L1", "李", "娜", phone="+8613800138000", born=born, email="Li.Na@example.com"),
        person("L2", "李", "娜", phone="+8613800138000", born=born),
        person("L3", "李", "娜", phone="+8613800138000", born=dt.date(1985, 1, 7)),
    ]


def _groups(store: Store, model: MatchModel) -> list[tuple[str, ...]]:
    found = dedupe.find_duplicates(store, model=model)
    return [g.members for g in found.clustering.groups]


class DecisionTests(BackendFixtures):
    """``Store.mark_not_duplicate`` and the duplicate searches that respect it.

    A decision is a record of kind ``not_duplicate``: the backend stores it exactly
    like any other record; the store writes it, records it in both customers'
    history, and every duplicate search through the store reads it.
    """

    def test_a_decision_is_stored_listed_and_removed(self, store: Store) -> None:
        """The decision is kept with its ids smaller first, listed, recorded, removable."""
        store.import_customers(_sisters())
        decision = store.mark_not_duplicate("L3", "L1", note="双胞胎", decided_by="审核员")
        assert (decision.first_id, decision.second_id, decision.version) == ("L1", "L3", 1)
        assert (decision.note, decision.decided_by) == ("双胞胎", "审核员")
        with store.unit_of_work() as uow:
            assert to_dict(uow.not_duplicates.get(decision.id)) == to_dict(decision)
            history = uow.customers.history("L3")
        assert [to_dict(d) for d in store.not_duplicates("L3")] == [to_dict(decision)]
        assert store.not_duplicates("L2") == ()
        marked = history[-1]
        assert marked.operation is ChangeOperation.MARKED_NOT_DUPLICATE
        assert [c.path for c in marked.changes] == [NOT_DUPLICATE_OF]
        assert store.mark_not_duplicate("L1", "L3", note="双胞胎").id == decision.id  # once
        removed = store.remove_not_duplicate(decision.id)
        assert removed.id == decision.id
        assert store.not_duplicates() == ()
        with store.unit_of_work() as uow:
            last = uow.customers.history("L1")[-1]
        assert last.operation is ChangeOperation.UNMARKED_NOT_DUPLICATE
        with pytest.raises(NotFound):
            store.remove_not_duplicate(decision.id)

    def test_marking_refuses_unknown_and_identical_customers(self, store: Store) -> None:
        """An id neither stored nor merged is NotFound; one customer twice is refused."""
        store.import_customers(_sisters())
        with pytest.raises(NotFound):
            store.mark_not_duplicate("L1", "nobody")
        with pytest.raises(ValidationError) as caught:
            store.mark_not_duplicate("L1", "L1")
        assert caught.value.problems[0].code == "dedupe.same_customer"
        with store.unit_of_work() as uow:
            plan = plan_merge([uow.customers.get("L1"), uow.customers.get("L2")])
        store.merge(plan)
        with pytest.raises(ValidationError) as caught:
            store.mark_not_duplicate("L1", "L2")  # both are L1 now
        assert caught.value.problems[0].code == "dedupe.same_customer"
        assert store.not_duplicates() == ()

    def test_marking_a_decided_pair_with_another_note_is_refused(self, store: Store) -> None:
        """Same note: the stored decision, nothing written; another note: already_decided."""
        store.import_customers(_sisters())
        decision = store.mark_not_duplicate("L1", "L3", note="双胞胎")
        assert store.mark_not_duplicate("L3", "L1", note="双胞胎").id == decision.id
        with pytest.raises(ValidationError) as caught:
            store.mark_not_duplicate("L3", "L1", note="姐妹")
        assert [(p.code, p.path) for p in caught.value.problems] == [
            ("dedupe.already_decided", "$.note")
        ]
        assert [d.note for d in store.not_duplicates()] == ["双胞胎"]

    def test_marking_a_merged_away_id_stores_its_survivor(self, store: Store) -> None:
        """A decision given a merged-away id is stored with the survivor's id, once."""
        store.import_customers(_sisters())
        with store.unit_of_work() as uow:
            plan = plan_merge([uow.customers.get("L1"), uow.customers.get("L2")])
        store.merge(plan)
        decision = store.mark_not_duplicate("L2", "L3", note="双胞胎")
        assert (decision.first_id, decision.second_id) == ("L1", "L3")
        with store.unit_of_work() as uow:
            assert uow.not_duplicates.get(decision.id).first_id == "L1"
        assert store.mark_not_duplicate("L1", "L3", note="双胞胎").id == decision.id
        assert len(store.not_duplicates()) == 1

    def test_find_duplicates_keeps_a_stored_decision_apart(self, store: Store) -> None:
        """A stored decision splits a group without being passed in, and says so."""
        store.import_customers(_sisters())
        model = sample_match_model()
        assert _groups(store, model) == [("L1", "L2", "L3")]
        decision = store.mark_not_duplicate("L1", "L3", note="sisters")
        found = dedupe.find_duplicates(store, model=model)
        assert [g.members for g in found.clustering.groups] == [("L1", "L2")]
        assert {k.decision.id for k in found.clustering.kept_apart} == {decision.id}

    def test_a_decision_follows_a_merge(self, store: Store) -> None:
        """A decision naming a merged-away id applies to its survivor."""
        store.import_customers(_sisters())
        model = sample_match_model()
        decision = store.mark_not_duplicate("L2", "L3")
        with store.unit_of_work() as uow:
            plan = plan_merge([uow.customers.get("L1"), uow.customers.get("L2")])
        store.merge(plan)
        listed = store.not_duplicates("L2")
        assert [(d.id, d.first_id, d.second_id) for d in listed] == [(decision.id, "L1", "L3")]
        assert _groups(store, model) == []
        l1 = _sisters()[0]
        offered = [p.right for p in store.likely_duplicates(l1, model=model)]
        assert "L3" not in offered

    def test_likely_duplicates_leaves_out_decided_customers(self, store: Store) -> None:
        """On entry, a customer kept apart from the new one's id is not offered."""
        store.import_customers(_sisters())
        model = sample_match_model()
        l1 = _sisters()[0]
        assert [p.right for p in store.likely_duplicates(l1, model=model)] == ["L2", "L3"]
        store.mark_not_duplicate("L1", "L3")
        assert [p.right for p in store.likely_duplicates(l1, model=model)] == ["L2"]

    @requires("persistent")
    def test_decisions_survive_reopening(self, backend: Backend) -> None:
        """A persistent backend keeps decisions across close and reopen."""
        store = Store(backend, clock=TickingClock(), normaliser=None)
        store.import_customers(_sisters())
        decision = store.mark_not_duplicate("L1", "L3", note="sisters")
        reopened = Store(self.reopen(backend), normaliser=None)
        assert [to_dict(d) for d in reopened.not_duplicates()] == [to_dict(decision)]

    @settings(KIT_SETTINGS, max_examples=10)
    @given(apart=st.sets(st.sampled_from([("L1", "L2"), ("L1", "L3"), ("L2", "L3")])))
    def test_no_group_holds_a_decided_pair(
        self, backend: Backend, apart: set[tuple[str, str]]
    ) -> None:
        """Whatever pairs are decided apart, no group holds one, and the rest stay grouped."""
        store = Store(backend, clock=TickingClock(), normaliser=None)
        with store.unit_of_work() as uow:  # the same backend serves every example
            for customer in uow.customers.stream():
                uow.customers.remove(customer, dependents="remove")
            for stale in uow.not_duplicates.stream():
                uow.not_duplicates.remove(stale)
            uow.commit()
        store.import_customers(_sisters())
        for a, b in sorted(apart):
            store.mark_not_duplicate(a, b)
        decided = {frozenset(pair) for pair in apart}
        groups = _groups(store, sample_match_model())
        for members in groups:
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    assert frozenset((a, b)) not in decided
        if not apart:
            assert groups == [("L1", "L2", "L3")]
        stored = {d.pair for d in store.not_duplicates()}
        assert stored == apart  # each pair is written smaller id first
