"""A display name derived from a person's name follows a rename on every write path."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs
import pytest
from tests.conftest import SQL_DIALECTS

from crmcore.models import Customer, PersonName, PersonProfile
from crmcore.storage import Store, connect


@pytest.fixture(params=["memory", *SQL_DIALECTS])
def store(request: pytest.FixtureRequest, sql_database: Callable[[str], str]) -> Iterator[Store]:
    dialect = str(request.param)
    url = "memory://" if dialect == "memory" else sql_database(dialect)
    with connect(url) as opened:
        yield opened


def _renamed(customer: Customer, family: str, given: str) -> Customer:
    return attrs.evolve(customer, person=PersonProfile(name=PersonName(family=family, given=given)))


def _saved(store: Store, customer: Customer) -> Customer:
    with store.unit_of_work() as uow:
        saved = uow.customers.add(customer)
        uow.commit()
    return saved


def test_update_moves_a_derived_display_name(store: Store) -> None:
    """Renaming 张伟 to 李娜 through update stores display_name 李娜."""
    saved = _saved(store, Customer.person_named(family="张", given="伟"))
    with store.unit_of_work() as uow:
        updated = uow.customers.update(_renamed(saved, "李", "娜"))
        uow.commit()
    assert updated.display_name == "李娜"
    with store.unit_of_work() as uow:
        assert uow.customers.get(saved.id).display_name == "李娜"


def test_update_keeps_a_chosen_display_name(store: Store) -> None:
    """A display name the user chose (张总) stays when the name changes."""
    saved = _saved(
        store, attrs.evolve(Customer.person_named(family="张", given="伟"), display_name="张总")
    )
    with store.unit_of_work() as uow:
        updated = uow.customers.update(_renamed(saved, "李", "娜"))
        uow.commit()
    assert updated.display_name == "张总"


def test_import_upsert_moves_a_derived_display_name(store: Store) -> None:
    """A re-imported row renaming the person moves the derived display name too."""
    saved = _saved(store, Customer.person_named(family="张", given="伟"))
    row = attrs.evolve(_renamed(saved, "王", "芳"), version=0)
    report = store.import_customers([row])
    assert report.ok
    with store.unit_of_work() as uow:
        assert uow.customers.get(saved.id).display_name == "王芳"
