"""Flags follow the data: corrected values lose the pipeline's verdict; names carry display."""

from __future__ import annotations

import datetime as dt

import attrs

from crmcore.models import (
    Customer,
    Email,
    OrganisationProfile,
    PersonName,
    Phone,
    PostalAddress,
    replace,
)
from crmcore.rules.verification import NormalisationPipeline

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
PIPELINE = NormalisationPipeline(default_region="CN")


def _person(**fields: object) -> Customer:
    return Customer.person_named(family="张", given="伟", **fields)


def test_a_corrected_phone_is_no_longer_invalid() -> None:
    """A number the pipeline flagged, once corrected by the user, is stored valid."""
    typo = PIPELINE.check(_person(phones=(Phone(number="1380013800", primary=True),)), now=NOW)
    flagged = typo.customer.phones[0]
    assert flagged.invalid
    assert flagged.invalid_by_pipeline
    corrected = replace(typo.customer, phones=(replace(flagged, number="13800138000"),))
    stored = PIPELINE(corrected, now=NOW)
    assert stored.phones[0].number == "+8613800138000"
    assert not stored.phones[0].invalid
    assert not stored.phones[0].invalid_by_pipeline
    assert stored.primary_phone == stored.phones[0]


def test_a_corrected_email_is_no_longer_invalid() -> None:
    """An address flagged under a lenient policy, once corrected, is valid."""
    from crmcore.rules.verification import EmailPolicy

    lenient = NormalisationPipeline(emails=EmailPolicy(invalid_severity="warning"))
    typo = lenient(_person(emails=(Email(address="zhang@@example.com", primary=True),)), now=NOW)
    assert typo.emails[0].invalid
    assert typo.emails[0].invalid_by_pipeline
    corrected = replace(typo, emails=(replace(typo.emails[0], address="zhang@example.com"),))
    stored = lenient(corrected, now=NOW)
    assert (stored.emails[0].address, stored.emails[0].invalid) == ("zhang@example.com", False)


def test_the_users_own_invalid_flag_survives_normalisation() -> None:
    """A valid number the user flagged (disconnected) stays flagged: the pipeline keeps it."""
    dead = Phone(number="13800138000", invalid=True)
    stored = PIPELINE(_person(phones=(dead,)), now=NOW)
    assert stored.phones[0].number == "+8613800138000"
    assert stored.phones[0].invalid
    assert not stored.phones[0].invalid_by_pipeline
    email = PIPELINE(_person(emails=(Email(address="a@example.com", invalid=True),)), now=NOW)
    assert email.emails[0].invalid


def test_a_user_flag_on_a_bad_value_is_kept_after_correction() -> None:
    """When the user had flagged the point themselves, correcting the value keeps their flag."""
    typo = PIPELINE.check(_person(phones=(Phone(number="1380013800", invalid=True),)), now=NOW)
    assert typo.customer.phones[0].invalid
    assert not typo.customer.phones[0].invalid_by_pipeline
    fixed = replace(typo.customer.phones[0], number="13800138000")
    stored = PIPELINE(replace(typo.customer, phones=(fixed,)), now=NOW)
    assert stored.phones[0].invalid


def test_a_still_bad_value_stays_flagged_by_the_pipeline() -> None:
    """Normalising a flagged value again keeps the verdict (idempotent)."""
    once = PIPELINE.check(_person(phones=(Phone(number="1380013800"),)), now=NOW).customer
    twice = PIPELINE.check(once, now=NOW).customer
    assert twice == once
    assert twice.phones[0].invalid_by_pipeline


