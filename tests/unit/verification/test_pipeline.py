"""The one normalisation pipeline: stored form, findings, refusal on errors."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from crmcore.errors import ValidationError
from crmcore.models import (
    ContactPerson,
    Customer,
    DecisionRole,
    Email,
    NameOrder,
    OrganisationProfile,
    PersonName,
    PersonProfile,
    Phone,
    PhoneKind,
    PostalAddress,
)
from crmcore.rules.verification import NormalisationPipeline, PhonePolicy, ValidationSpec

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def person(**fields: object) -> Customer:
    return Customer.person_named(family="张", given="伟", **fields)


def test_phones_emails_become_library_forms() -> None:
    """Phones become E.164 with kind, emails take email-validator's form."""
    pipeline = NormalisationPipeline(default_region="CN")
    customer = person(
        phones=(Phone(number="１３８００１３８０００", primary=True), Phone(number="010-62345678")),
        emails=(Email(address="Zhang.Wei@Example.COM", primary=True),),
    )
    result = pipeline(customer, now=NOW)
    assert [(p.number, p.kind) for p in result.phones] == [
        ("+8613800138000", PhoneKind.MOBILE),
        ("+861062345678", PhoneKind.LANDLINE),
    ]
    assert result.emails[0].address == "Zhang.Wei@example.com"
    assert result.id == customer.id


def test_region_comes_from_primary_address() -> None:
    """A number without country code is read with the primary address's country."""
    customer = person(
        phones=(Phone(number="030 1234567", primary=True),),
        addresses=(PostalAddress(country="Deutschland", primary=True),),
    )
    result = NormalisationPipeline(default_region="CN")(customer, now=NOW)
    assert result.phones[0].number == "+49301234567"
    assert result.addresses[0].country == "DE"


def test_region_inference_can_be_turned_off() -> None:
    """Without address inference the default region reads the number."""
    customer = person(
        phones=(Phone(number="010-62345678", primary=True),),
        addresses=(PostalAddress(country="DE", primary=True),),
    )
    pipeline = NormalisationPipeline(default_region="CN", infer_region_from_address=False)
    assert pipeline(customer, now=NOW).phones[0].number == "+861062345678"


def test_error_findings_refuse_the_customer_with_every_error() -> None:
    """Calling the pipeline raises ValidationError listing every error finding at once.

    The unknown country is only a warning, so it is not among them.
    """
    customer = person(
        phones=(Phone(number="not a phone", primary=True), Phone(number="+1 650 253 00")),
        emails=(Email(address="a..b@example.com", primary=True),),
        addresses=(PostalAddress(country="Narnia", primary=True),),
    )
    with pytest.raises(ValidationError) as raised:
        NormalisationPipeline(default_region="CN")(customer, now=NOW)
    assert [(p.code, p.path) for p in raised.value.problems] == [
        ("phone.not_a_number", "$.phones[0].number"),
        ("phone.impossible", "$.phones[1].number"),
        ("email.invalid", "$.emails[0].address"),
    ]
    assert all(p.severity == "error" for p in raised.value.problems)


def test_check_never_raises_and_keeps_everything() -> None:
    """check() reports findings and returns the customer with bad values kept and flagged."""
    customer = person(
        phones=(Phone(number="not a phone", primary=True), Phone(number="+1 200 555 0100")),
    )
    result = NormalisationPipeline().check(customer, now=NOW)
    assert not result.ok
    assert [p.number for p in result.customer.phones] == ["not a phone", "+1 200 555 0100"]
    assert [p.invalid for p in result.customer.phones] == [True, True]
    assert {p.code for p in result.findings} >= {"phone.not_a_number", "phone.invalid"}


def test_warnings_do_not_refuse() -> None:
    """A possible-but-invalid number is a warning: the customer is accepted, flagged."""
    customer = person(phones=(Phone(number="+1 200 555 0100", primary=True),))
    result = NormalisationPipeline()(customer, now=NOW)
    assert result.phones[0].invalid


