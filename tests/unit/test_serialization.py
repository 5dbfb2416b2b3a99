"""Behaviour of crmcore's converter: exact round trips and strict, fully reported structuring."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import (
    Complaint,
    Customer,
    Email,
    FactCategory,
    InteractionChannel,
    Money,
    OrganisationProfile,
    PersonName,
    PersonProfile,
    Phone,
    PhoneKind,
    PostalAddress,
    ProfileFact,
    Provenance,
    Purchase,
    SourceChannel,
)
from crmcore.serialization import from_dict, from_json, make_converter, to_dict, to_json

T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _regent_guest() -> Customer:
    return Customer.person_named(
        family="陈",
        given="大文",
        id="c-regent",
        created_at=T0,
        updated_at=T0,
        acquired_on=dt.date(2016, 4, 1),
        acquisition_channel=SourceChannel.HOTLINE,
        tags=("vip", "香港"),
        person=PersonProfile(
            name=PersonName(family="陈", given="大文"),
            other_name=PersonName(family="Chan", given="David"),
            birthday=dt.date(1971, 2, 28),
        ),
        phones=(
            Phone(
                id="p1",
                number="+85291234567",
                kind=PhoneKind.MOBILE,
                primary=True,
                provenance=Provenance(
                    channel=SourceChannel.HOTLINE, observed_at=T0, customer_initiated=True
                ),
            ),
        ),
        emails=(Email(id="e1", address="陈大文@例子.中国"),),
        addresses=(
            PostalAddress(id="a1", country="HK", city="香港", street_lines=("皇后大道中 15 號",)),
        ),
        facts=(
            ProfileFact(
                id="f1", category=FactCategory.PREFERENCE, key="drink", value="carrot juice"
            ),
        ),
    )


def test_customer_round_trips_through_json_exactly() -> None:
    """A customer with Chinese text, offsets and nested parts survives JSON unchanged."""
    customer = _regent_guest()
    text = to_json(customer)
    assert "陈大文" in text  # kept as characters, not \\u escapes
    assert from_json(text, Customer) == customer
    assert from_dict(json.loads(text), Customer) == customer


def test_plain_dicts_hold_only_json_types() -> None:
    """Unstructured data is plain: strings for enums, dates and decimals; lists for tuples."""
    data = to_dict(_regent_guest())
    assert data["kind"] == "person"
    assert type(data["kind"]) is str
    assert data["created_at"] == "2026-01-05T09:30:00+08:00"
    assert data["acquired_on"] == "2016-04-01"
    assert data["tags"] == ["vip", "香港"]
    assert json.loads(json.dumps(data)) == data


def test_purchase_amounts_travel_as_decimal_strings() -> None:
    """Money never passes through a float."""
    purchase = Purchase(
        customer_id="c1",
        purchased_at=T0,
        amount=Money.of("0.10", "CNY"),
        product="茶",
        cost=Money.of("0.07", "CNY"),
    )
    data = to_dict(purchase)
    assert data["amount"] == {"amount": "0.10", "currency": "CNY"}
    assert from_dict(data, Purchase) == purchase


def test_malformed_customer_yields_one_error_listing_every_problem() -> None:
    """Unknown keys, bad enums, wrong types, naive datetimes and nested errors all come back."""
    bad: dict[str, Any] = {
        "kind": "robot",
        "display_name": 7,
        "nickname": "Bob",
        "version": "1",
        "created_at": "2026-01-01T00:00:00",
        "acquired_on": "2026-02-30",
        "tags": "vip",
        "phones": [{"number": 13800138000}, {"number": "138", "primary": "yes"}],
        "organisation": {"legal_name": "   "},
    }
    with pytest.raises(ValidationError) as info:
        from_dict(bad, Customer)
    found = {(p.code, p.path) for p in info.value.problems}
    assert found == {
        ("field.unknown", "$.nickname"),
        ("value.not_allowed", "$.kind"),
        ("type.invalid", "$.display_name"),
        ("type.invalid", "$.version"),
        ("datetime.naive", "$.created_at"),
        ("date.invalid", "$.acquired_on"),
        ("type.invalid", "$.tags"),
        ("type.invalid", "$.phones[0].number"),
        ("type.invalid", "$.phones[1].primary"),
        ("value.blank", "$.organisation.legal_name"),
    }
    assert all(p.severity == "error" and p.message for p in info.value.problems)


def test_missing_required_fields_are_named() -> None:
    """A dict missing required fields reports each one."""
    with pytest.raises(ValidationError) as info:
        from_dict({"received_at": "2026-01-01T00:00:00Z"}, Complaint)
    assert {p.path for p in info.value.problems if p.code == "field.required"} == {
        "$.customer_id",
        "$.channel",
        "$.category",
        "$.description",
    }


def test_cross_field_rules_apply_to_structured_input() -> None:
    """Well-typed input still meets the model's invariants."""
    with pytest.raises(ValidationError) as info:
        from_dict({"kind": "organisation", "display_name": "Acme"}, Customer)
    assert info.value.codes == ("customer.profile_missing",)
    assert info.value.problems[0].path == "$.organisation"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (19.9, "type.invalid"),
        (True, "type.invalid"),
        ("abc", "decimal.invalid"),
        ("Infinity", "value.not_finite"),
    ],
)
def test_decimals_are_strict(value: object, code: str) -> None:
    """Floats, booleans and non-numbers are refused for Decimal fields."""
    with pytest.raises(ValidationError) as info:
        from_dict({"amount": value, "currency": "CNY"}, Money)
    assert info.value.codes == (code,)
    assert info.value.problems[0].path == "$.amount"


