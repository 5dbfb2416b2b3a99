"""Merges through the store, beyond the kit: contact persons, versions rebuilt, refusals."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from crmcore.errors import ConcurrencyConflict, ValidationError, WrongType
from crmcore.models import (
    ContactPerson,
    Customer,
    CustomerKind,
    Direction,
    Interaction,
    InteractionChannel,
    OrganisationProfile,
    PersonName,
)
from crmcore.rules.dedupe import plan_merge
from crmcore.serialization import to_dict
from crmcore.storage import MemoryBackend, Store, customer_versions
from crmcore.testing import TickingClock

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _store() -> Store:
    return Store(MemoryBackend(), clock=TickingClock(), normaliser=None)


def _company(cid: str, *persons: tuple[str, str]) -> Customer:
    return Customer(
        id=cid,
        kind=CustomerKind.ORGANISATION,
        display_name="北京星辰科技有限公司",
        organisation=OrganisationProfile(
            legal_name="北京星辰科技有限公司",
            contact_persons=tuple(
                ContactPerson(id=pid, name=PersonName(family=name[:1], given=name[1:]))
                for pid, name in persons
            ),
        ),
    )


def _call(customer_id: str, person_id: str | None) -> Interaction:
    return Interaction(
        customer_id=customer_id,
        contact_person_id=person_id,
        channel=InteractionChannel.PHONE,
        direction=Direction.INBOUND,
        occurred_at=AT,
        subject="来电",
    )


def test_records_follow_the_contact_person_the_plan_kept_and_come_back_on_undo() -> None:
    """Both companies have 王芳 (under different ids): the merged-away one's calls with her
    name the survivor's 王芳; its 李雷, new to the survivor, keeps his id; undo puts
    every call back exactly."""
    store = _store()
    with store.unit_of_work() as uow:
        first = uow.customers.add(_company("org-1", ("p1", "王芳")))
        second = uow.customers.add(_company("org-2", ("p9", "王芳"), ("p2", "李雷")))
        calls = [
            uow.interactions.add(_call("org-2", "p9")),
            uow.interactions.add(_call("org-2", "p2")),
            uow.interactions.add(_call("org-2", None)),
            uow.interactions.add(_call("org-1", "p1")),
        ]
        uow.commit()
    plan = plan_merge([first, second])
    assert ("p9", "p1") in plan.contact_point_ids
    merge = store.merge(plan)
    with store.unit_of_work() as uow:
        moved = [uow.interactions.get(c.id) for c in calls]
    assert [(m.customer_id, m.contact_person_id) for m in moved] == [
        ("org-1", "p1"),
        ("org-1", "p2"),
        ("org-1", None),
        ("org-1", "p1"),
    ]
    assert {r.record_id for r in merge.repointed} == {c.id for c in calls[:3]}
    store.undo_merge(merge.id)
    with store.unit_of_work() as uow:
        back = [uow.interactions.get(c.id) for c in calls]
    for call, now in zip(calls, back, strict=True):
        assert to_dict(attrs.evolve(now, version=call.version)) == to_dict(call)


def test_every_version_rebuilds_across_a_merge_and_its_undo() -> None:
    """customer_versions reads merged and unmerged records: the survivor's versions are
    before, merged and restored; the merged-away customer's its own, then restored."""
    store = _store()
    with store.unit_of_work() as uow:
        a = uow.customers.add(Customer.person_named(family="李", given="娜", id="A"))
        b = uow.customers.add(
            Customer.person_named(family="李", given="娜", id="B", tags=("vip",), notes="茶")
        )
        uow.commit()
    merge = store.merge(plan_merge([a, b]))
    with store.unit_of_work() as uow:
        merged = uow.customers.get("A")
        during = customer_versions(merged, uow.customers.history("A"))
        gone = customer_versions(None, uow.customers.history("B"))
    assert sorted(during) == [1, 2]
    assert during[1].get("tags", []) == []
    assert during[2]["tags"] == ["vip"]
    assert sorted(gone) == [1]
    store.undo_merge(merge.id)
    with store.unit_of_work() as uow:
        survivor, restored = uow.customers.get("A"), uow.customers.get("B")
        after_a = customer_versions(survivor, uow.customers.history("A"))
        after_b = customer_versions(restored, uow.customers.history("B"))
    assert sorted(after_a) == [1, 2, 3]
    assert after_a[3] == after_a[1]
    assert sorted(after_b) == [1, 3]
    assert after_b[3] == after_b[1]


def test_a_failed_merge_rolls_the_unit_of_work_back() -> None:
    """uow.apply_merge that raises leaves nothing of the unit of work to commit."""
    store = _store()
    with store.unit_of_work() as uow:
        a = uow.customers.add(Customer.person_named(family="张", given="伟", id="A"))
        b = uow.customers.add(Customer.person_named(family="张", given="伟", id="B"))
        uow.commit()
    plan = plan_merge([a, b])
    with store.unit_of_work() as uow:
        uow.customers.add(Customer.person_named(family="王", given="芳", id="C"))
        uow.customers.update(attrs.evolve(uow.customers.get("B"), notes="meanwhile"))
        with pytest.raises(ConcurrencyConflict):
            uow.apply_merge(plan)
        uow.commit()  # nothing left to commit
    with store.unit_of_work() as uow:
        assert uow.customers.count() == 2
        assert uow.merges.count() == 0


def test_what_is_not_a_plan_is_refused() -> None:
    """A mapping is no plan; a plan whose merged customer is not the survivor is refused."""
    store = _store()
    with pytest.raises(WrongType):
        store.merge({"survivor_id": "A"})  # type: ignore[arg-type]
    a = Customer.person_named(family="张", given="伟", id="A")
    b = Customer.person_named(family="张", given="伟", id="B")
    plan = plan_merge([a, b])
    with pytest.raises(ValidationError) as refused:
        store.merge(attrs.evolve(plan, customer=b))
    assert refused.value.problems[0].code == "merge.plan_invalid"