def test_policy_can_refuse_invalid_numbers() -> None:
    """A stricter phone policy refuses a possible-but-invalid number."""
    pipeline = NormalisationPipeline(phones=PhonePolicy(invalid_severity="error"))
    with pytest.raises(ValidationError):
        pipeline(person(phones=(Phone(number="+1 200 555 0100"),)), now=NOW)


def test_names_and_display_name_are_normalised() -> None:
    """A CJK name typed given-first is reordered and the display name follows."""
    name = PersonName(family="王", given="芳", order=NameOrder.GIVEN_FIRST)
    customer = Customer.person_named(
        family="王", given="芳", person=PersonProfile(name=name), display_name="芳 王"
    )
    result = NormalisationPipeline().check(customer, now=NOW)
    assert result.customer.person is not None
    assert result.customer.person.name is not None
    assert result.customer.person.name.order is NameOrder.FAMILY_FIRST
    assert result.customer.display_name == "王芳"


def test_organisation_contact_persons_are_normalised() -> None:
    """Names, phones and emails of an organisation's contact persons are normalised too."""
    contact = ContactPerson(
        name=PersonName(given="李雷"),
        role=DecisionRole.DECISION_MAKER,
        phones=(Phone(number="139 1234 5678"),),
        emails=(Email(address="LiLei@Example.CN"),),
    )
    customer = Customer.organisation_named(
        " 北京示例科技有限公司 ",
        organisation=OrganisationProfile(
            legal_name=" 北京示例科技有限公司 ", contact_persons=(contact,)
        ),
        display_name=" 北京示例科技有限公司 ",
        addresses=(PostalAddress(country="CN", primary=True),),
    )
    result = NormalisationPipeline().check(customer, now=NOW)
    org = result.customer.organisation
    assert org is not None
    assert org.legal_name == "北京示例科技有限公司"
    assert result.customer.display_name == "北京示例科技有限公司"
    person_ = org.contact_persons[0]
    assert (person_.name.family, person_.name.given) == ("李", "雷")
    assert person_.phones[0].number == "+8613912345678"
    assert person_.emails[0].address == "LiLei@example.cn"
    assert "$.organisation.contact_persons[0].name" in {p.path for p in result.findings}


def test_a_mixed_batch_matches_customer_by_customer() -> None:
    """Organisations with contact persons, people, refused and clean customers in one
    batch: check_many gives each the result check gives it alone, in input order."""
    contact = ContactPerson(
        name=PersonName(given="李雷"),
        phones=(Phone(number="139 1234 5678"), Phone(number="12")),
        emails=(Email(address="LiLei@Example.CN"),),
    )
    organisation = Customer.organisation_named(
        "北京示例科技有限公司",
        organisation=OrganisationProfile(
            legal_name="北京示例科技有限公司", contact_persons=(contact,)
        ),
        addresses=(PostalAddress(country="中国", primary=True),),
    )
    batch = [
        organisation,
        person(phones=(Phone(number="010-62345678"),)),
        person(emails=(Email(address="not an email"),)),
        person(
            phones=(Phone(number="(650) 253-0000"),),
            addresses=(PostalAddress(country="USA", postal_code=" 94043 ", primary=True),),
        ),
    ]
    pipeline = NormalisationPipeline(default_region="CN")
    results = pipeline.check_many(batch, now=NOW)
    assert results == [pipeline.check(c, now=NOW) for c in batch]
    assert [r.ok for r in results] == [False, True, False, True]
    assert results[3].customer.phones[0].number == "+16502530000"
    assert pipeline.check_many([], now=NOW) == []


def test_normal_customer_is_returned_unchanged() -> None:
    """A customer already in normal form comes back as the same object, without findings."""
    customer = person(
        phones=(Phone(number="+8613800138000", kind=PhoneKind.MOBILE, primary=True),),
        emails=(Email(address="zhang@example.com", primary=True),),
    )
    result = NormalisationPipeline().check(customer, now=NOW)
    assert result.customer is customer
    assert result.findings == ()


