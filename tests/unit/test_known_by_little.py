"""Customers known by little: a card, a phone or an order number is enough to store a person."""

from __future__ import annotations

import datetime as dt

import pytest

from crmcore.errors import ValidationError
from crmcore.models import (
    Customer,
    CustomerKind,
    Email,
    Identifier,
    IdentifierKind,
    PersonProfile,
    Phone,
    replace,
)
from crmcore.rules.verification import NormalisationPipeline, score_quality
from crmcore.serialization import from_dict, from_json, to_json
from crmcore.storage import connect

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
CARD = Identifier(kind=IdentifierKind.MEMBERSHIP_CARD, value="M-000123", issuer="锦江会员")


def test_a_person_known_only_by_a_membership_card_needs_no_name() -> None:
    """PersonProfile without a name, with a card: accepted; no placeholder name is stored."""
    c = Customer(
        kind=CustomerKind.PERSON,
        display_name="M-000123",
        person=PersonProfile(),
        identifiers=(CARD,),
    )
    assert c.person is not None
    assert c.person.name is None


def test_known_by_builds_the_display_name_from_what_is_known() -> None:
    """Customer.person_known_by labels the customer with its identifier, phone or email."""
    by_card = Customer.person_known_by(identifiers=(CARD,))
    assert by_card.display_name == "M-000123"
    assert by_card.person == PersonProfile()
    by_phone = Customer.person_known_by(phones=(Phone(number="13800138000"),))
    assert by_phone.display_name == "13800138000"
    order = Identifier(kind=IdentifierKind.ORDER_NUMBER, value="WEB-2026-0001", issuer="shop")
    assert Customer.person_known_by(identifiers=(order,)).display_name == "WEB-2026-0001"
    by_email = Customer.person_known_by(emails=(Email(address="guest@example.com"),))
    assert by_email.display_name == "guest@example.com"
    assert Customer.person_known_by(identifiers=(CARD,), display_name="会员").display_name == "会员"


def test_a_person_known_by_nothing_is_refused_with_a_code() -> None:
    """No name, no identifier and no contact point: customer.unidentified at $.person.name."""
    with pytest.raises(ValidationError) as caught:
        Customer(kind=CustomerKind.PERSON, display_name="?", person=PersonProfile())
    assert caught.value.codes == ("customer.unidentified",)
    assert caught.value.problems[0].path == "$.person.name"
    with pytest.raises(ValidationError) as caught:
        Customer.person_known_by()
    assert "customer.unidentified" in caught.value.codes


def test_removing_the_last_identifier_of_a_nameless_person_is_refused() -> None:
    """The invariant holds through replace, as for every model rule."""
    c = Customer.person_known_by(identifiers=(CARD,))
    with pytest.raises(ValidationError) as caught:
        replace(c, identifiers=())
    assert caught.value.codes == ("customer.unidentified",)


def test_a_nameless_person_round_trips_through_json() -> None:
    """from_json(to_json(c)) is c for a person without a name."""
    c = Customer.person_known_by(identifiers=(CARD,), phones=(Phone(number="+8613800138000"),))
    assert from_json(to_json(c), Customer) == c
    data = {
        "kind": "person",
        "display_name": "M-000123",
        "person": {},
        "identifiers": [{"kind": "membership_card", "value": "M-000123"}],
    }
    assert from_dict(data, Customer).person == PersonProfile()


def test_the_pipeline_accepts_a_nameless_person() -> None:
    """Normalising a person without a name normalises the rest and reports no error."""
    c = Customer.person_known_by(phones=(Phone(number="138 0013 8000", primary=True),))
    result = NormalisationPipeline(default_region="CN").check(c, now=NOW)
    assert result.ok, result.findings
    assert result.customer.phones[0].number == "+8613800138000"
    assert result.customer.person is not None
    assert result.customer.person.name is None


def test_a_nameless_person_is_stored_on_the_memory_backend() -> None:
    """The store adds and reads back a person known only by a card."""
    store = connect("memory://")
    with store.unit_of_work() as uow:
        added = uow.customers.add(Customer.person_known_by(identifiers=(CARD,)))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.customers.get(added.id).person == PersonProfile()


def test_the_quality_score_counts_the_missing_name() -> None:
    """Quality completeness lists the name as missing (weight 12 of 100) instead of refusing."""
    c = Customer.person_known_by(identifiers=(CARD,), phones=(Phone(number="+8613800138000"),))
    score = score_quality(c, now=NOW)
    assert "name" in [gap.label for gap in score.missing]
    named = Customer.person_named(family="张", given="伟", identifiers=(CARD,), phones=c.phones)
    assert score_quality(named, now=NOW).completeness - score.completeness == pytest.approx(0.12)