def test_contact_persons_phones_follow_their_data_too() -> None:
    """The same verdict rules apply to a contact person's phones."""
    from crmcore.models import ContactPerson

    person = ContactPerson(name=PersonName(family="李", given="娜"), phones=(Phone(number="123"),))
    org = Customer.organisation_named(
        "北京示例科技有限公司",
        organisation=OrganisationProfile(
            legal_name="北京示例科技有限公司", contact_persons=(person,)
        ),
    )
    flagged = PIPELINE.check(org, now=NOW).customer
    bad = flagged.organisation.contact_persons[0]  # type: ignore[union-attr]
    assert bad.phones[0].invalid_by_pipeline
    good = replace(bad, phones=(replace(bad.phones[0], number="13800138000"),))
    org2 = replace(
        flagged,
        organisation=replace(flagged.organisation, contact_persons=(good,)),  # type: ignore[type-var]
    )
    stored = PIPELINE(org2, now=NOW)
    assert not stored.organisation.contact_persons[0].phones[0].invalid  # type: ignore[union-attr]


# ------------------------------------------------------------------ display names


def test_a_renamed_person_display_name_follows_the_new_name() -> None:
    """display_name derived from the old name follows the new one (renamed_from)."""
    before = _person()
    after = replace(before, person=replace(before.person, name=PersonName(family="李", given="娜")))  # type: ignore[type-var]
    assert after.display_name == "张伟"
    assert after.renamed_from(before).display_name == "李娜"


def test_a_display_name_in_given_first_order_also_follows() -> None:
    """A display name written given-first ("Wei Zhang") counts as derived from the name."""
    name = PersonName(family="Zhang", given="Wei")
    before = Customer.person_named(family="Zhang", given="Wei", display_name="Wei Zhang")
    assert before.person is not None
    assert before.person.name == name
    after = replace(before, person=replace(before.person, name=PersonName(family="Li", given="Na")))
    assert after.renamed_from(before).display_name == "Na Li"


def test_a_custom_display_name_is_kept_on_rename() -> None:
    """A display name the user chose ("张总") is not replaced when the name changes."""
    before = _person(display_name="张总")
    after = replace(before, person=replace(before.person, name=PersonName(family="李", given="娜")))  # type: ignore[type-var]
    assert after.renamed_from(before).display_name == "张总"


def test_a_display_name_changed_with_the_name_is_the_users_choice() -> None:
    """When the update itself sets a display name, it wins over the derived one."""
    before = _person()
    after = replace(
        before,
        display_name="Lina",
        person=replace(before.person, name=PersonName(family="李", given="娜")),  # type: ignore[type-var]
    )
    assert after.renamed_from(before).display_name == "Lina"


def test_a_renamed_organisation_display_name_follows_the_legal_name() -> None:
    """An organisation's display name derived from its legal name follows a new legal name."""
    before = Customer.organisation_named("北京示例科技有限公司")
    org = replace(before.organisation, legal_name="北京新示例科技有限公司")  # type: ignore[type-var]
    after = replace(before, organisation=org)
    assert after.renamed_from(before).display_name == "北京新示例科技有限公司"
    custom = replace(before, display_name="示例科技")
    assert replace(custom, organisation=org).renamed_from(custom).display_name == "示例科技"


def test_renamed_from_returns_the_customer_itself_when_nothing_follows() -> None:
    """No rename, no change: the same object comes back."""
    before = _person()
    same = replace(before, notes="VIP")
    assert same.renamed_from(before) is same


# ------------------------------------------------------------------ primary phone


def test_primary_phone_is_the_primary_even_when_flagged_invalid() -> None:
    """A customer whose only phones are flagged still has their primary phone."""
    dead = Phone(number="+8613800000000", invalid=True, primary=True)
    other = Phone(number="+8613900000000", invalid=True)
    customer = _person(phones=(other, dead))
    assert customer.primary_phone == dead
    assert attrs.evolve(customer, phones=(other,)).primary_phone is None
    email = Email(address="a@example.com", invalid=True, primary=True)
    assert attrs.evolve(customer, emails=(email,)).primary_email == email
    address = PostalAddress(country="CN", invalid=True, primary=True)
    assert attrs.evolve(customer, addresses=(address,)).primary_address == address