def test_non_object_and_broken_json_are_validation_errors() -> None:
    """The root must be an object, and broken JSON is reported, not raised raw."""
    with pytest.raises(ValidationError) as info:
        from_dict(["not", "an", "object"], Customer)
    assert info.value.codes == ("type.invalid",)
    with pytest.raises(ValidationError) as info:
        from_json("{", Customer)
    assert info.value.codes == ("json.invalid",)


def test_odd_keys_get_bracketed_paths() -> None:
    """A key that is not an identifier is quoted in the path."""
    with pytest.raises(ValidationError) as info:
        from_dict({"amount": "1", "currency": "CNY", "金 额": 1}, Money)
    assert info.value.problems[0].path == '$["金 额"]'


def test_make_converter_returns_independent_converters() -> None:
    """Hooks added to one converter do not leak into another."""
    first = make_converter()
    second = make_converter()
    first.register_unstructure_hook(Decimal, float)
    assert first.unstructure(Decimal("1.5")) == 1.5
    assert second.unstructure(Decimal("1.5")) == "1.5"


def test_organisation_round_trip_keeps_capital_and_dates() -> None:
    """Organisation profiles with money and dates round-trip."""
    org = Customer.organisation_named(
        "Müller & Söhne GmbH",
        created_at=T0,
        updated_at=T0,
        organisation=OrganisationProfile(
            legal_name="Müller & Söhne GmbH",
            registered_capital=Money.of("25000.00", "EUR"),
            founded_on=dt.date(1898, 5, 1),
        ),
    )
    assert from_json(to_json(org), Customer) == org


aware_datetimes = st.datetimes(
    min_value=dt.datetime(1900, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [
            dt.UTC,
            dt.timezone(dt.timedelta(hours=8)),
            dt.timezone(dt.timedelta(hours=-5, minutes=-30)),
        ]
    ),
)
finite_decimals = st.decimals(
    min_value=Decimal("-999999999999.9999"),
    max_value=Decimal("999999999999.9999"),
    allow_nan=False,
    allow_infinity=False,
    places=4,
)


storable_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=64
).filter(str.strip)


@given(amount=finite_decimals, when=aware_datetimes, text=storable_text)
def test_values_round_trip_exactly(amount: Decimal, when: dt.datetime, text: str) -> None:
    """Any finite amount, aware datetime and non-blank Unicode text survives JSON."""
    purchase = Purchase(
        customer_id=text,
        purchased_at=when,
        created_at=when,
        amount=Money(amount=amount, currency="EUR"),
        product=text,
    )
    back = from_json(to_json(purchase), Purchase)
    assert back == purchase
    assert back.purchased_at.utcoffset() == when.utcoffset()
    assert str(back.amount.amount) == str(amount)


@given(channel=st.sampled_from(list(InteractionChannel)))
def test_every_enum_value_round_trips(channel: InteractionChannel) -> None:
    """Enum members travel as their values and come back as members."""
    assert make_converter().structure(channel.value, InteractionChannel) is channel


@given(
    text=st.text(max_size=10),
    bad=st.sampled_from(["\x00", "\ud800", "\udfff"]),
    at=st.integers(min_value=0, max_value=10),
)
def test_text_no_database_can_store_is_refused(text: str, bad: str, at: int) -> None:
    """NUL and unpaired surrogates anywhere in any text field are refused with a coded problem."""
    poisoned = text[:at] + bad + text[at:]
    with pytest.raises(ValidationError) as info:
        from_dict({"kind": "person", "display_name": poisoned}, Customer)
    assert ("text.invalid_character", "$.display_name") in {
        (p.code, p.path) for p in info.value.problems
    }
