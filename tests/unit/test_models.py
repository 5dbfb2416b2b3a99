"""Behaviour of the domain models: construction checks, names, contact points, purchases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from crmcore.errors import CrmError, ValidationError
from crmcore.models import (
    Consent,
    ContactPerson,
    Customer,
    CustomerKind,
    DecisionRole,
    Email,
    LifecycleStage,
    Money,
    NameOrder,
    OptOut,
    OrganisationProfile,
    PersonName,
    PersonProfile,
    Phone,
    PostalAddress,
    Provenance,
    Purchase,
    SourceChannel,
    is_cjk,
)

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def test_cjk_names_default_to_family_first_and_display_without_space() -> None:
    """A Chinese name is written family name first, with no space."""
    name = PersonName(family="欧阳", given="娜娜")
    assert name.order is NameOrder.FAMILY_FIRST
    assert name.display == "欧阳娜娜"


@pytest.mark.parametrize(
    ("family", "given", "expected"),
    [
        ("김", "민준", "김민준"),
        ("山田", "太郎", "山田太郎"),
        ("やまだ", "たろう", "やまだたろう"),
    ],
)
def test_korean_and_japanese_names_are_family_first(family: str, given: str, expected: str) -> None:
    """Korean hangul and Japanese kanji/kana names are family-first like Chinese ones."""
    assert PersonName(family=family, given=given).display == expected


def test_western_names_default_to_given_first() -> None:
    """A Western name is written given name first, separated by a space."""
    name = PersonName(family="Müller", given="Jürgen")
    assert name.order is NameOrder.GIVEN_FIRST
    assert name.display == "Jürgen Müller"


def test_romanised_chinese_name_keeps_explicit_family_first_order() -> None:
    """A romanised Chinese name can be marked family-first and displays with a space."""
    name = PersonName(family="Zhang", given="Wei", order=NameOrder.FAMILY_FIRST)
    assert name.display == "Zhang Wei"


def test_name_needs_a_family_or_given_part() -> None:
    """An empty name is rejected with a stable code."""
    with pytest.raises(ValidationError) as info:
        PersonName(family=" ", given="")
    assert info.value.codes == ("name.empty",)


def test_is_cjk_ignores_punctuation_and_rejects_mixed_scripts() -> None:
    """Only names whose letters are all CJK count as CJK."""
    assert is_cjk("张·伟")
    assert not is_cjk("张 Wei")
    assert not is_cjk("123")


def test_customer_reports_every_problem_at_once() -> None:
    """Wrong types, blank text, negative versions and naive datetimes come back together."""
    with pytest.raises(ValidationError) as info:
        Customer(
            kind="person",  # type: ignore[arg-type]
            display_name="   ",
            version=-1,
            created_at=dt.datetime(2026, 1, 1),
        )
    error = info.value
    assert isinstance(error, CrmError)
    assert isinstance(error, ValueError)
    assert {(p.code, p.path) for p in error.problems} == {
        ("type.invalid", "$.kind"),
        ("value.blank", "$.display_name"),
        ("value.negative", "$.version"),
        ("datetime.naive", "$.created_at"),
    }


def test_customer_kind_must_match_its_profile() -> None:
    """A person needs a person profile and cannot carry an organisation profile."""
    with pytest.raises(ValidationError) as info:
        Customer(
            kind=CustomerKind.PERSON,
            display_name="Acme",
            organisation=OrganisationProfile(legal_name="Acme Ltd"),
        )
    assert info.value.codes == ("customer.profile_missing", "customer.profile_mismatch")


def test_organisation_builder_and_decision_chain() -> None:
    """Organisations hold contact persons; decision makers and key people are found."""
    boss = ContactPerson(name=PersonName(family="王", given="芳"), role=DecisionRole.DECISION_MAKER)
    keeper = ContactPerson(name=PersonName(family="Li", given="Lei"), role=DecisionRole.GATEKEEPER)
    key_user = ContactPerson(
        name=PersonName(family="陈", given="晨"), role=DecisionRole.USER, key_person=True
    )
    org = Customer.organisation_named(
        "北京星辰科技有限公司",
        organisation=OrganisationProfile(
            legal_name="北京星辰科技有限公司",
            registered_capital=Money.of("5000000", "CNY"),
            contact_persons=(boss, keeper, key_user),
        ),
    )
    assert org.kind is CustomerKind.ORGANISATION
    assert org.display_name == "北京星辰科技有限公司"
    assert org.organisation is not None
    assert org.organisation.decision_makers() == (boss, key_user)


def test_tags_are_kept_sorted_and_unique() -> None:
    """Equal tag sets give equal customers, whatever order they came in."""
    a = Customer.person_named(family="Doe", given="Jane", id="c1", created_at=T0, updated_at=T0)
    b = attrs.evolve(a, tags=("vip", "beijing", "vip"))
    c = attrs.evolve(a, tags=("beijing", "vip"))
    assert b.tags == ("beijing", "vip")
    assert b == c


def test_evolve_rechecks_the_model() -> None:
    """attrs.evolve cannot produce an invalid customer."""
    customer = Customer.person_named(family="Doe", given="Jane")
    with pytest.raises(ValidationError):
        attrs.evolve(customer, updated_at=customer.created_at - dt.timedelta(days=1))


def test_duplicate_contact_point_ids_are_rejected() -> None:
    """Two contact points with the same id would make merges ambiguous."""
    phone = Phone(id="p1", number="+8613800138000")
    with pytest.raises(ValidationError) as info:
        Customer.person_named(family="张", given="三", phones=(phone, phone))
    assert info.value.problems[0].path == "$.phones[1]"
    assert info.value.codes == ("value.duplicate",)


def test_primary_contact_point_prefers_flagged_valid_points() -> None:
    """The primary phone is the valid one marked primary, else the first valid one.

    Else the one marked primary even if flagged invalid (issue 9, item 5: never
    nothing while a primary phone exists).
    """
    dead = Phone(number="+8613800000000", invalid=True, primary=True)
    first = Phone(number="+8613800138000")
    flagged = Phone(number="+8613900139000", primary=True)
    customer = Customer.person_named(family="张", given="三", phones=(dead, first, flagged))
    assert customer.primary_phone == flagged
    assert attrs.evolve(customer, phones=(dead, first)).primary_phone == first
    assert attrs.evolve(customer, phones=(dead,)).primary_phone == dead
    assert attrs.evolve(customer, phones=(attrs.evolve(dead, primary=False),)).primary_phone is None


def test_opt_outs_and_latest_consent() -> None:
    """Opting out of everything blocks every channel; the latest consent record wins."""
    email = Email(
        address="li@example.cn",
        opt_outs=(OptOut.ALL,),
        consents=(
            Consent(purpose="marketing", granted=True, recorded_at=T0),
            Consent(purpose="marketing", granted=False, recorded_at=T0 + dt.timedelta(days=3)),
        ),
    )
    assert not email.allows(OptOut.EMAIL)
    assert email.consent_for("marketing") is False
    assert email.consent_for("research") is None
    assert Phone(number="+4930123456", opt_outs=(OptOut.SMS,)).allows(OptOut.CALL)


def test_international_address_keeps_its_parts() -> None:
    """Addresses carry region, city, district and several street lines in any script."""
    address = PostalAddress(
        country="CN",
        region="北京市",
        city="北京",
        district="海淀区",
        street_lines=("中关村大街 27 号", "1101 室"),
        postal_code="100080",
    )
    assert address.street_lines[1] == "1101 室"


def test_provenance_cannot_be_verified_before_it_was_observed() -> None:
    """A verification date earlier than the observation is an impossible value."""
    with pytest.raises(ValidationError) as info:
        Provenance(
            channel=SourceChannel.HOTLINE,
            observed_at=T0,
            verified_at=T0 - dt.timedelta(seconds=1),
        )
    assert info.value.codes == ("provenance.verified_before_observed",)


def test_source_channels_know_direct_and_bought_data() -> None:
    """Hotline data is direct; rented lists are indirect and bought."""
    assert SourceChannel.HOTLINE.is_direct
    assert not SourceChannel.PURCHASED_LIST.is_direct
    assert SourceChannel.PURCHASED_LIST.is_bought


def test_purchase_margin_and_currency_rules() -> None:
    """Margin is amount minus cost; a cost in another currency is rejected."""
    purchase = Purchase(
        customer_id="c1",
        purchased_at=T0,
        amount=Money.of("199.00", "CNY"),
        cost=Money.of("120.50", "CNY"),
        product="茶具",
        quantity=Decimal("2"),
    )
    assert purchase.margin == Money.of("78.50", "CNY")
    with pytest.raises(ValidationError) as info:
        attrs.evolve(purchase, cost=Money.of("10", "USD"))
    assert info.value.codes == ("purchase.currency_mismatch",)


def test_money_rejects_floats_bad_currency_and_non_finite_amounts() -> None:
    """Money takes a finite Decimal and a three-letter ISO code."""
    with pytest.raises(ValidationError) as info:
        Money(amount=19.9, currency="yuan")  # type: ignore[arg-type]
    assert info.value.codes == ("type.invalid",)
    with pytest.raises(ValidationError) as info:
        Money(amount=Decimal("NaN"), currency="CNY")
    assert info.value.codes == ("value.not_finite",)
    with pytest.raises(ValidationError) as info:
        Money(amount=Decimal(1), currency="yuan")
    assert info.value.codes == ("money.currency_invalid",)


def test_purchase_quantity_must_be_positive() -> None:
    """A zero quantity is not a purchase."""
    with pytest.raises(ValidationError) as info:
        Purchase(
            customer_id="c1",
            purchased_at=T0,
            amount=Money.of(1, "EUR"),
            product="x",
            quantity=Decimal(0),
        )
    assert info.value.codes == ("value.not_positive",)


def test_age_on_counts_whole_years() -> None:
    """Age is computed in whole years, birthdays counted on the day."""
    customer = Customer.person_named(
        family="Doe",
        given="Jane",
        person=PersonProfile(
            name=PersonName(family="Doe", given="Jane"), birthday=dt.date(1990, 3, 15)
        ),
    )
    assert customer.age_on(dt.date(2026, 3, 14)) == 35
    assert customer.age_on(dt.date(2026, 3, 15)) == 36


def test_lifecycle_ladder_knows_who_left() -> None:
    """Lapsed, lost and disqualified customers are off the ladder."""
    assert LifecycleStage.ADVOCATE.on_ladder
    assert not LifecycleStage.LOST.on_ladder


def test_person_named_takes_the_name_of_the_profile_it_is_given() -> None:
    profile = PersonProfile(name=PersonName(family="林", given="月"), birthday=dt.date(2000, 2, 29))
    customer = Customer.person_named(person=profile)
    assert (customer.display_name, customer.person) == ("林月", profile)
    assert Customer.person_named(family="林", given="月", person=profile).display_name == "林月"
    with pytest.raises(ValidationError) as caught:
        Customer.person_named(family="王", given="芳", person=profile)
    assert [(p.code, p.path) for p in caught.value.problems] == [
        ("customer.name_mismatch", "$.person.name")
    ]


def test_person_named_keeps_one_name_in_the_display_and_the_profile() -> None:
    """A part given beside a profile fills the part it lacks; a part left out is the profile's."""
    profile = PersonProfile(name=PersonName(family="陈", given="月"))
    only_family = Customer.person_named(family="陈", person=profile)
    assert only_family.display_name == "陈月"
    assert only_family.person is not None
    assert only_family.person.name == profile.name
    family_only = PersonProfile(name=PersonName(family="Müller"), birthday=dt.date(1990, 1, 2))
    completed = Customer.person_named(given="Anna", person=family_only)
    assert completed.person is not None
    assert completed.person.name is not None
    assert (completed.person.name.family, completed.person.name.given) == ("Müller", "Anna")
    assert completed.display_name == completed.person.name.display
    assert completed.person.birthday == dt.date(1990, 1, 2)
