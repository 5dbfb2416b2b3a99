"""Organisations are scored as organisations; Chinese messages are Chinese throughout."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from crmcore.models import (
    Customer,
    Email,
    OrganisationProfile,
    Phone,
    PhoneKind,
    PostalAddress,
    Provenance,
    SourceChannel,
)
from crmcore.rules.verification import (
    BASIC_TEMPLATE,
    ORGANISATION_PROFILE,
    TRADITIONAL_PROFILE,
    EmailPolicy,
    NormalisationPipeline,
    QualitySpec,
    SourcedValue,
    normalise_email,
    normalise_phone,
    resolve_conflict,
    score_quality,
)

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
# English words of three letters or more: what must not appear in a Chinese message
# (finding codes in brackets and $.paths are identifiers, not words)
_WORDS = re.compile(r"\b[a-z]{3,}\b")
_IDENTIFIERS = re.compile(r"\[[a-z_.]+\]|\$[\w.\[\]]*")


class ENGLISH:
    """Finds English words in a message, ignoring codes and paths."""

    @staticmethod
    def search(message: str) -> re.Match[str] | None:
        return _WORDS.search(_IDENTIFIERS.sub("", message))


def _org() -> Customer:
    return Customer.organisation_named(
        "北京示例科技有限公司",
        organisation=OrganisationProfile(legal_name="北京示例科技有限公司", industry="软件"),
    )


def test_organisations_are_scored_against_the_organisation_template_by_default() -> None:
    """score_quality without a spec uses ORGANISATION_PROFILE for organisations."""
    score = score_quality(_org(), now=NOW)
    assert score.template == ORGANISATION_PROFILE.name
    assert "registration" in [gap.label for gap in score.missing]
    assert "birthday" not in [gap.label for gap in score.missing]


def test_people_are_still_scored_against_the_traditional_profile() -> None:
    """The person default is unchanged."""
    person = Customer.person_named(family="张", given="伟")
    assert score_quality(person, now=NOW).template == TRADITIONAL_PROFILE.name


def test_a_spec_with_default_templates_picks_by_kind_too() -> None:
    """QualitySpec(weights only) still scores an organisation as an organisation."""
    spec = QualitySpec(completeness_weight=80, validity_weight=10, freshness_weight=10)
    assert score_quality(_org(), now=NOW, spec=spec).template == ORGANISATION_PROFILE.name


def test_an_explicit_organisation_template_of_none_uses_the_person_template() -> None:
    """organisation_template=None scores every customer against template."""
    spec = QualitySpec(template=BASIC_TEMPLATE, organisation_template=None)
    assert score_quality(_org(), now=NOW, spec=spec).template == BASIC_TEMPLATE.name


@pytest.mark.parametrize("template", [TRADITIONAL_PROFILE, BASIC_TEMPLATE, ORGANISATION_PROFILE])
def test_every_shipped_template_field_has_a_chinese_label(template: object) -> None:
    """Each shipped template field has a Chinese label, with no English in it."""
    for field in template.fields:  # type: ignore[attr-defined]
        assert field.label_zh
        assert not ENGLISH.search(field.label_zh), field.label_zh


def test_quality_explanations_in_chinese_name_fields_in_chinese() -> None:
    """The zh quality.missing messages carry the Chinese labels."""
    person = Customer.person_known_by(phones=(Phone(number="+8613800138000", primary=True),))
    for locale_customer in (person, _org()):
        score = score_quality(locale_customer, now=NOW, locale="zh")
        for problem in score.explanation:
            assert not ENGLISH.search(problem.message), problem.message


@pytest.mark.parametrize(
    "raw",
    [
        "a..b@example.com",
        "no-at-sign.example.com",
        "zhang@",
        "@example.com",
        "zhang@example",
        "zhang wei@example.com",
        "zhang@exa mple.com",
        "a@" + "b" * 70 + ".com",
        ".a@example.com",
        "a@@example.com",
        "a@example.invalid",
    ],
)
def test_email_reasons_are_chinese(raw: str) -> None:
    """email-validator's English reasons are rendered in Chinese in zh messages."""
    found = normalise_email(raw, locale="zh").findings
    assert found
    message = found[0].message
    assert message.startswith("不是有效的电子邮件地址：")
    assert not ENGLISH.search(message), message
    english = normalise_email(raw).findings[0].message
    assert ENGLISH.search(english)


@pytest.mark.parametrize("raw", ["+86 1380013800000", "+49 1"])
def test_phone_reasons_are_chinese(raw: str) -> None:
    """The impossible-number reason (too short, too long) is Chinese in zh."""
    for problem in normalise_phone(raw, region=None, locale="zh").findings:
        assert not ENGLISH.search(problem.message), problem.message


def test_phone_kind_conflicts_are_chinese() -> None:
    """Kinds and numbering-plan types are named in Chinese."""
    phone = Phone(number="+8613800138000", kind=PhoneKind.LANDLINE)
    result = NormalisationPipeline(locale="zh").check(
        Customer.person_named(family="张", phones=(phone,)), now=NOW
    )
    kinds = [p for p in result.findings if p.code == "phone.kind_conflict"]
    assert kinds
    assert not ENGLISH.search(kinds[0].message), kinds[0].message


def test_postal_code_shapes_and_provenance_fields_are_chinese() -> None:
    """address.postal_code_shape and provenance.in_future have no English in zh."""
    future = Provenance(channel=SourceChannel.HOTLINE, observed_at=NOW + dt.timedelta(days=2))
    customer = Customer.person_named(
        family="张",
        addresses=(PostalAddress(country="CN", postal_code="12345", primary=True),),
        emails=(Email(address="a@example.com", primary=True, provenance=future),),
    )
    result = NormalisationPipeline(locale="zh").check(customer, now=NOW)
    codes = {p.code for p in result.findings}
    assert {"address.postal_code_shape", "provenance.in_future"} <= codes
    for problem in result.findings:
        assert not ENGLISH.search(problem.message), problem.message


def test_conflict_reasons_name_channels_in_chinese() -> None:
    """Source channels in conflict.higher_trust are Chinese in zh."""
    hotline = Provenance(channel=SourceChannel.HOTLINE, observed_at=NOW, customer_initiated=True)
    bought = Provenance(channel=SourceChannel.PURCHASED_LIST, observed_at=NOW)
    resolution = resolve_conflict(
        SourcedValue(value="a", provenance=hotline),
        SourcedValue(value="b", provenance=bought),
        locale="zh",
    )
    assert resolution.reason.code == "conflict.higher_trust"
    assert not ENGLISH.search(resolution.reason.message), resolution.reason.message


def test_email_undeliverable_policy_reason_in_chinese() -> None:
    """A lenient policy's invalid email (kept, flagged) still explains itself in Chinese."""
    pipeline = NormalisationPipeline(locale="zh", emails=EmailPolicy(invalid_severity="warning"))
    result = pipeline.check(
        Customer.person_named(family="张", emails=(Email(address="a..b@example.com"),)), now=NOW
    )
    for problem in result.findings:
        assert not ENGLISH.search(problem.message), problem.message
