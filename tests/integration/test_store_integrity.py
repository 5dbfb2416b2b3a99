"""Referential integrity on every backend: records refer to stored customers and contact persons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal

import attrs
import pytest
from tests.integration._stores import BACKENDS, open_store

from crmcore.errors import UnknownReference, ValidationError
from crmcore.models import (
    Complaint,
    ContactPerson,
    Customer,
    Direction,
    Interaction,
    InteractionChannel,
    Money,
    PersonName,
    Purchase,
)
from crmcore.query import Field, Query
from crmcore.storage import CustomerHasDependents, ImportStatus, Store

AT = dt.datetime(2026, 2, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, sql_database: Callable[[str], str]) -> Iterator[Store]:
    yield from open_store(request, sql_database)


def purchase(customer_id: str, **fields: object) -> Purchase:
    return Purchase(
        customer_id=customer_id,
        purchased_at=AT,
        amount=Money.of("88.00", "CNY"),
        product="茶叶",
        quantity=Decimal(1),
        **fields,  # type: ignore[arg-type]
    )


def interaction(customer_id: str, **fields: object) -> Interaction:
    return Interaction(
        customer_id=customer_id,
        channel=InteractionChannel.PHONE,
        direction=Direction.INBOUND,
        occurred_at=AT,
        subject="咨询",
        **fields,  # type: ignore[arg-type]
    )


def complaint(customer_id: str, **fields: object) -> Complaint:
    return Complaint(
        customer_id=customer_id,
        received_at=AT,
        channel=InteractionChannel.PHONE,
        category="service",
        description="房间太吵",
        **fields,  # type: ignore[arg-type]
    )


def _saved(store: Store, customer: Customer) -> Customer:
    with store.unit_of_work() as uow:
        saved = uow.customers.add(customer)
        uow.commit()
    return saved


@pytest.mark.parametrize("make", [purchase, interaction, complaint])
def test_a_record_for_an_unknown_customer_is_refused(
    store: Store, make: Callable[..., Purchase | Interaction | Complaint]
) -> None:
    """add() of a purchase, interaction or complaint for no stored customer: UnknownReference."""
    record = make("nobody")
    with store.unit_of_work() as uow:
        repository = getattr(uow, f"{record.kind_name}s")
        with pytest.raises(UnknownReference) as raised:
            repository.add(record)
    assert raised.value.code == "storage.unknown_reference"
    assert (raised.value.field, raised.value.reference) == ("customer_id", "nobody")
    assert isinstance(raised.value, LookupError)


def test_a_customer_added_in_the_same_unit_of_work_may_be_referred_to(store: Store) -> None:
    """A purchase for a customer added earlier in the same unit of work is accepted."""
    with store.unit_of_work() as uow:
        zhang = uow.customers.add(Customer.person_named(family="张", given="伟"))
        uow.purchases.add(purchase(zhang.id))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.purchases.count() == 1


def test_an_update_moving_a_record_to_an_unknown_customer_is_refused(store: Store) -> None:
    """update() checks customer_id too."""
    zhang = _saved(store, Customer.person_named(family="张", given="伟"))
    with store.unit_of_work() as uow:
        saved = uow.purchases.add(purchase(zhang.id))
        with pytest.raises(UnknownReference):
            uow.purchases.update(attrs.evolve(saved, customer_id="nobody"))


def _organisation_with_a_person(store: Store) -> tuple[Customer, ContactPerson]:
    person = ContactPerson(name=PersonName(family="李", given="总"))
    organisation = Customer.organisation_named("星辰科技").organisation
    assert organisation is not None
    acme = _saved(
        store,
        attrs.evolve(
            Customer.organisation_named("星辰科技"),
            organisation=attrs.evolve(organisation, contact_persons=(person,)),
        ),
    )
    return acme, person


def test_contact_person_references_are_checked(store: Store) -> None:
    """contact_person_id must name a contact person of the record's own customer."""
    acme, person = _organisation_with_a_person(store)
    zhang = _saved(store, Customer.person_named(family="张", given="伟"))
    with store.unit_of_work() as uow:
        uow.interactions.add(interaction(acme.id, contact_person_id=person.id))
        with pytest.raises(UnknownReference) as raised:
            uow.complaints.add(complaint(acme.id, contact_person_id="someone-else"))
        assert raised.value.field == "contact_person_id"
        with pytest.raises(UnknownReference):
            uow.interactions.add(interaction(zhang.id, contact_person_id=person.id))


def _organisation_with_a_named_person(store: Store) -> tuple[Customer, ContactPerson]:
    acme, person = _organisation_with_a_person(store)
    with store.unit_of_work() as uow:
        uow.interactions.add(interaction(acme.id, contact_person_id=person.id))
        uow.commit()
    return acme, person