def test_idempotent_on_mixed_input() -> None:
    """Normalising the normalised customer changes nothing."""
    customer = person(
        phones=(Phone(number="12345"), Phone(number="010 6234 5678 ext 9")),
        emails=(Email(address="Zhang@Example.COM"),),
        addresses=(PostalAddress(country="china", postal_code=" 100080 "),),
    )
    pipeline = NormalisationPipeline(default_region="CN")
    once = pipeline.check(customer, now=NOW)
    twice = pipeline.check(once.customer, now=NOW)
    assert twice.customer == once.customer
    assert twice.customer is once.customer


def test_now_defaults_to_updated_at() -> None:
    """Without now=, plausibility is judged at the record's own updated_at, not the clock."""
    stamp = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
    profile = PersonProfile(name=PersonName(family="张", given="伟"), birthday=dt.date(2005, 1, 1))
    customer = person(person=profile, created_at=stamp, updated_at=stamp)
    codes = [p.code for p in NormalisationPipeline().check(customer).findings]
    assert codes == ["date.in_future"]


def test_validation_can_be_switched_off() -> None:
    """With validation=None only normalisation findings are reported."""
    customer = person(phones=(Phone(number="+8613800138000"), Phone(number="+8613900139000")))
    assert NormalisationPipeline(validation=None).check(customer, now=NOW).findings == ()
    with_validation = NormalisationPipeline(validation=ValidationSpec()).check(customer, now=NOW)
    assert [p.code for p in with_validation.findings] == ["contact.primary_missing"]


def test_locale_per_call() -> None:
    """The locale is chosen per call; the codes stay the same."""
    customer = person(phones=(Phone(number="not a phone", primary=True),))
    pipeline = NormalisationPipeline()
    en = pipeline.check(customer, now=NOW).findings
    zh = pipeline.check(customer, now=NOW, locale="zh").findings
    assert [p.code for p in en] == [p.code for p in zh]
    assert en[0].message != zh[0].message


def test_pipeline_rejects_unknown_locale() -> None:
    """A pipeline with an unsupported locale cannot be built."""
    with pytest.raises(ValidationError):
        NormalisationPipeline(locale="fr")


def test_input_customer_is_not_modified() -> None:
    """The pipeline returns a new customer; the input is frozen and unchanged."""
    customer = person(phones=(Phone(number="13800138000"),))
    before = attrs.asdict(customer)
    NormalisationPipeline(default_region="CN").check(customer, now=NOW)
    assert attrs.asdict(customer) == before


def test_model_refusing_a_normalised_value_is_a_finding_not_a_crash() -> None:
    """If NFKC makes a value break a model limit, check() reports it and keeps the original."""
    long_name = "\ufdfa" + "a" * 500  # one character NFKC expands to 18
    customer = Customer.organisation_named(long_name)
    result = NormalisationPipeline().check(customer, now=NOW)
    assert result.customer.organisation is not None
    assert result.customer.organisation.legal_name == long_name
    assert ("value.too_long", "$.organisation.legal_name", "error") in {
        (p.code, p.path, p.severity) for p in result.findings
    }
    with pytest.raises(ValidationError):
        NormalisationPipeline()(customer, now=NOW)


def test_bad_arguments_are_typed_errors() -> None:
    """A naive now, an unknown locale or region are refused with codes, not bare TypeErrors."""
    customer = person()
    with pytest.raises(ValidationError) as raised:
        NormalisationPipeline().check(customer, now=dt.datetime(2026, 1, 1))
    assert raised.value.codes == ("datetime.naive",)
    with pytest.raises(ValidationError) as raised:
        NormalisationPipeline().check(customer, locale="fr")
    assert raised.value.codes == ("value.not_allowed",)
    for region in ("XX", "CHN", "中国", ""):
        with pytest.raises(ValidationError) as raised:
            NormalisationPipeline(default_region=region)
        assert raised.value.problems[0].path == "$.default_region"
