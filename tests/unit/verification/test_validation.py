"""Business validation reports every finding at once, coded and pathed."""

from __future__ import annotations

import datetime as dt

import pytest

from crmcore.errors import ValidationError
from crmcore.models import (
    ContactPerson,
    Customer,
    CustomerKind,
    Email,
    FamilyMember,
    OrganisationProfile,
    PersonName,
    PersonProfile,
    Phone,
    Provenance,
    SourceChannel,
)
from crmcore.rules.verification import AllowedValues, RequiredField, ValidationSpec, validate

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def person(birthday: dt.date | None = None, **fields: object) -> Customer:
    profile = PersonProfile(name=PersonName(family="张", given="伟"), birthday=birthday)
    return Customer.person_named(family="张", given="伟", person=profile, **fields)


def codes(found: tuple[object, ...]) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in found]  # type: ignore[attr-defined]


def test_clean_customer_has_no_findings() -> None:
    """A plausible customer with default rules has no findings."""
    assert validate(person(dt.date(1990, 5, 17)), now=NOW) == ()


def test_birthday_in_future_is_an_error() -> None:
    """A birthday after now is date.in_future, an error."""
    found = validate(person(dt.date(2026, 6, 2)), now=NOW)
    assert codes(found) == [("date.in_future", "$.person.birthday")]
    assert found[0].severity == "error"


def test_birthday_today_is_fine() -> None:
    """A birthday on today's date is not in the future."""
    assert validate(person(dt.date(2026, 6, 1)), now=NOW) == ()


def test_age_bounds() -> None:
    """Ages outside the configured bounds are warnings with the age in the message."""
    spec = ValidationSpec(min_age=18, max_age=100)
    young = validate(person(dt.date(2010, 1, 1)), spec=spec, now=NOW)
    old = validate(person(dt.date(1900, 1, 1)), spec=spec, now=NOW)
    assert [(p.code, p.severity) for p in young] == [("age.too_young", "warning")]
    assert "16" in young[0].message
    assert [p.code for p in old] == ["age.too_old"]


def test_required_fields_per_kind() -> None:
    """Required fields apply to their customer kind only and report every gap."""
    spec = ValidationSpec(
        required=(
            RequiredField(path="person.birthday", customer_kind=CustomerKind.PERSON),
            RequiredField(path="phones"),
            RequiredField(
                path="organisation.registration_number", customer_kind=CustomerKind.ORGANISATION
            ),
            RequiredField(path="facts:preference", severity="warning"),
        )
    )
    found = validate(person(), spec=spec, now=NOW)
    assert codes(found) == [
        ("required.missing", "$.person.birthday"),
        ("required.missing", "$.phones"),
        ("required.missing", "$.facts.preference"),
    ]
    assert [p.severity for p in found] == ["error", "error", "warning"]
    org = Customer.organisation_named("示例有限公司", phones=(Phone(number="+8613800138000"),))
    assert codes(validate(org, spec=spec, now=NOW))[0] == (
        "required.missing",
        "$.organisation.registration_number",
    )


def test_blank_required_text_counts_as_missing() -> None:
    """A whitespace-only value does not satisfy a required field."""
    spec = ValidationSpec(required=(RequiredField(path="person.education"),))
    profile = PersonProfile(name=PersonName(family="张", given="伟"), education="  ")
    found = validate(
        Customer.person_named(family="张", given="伟", person=profile), spec=spec, now=NOW
    )
    assert codes(found) == [("required.missing", "$.person.education")]


def test_allowed_values_checks_each_item() -> None:
    """Allowed values are checked per item (tags are kept sorted) and by enum value."""
    spec = ValidationSpec(
        allowed=(
            AllowedValues(path="tags", values=("vip", "wholesale")),
            AllowedValues(path="lifecycle_stage", values=("client", "member")),
        )
    )
    found = validate(person(tags=("vip", "spam")), spec=spec, now=NOW)
    assert codes(found) == [
        ("value.disallowed", "$.tags[0]"),
        ("value.disallowed", "$.lifecycle_stage"),
    ]


def test_primary_contact_rules() -> None:
    """Contact points need exactly one valid primary per kind."""
    customer = person(
        phones=(
            Phone(number="+8613800138000", primary=True, invalid=True),
            Phone(number="+8613900139000", primary=True),
        ),
        emails=(Email(address="zhang@example.com"),),
    )
    found = validate(customer, now=NOW)
    assert [(p.code, p.path, p.severity) for p in found] == [
        ("contact.primary_multiple", "$.phones", "error"),
        ("contact.primary_invalid", "$.phones[0].invalid", "warning"),
        ("contact.primary_missing", "$.emails", "warning"),
    ]


def test_primary_rules_can_be_switched_off() -> None:
    """Severity "off" disables a consistency rule."""
    spec = ValidationSpec(primary_missing_severity="off")
    customer = person(emails=(Email(address="zhang@example.com"),))
    assert validate(customer, spec=spec, now=NOW) == ()


def test_other_future_dates() -> None:
    """Family birthdays, founding dates, contact-person birthdays and provenance are checked."""
    profile = PersonProfile(
        name=PersonName(family="张", given="伟"),
        family_members=(FamilyMember(relation="daughter", birthday=dt.date(2030, 1, 1)),),
    )
    later = NOW + dt.timedelta(days=1)
    customer = Customer.person_named(
        family="张",
        given="伟",
        person=profile,
        acquired_on=dt.date(2027, 1, 1),
        provenance=Provenance(channel=SourceChannel.HOTLINE, observed_at=later),
    )
    assert codes(validate(customer, now=NOW)) == [
        ("date.in_future", "$.acquired_on"),
        ("date.in_future", "$.person.family_members[0].birthday"),
        ("provenance.in_future", "$.provenance.observed_at"),
    ]
    org = Customer.organisation_named(
        "示例有限公司",
        organisation=OrganisationProfile(
            legal_name="示例有限公司",
            founded_on=dt.date(2027, 1, 1),
            contact_persons=(
                ContactPerson(
                    name=PersonName(family="李", given="雷"), birthday=dt.date(2027, 1, 1)
                ),
            ),
        ),
    )
    assert codes(validate(org, now=NOW)) == [
        ("date.in_future", "$.organisation.founded_on"),
        ("date.in_future", "$.organisation.contact_persons[0].birthday"),
    ]


def test_messages_in_chinese() -> None:
    """Chinese messages carry the same codes and paths."""
    found_en = validate(person(dt.date(2030, 1, 1)), now=NOW)
    found_zh = validate(person(dt.date(2030, 1, 1)), now=NOW, locale="zh")
    assert codes(found_en) == codes(found_zh)
    assert "晚于今天" in found_zh[0].message


def test_bad_spec_is_refused() -> None:
    """A spec with an unknown severity or inverted age range cannot be built."""
    with pytest.raises(ValidationError) as raised:
        ValidationSpec(age_severity="fatal", min_age=50, max_age=10)
    assert set(raised.value.codes) == {"spec.severity_invalid", "spec.range_invalid"}
    with pytest.raises(ValidationError):
        RequiredField(path="phones", severity="loud")