def _without_persons(customer: Customer) -> Customer:
    assert customer.organisation is not None
    return attrs.evolve(
        customer, organisation=attrs.evolve(customer.organisation, contact_persons=())
    )


def test_dropping_a_contact_person_records_still_name_is_refused(store: Store) -> None:
    """An update removing a contact person an interaction names is refused, nothing changed."""
    acme, person = _organisation_with_a_named_person(store)
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as raised:
            uow.customers.update(_without_persons(acme))
        assert raised.value.codes == ("storage.contact_person_in_use",)
        assert raised.value.problems[0].path == "$.organisation.contact_persons"
    with store.unit_of_work() as uow:
        stored = uow.customers.get(acme.id)
    assert stored.organisation is not None
    assert [p.id for p in stored.organisation.contact_persons] == [person.id]


def test_a_replacing_import_dropping_a_named_contact_person_is_rejected(store: Store) -> None:
    """A replace-mode import row that drops a named contact person is a rejected outcome."""
    acme, _ = _organisation_with_a_named_person(store)
    report = store.import_customers([_without_persons(acme)], mode="replace")
    assert report.outcomes[0].status is ImportStatus.REJECTED
    assert [p.code for p in report.outcomes[0].problems] == ["storage.contact_person_in_use"]


def test_a_contact_person_no_record_names_may_be_dropped(store: Store) -> None:
    """Once nothing names the person, the same update goes through."""
    acme, _ = _organisation_with_a_named_person(store)
    with store.unit_of_work() as uow:
        for record in uow.interactions.find(Query(where=Field("customer_id") == acme.id)):
            uow.interactions.remove(record)
        updated = uow.customers.update(_without_persons(acme))
        uow.commit()
    assert updated.organisation is not None
    assert updated.organisation.contact_persons == ()


def _with_records(store: Store) -> Customer:
    zhang = _saved(store, Customer.person_named(family="张", given="伟"))
    other = _saved(store, Customer.person_named(family="李", given="娜"))
    with store.unit_of_work() as uow:
        uow.purchases.add(purchase(zhang.id))
        uow.purchases.add(purchase(zhang.id))
        uow.complaints.add(complaint(zhang.id))
        uow.purchases.add(purchase(other.id))
        uow.commit()
    return zhang


def test_removing_a_customer_with_records_is_refused_by_default(store: Store) -> None:
    """remove() refuses, saying how many records of each kind depend on the customer."""
    zhang = _with_records(store)
    with store.unit_of_work() as uow:
        with pytest.raises(CustomerHasDependents) as raised:
            uow.customers.remove(zhang)
        assert uow.customers.get(zhang.id) == zhang
    assert raised.value.code == "storage.has_dependents"
    assert raised.value.dependents == {"complaint": 1, "purchase": 2}


def test_removing_a_customer_can_remove_its_records_with_it(store: Store) -> None:
    """remove(dependents="remove") removes its records in the same unit of work, others stay."""
    zhang = _with_records(store)
    with store.unit_of_work() as uow:
        uow.customers.remove(zhang, dependents="remove")
        uow.rollback()  # not committed: everything is still there
    with store.unit_of_work() as uow:
        assert uow.purchases.count() == 3
        uow.customers.remove(zhang, dependents="remove")
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.purchases.count() == 1
        assert uow.complaints.count() == 0
        assert uow.customers.count() == 1


def test_removing_a_customer_without_records_needs_no_choice(store: Store) -> None:
    """A customer nothing refers to is removed as before."""
    zhang = _saved(store, Customer.person_named(family="张", given="伟"))
    with store.unit_of_work() as uow:
        uow.customers.remove(zhang)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.customers.count() == 0


def test_an_unknown_dependents_choice_is_refused(store: Store) -> None:
    """dependents= takes "refuse" or "remove"; anything else is a ValueError."""
    zhang = _saved(store, Customer.person_named(family="张", given="伟"))
    with store.unit_of_work() as uow, pytest.raises(ValueError, match="dependents"):
        uow.customers.remove(zhang, dependents="cascade")  # type: ignore[arg-type]


def test_a_customer_removed_in_the_unit_of_work_may_no_longer_be_referred_to(
    store: Store,
) -> None:
    """After remove(), a purchase for the customer is refused in the same unit of work."""
    zhang = _saved(store, Customer.person_named(family="张", given="伟"))
    with store.unit_of_work() as uow:
        uow.purchases.add(purchase(zhang.id))
        uow.customers.remove(zhang, dependents="remove")
        with pytest.raises(UnknownReference):
            uow.purchases.add(purchase(zhang.id))
