"""A merge through the store keeps every contact person's details; undo restores exactly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from tests.integration._stores import BACKENDS
from tests.integration._stores import open_store as _open_store

from crmcore.models import (
    Calendar,
    ContactPerson,
    Customer,
    CustomerKind,
    OrganisationProfile,
    PersonName,
)
from crmcore.rules.dedupe import plan_merge
from crmcore.serialization import to_dict
from crmcore.storage import Store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, sql_database: Callable[[str], str]) -> Iterator[Store]:
    """A store on each backend, without a normaliser (values kept as given)."""
    yield from _open_store(request, sql_database, normaliser=None)


def _company(cid: str, wang: ContactPerson) -> Customer:
    return Customer(
        id=cid,
        kind=CustomerKind.ORGANISATION,
        display_name="北京星辰科技有限公司",
        organisation=OrganisationProfile(
            legal_name="北京星辰科技有限公司", contact_persons=(wang,)
        ),
    )


def test_a_merged_contact_person_keeps_every_detail_and_undo_restores_both(store: Store) -> None:
    """The survivor's 王芳 lacks a department and a birthday: both come from the other
    copy (the birthday with its calendar); her differing title stays the survivor's
    and is decided; undo gives back both companies exactly as they were."""
    name = PersonName(family="王", given="芳")
    with store.unit_of_work() as uow:
        first = uow.customers.add(
            _company("org-1", ContactPerson(id="p1", name=name, title="经理"))
        )
        second = uow.customers.add(
            _company(
                "org-2",
                ContactPerson(
                    id="p9",
                    name=name,
                    title="总监",
                    department="采购部",
                    birthday=dt.date(1980, 3, 1),
                    birthday_calendar=Calendar.CHINESE,
                ),
            )
        )
        uow.commit()
    plan = plan_merge([first, second])
    title = next(d for d in plan.fields if d.path == "organisation.contact_persons[p1].title")
    assert (title.value, title.rule, title.candidates) == (
        "经理", "first_copy", (("org-1", "经理"), ("org-2", "总监")))  # fmt: skip
    merge = store.merge(plan)
    with store.unit_of_work() as uow:
        merged = uow.customers.get("org-1").organisation
    assert merged is not None
    (wang,) = merged.contact_persons
    assert (wang.id, wang.title, wang.department) == ("p1", "经理", "采购部")
    assert (wang.birthday, wang.birthday_calendar) == (dt.date(1980, 3, 1), Calendar.CHINESE)
    store.undo_merge(merge.id)
    with store.unit_of_work() as uow:
        back = [uow.customers.get("org-1"), uow.customers.get("org-2")]
    for before, after in zip((first, second), back, strict=True):
        drop = ("version",)
        assert {k: v for k, v in to_dict(after).items() if k not in drop} == {
            k: v for k, v in to_dict(before).items() if k not in drop
        }
