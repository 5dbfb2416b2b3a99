"""Data-quality scores explain themselves; the re-verification schedule lists what is due."""

from __future__ import annotations

import datetime as dt

from crmcore.models import (
    ContactPerson,
    CreditStanding,
    Customer,
    DecisionRole,
    Email,
    FactCategory,
    Gender,
    OrganisationProfile,
    PersonName,
    PersonProfile,
    Phone,
    PostalAddress,
    ProfileFact,
    Provenance,
    SourceChannel,
)
from crmcore.rules.verification import (
    BASIC_TEMPLATE,
    TRADITIONAL_PROFILE,
    FactKind,
    MaxAge,
    QualitySpec,
    ReverificationPolicy,
    due_for_reverification,
    score_quality,
    verification_items,
)

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
CREATED = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def seen(days_ago: int, *, verified: bool = False) -> Provenance:
    at = NOW - dt.timedelta(days=days_ago)
    return Provenance(
        channel=SourceChannel.CALL_CENTRE, observed_at=at, verified_at=at if verified else None
    )


def rich_person() -> Customer:
    profile = PersonProfile(
        name=PersonName(family="张", given="伟"),
        gender=Gender.MALE,
        birthday=dt.date(1985, 3, 2),
        occupation="engineer",
        income_band="high",
        education="master",
    )
    return Customer.person_named(
        family="张",
        given="伟",
        person=profile,
        created_at=CREATED,
        updated_at=CREATED,
        provenance=seen(10, verified=True),
        phones=(Phone(number="+8613800138000", primary=True, provenance=seen(10)),),
        emails=(Email(address="zhang@example.com", primary=True, provenance=seen(10)),),
        addresses=(
            PostalAddress(country="CN", primary=True, postal_code="100080", provenance=seen(10)),
        ),
        facts=(
            ProfileFact(category=FactCategory.HOBBY, key="sport", value="羽毛球"),
            ProfileFact(category=FactCategory.PREFERENCE, key="drink", value="carrot juice"),
        ),
    )


def test_completeness_lists_missing_fields_with_weights() -> None:
    """Completeness is the present share of template weight; gaps carry their weights."""
    score = score_quality(rich_person(), now=NOW, spec=QualitySpec(template=BASIC_TEMPLATE))
    missing = {gap.label: gap.weight for gap in score.missing}
    assert missing == {
        "purchases": 15,
        "interactions": 10,
        "price sensitivity": 5,
        "family status": 5,
    }
    assert score.completeness == (100 - 35) / 100
    assert {p.code for p in score.explanation} == {"quality.missing"}


def test_related_counts_fill_template_fields() -> None:
    """Purchases and interactions held elsewhere count when the caller passes their numbers."""
    score = score_quality(
        rich_person(),
        now=NOW,
        spec=QualitySpec(template=BASIC_TEMPLATE),
        related={"purchases": 3, "complaints": 1},
    )
    assert {gap.label for gap in score.missing} == {"price sensitivity", "family status"}


def test_both_templates_are_shipped() -> None:
    """The traditional profile and the basic template are distinct shipped templates."""
    assert TRADITIONAL_PROFILE.name == "traditional_profile"
    assert BASIC_TEMPLATE.name == "template"
    assert TRADITIONAL_PROFILE.total_weight == BASIC_TEMPLATE.total_weight == 100
    traditional = score_quality(rich_person(), now=NOW)
    assert traditional.template == "traditional_profile"
    assert "taboos" in {gap.label for gap in traditional.missing}


def test_validity_counts_flagged_and_bad_contact_points() -> None:
    """Invalid contact points lower validity and are listed with their findings."""
    customer = Customer.person_named(
        family="张",
        given="伟",
        created_at=CREATED,
        updated_at=CREATED,
        phones=(Phone(number="not a phone", primary=True), Phone(number="+8613800138000")),
        emails=(Email(address="bounced@example.com", primary=True, invalid=True),),
    )
    score = score_quality(customer, now=NOW)
    assert score.validity == 2 / 4
    assert "phone.not_a_number" in {p.code for p in score.invalid}
    invalid_paths = {p.path for p in score.explanation if p.code == "quality.invalid"}
    assert invalid_paths == {"$.phones[0]", "$.emails[0]"}


def test_freshness_and_stale_facts() -> None:
    """Facts older than their maximum age lower freshness and are listed as stale."""
    customer = Customer.person_named(
        family="张",
        given="伟",
        created_at=NOW - dt.timedelta(days=400),
        updated_at=NOW,
        phones=(Phone(number="+8613800138000", primary=True, provenance=seen(200)),),
        emails=(Email(address="zhang@example.com", primary=True, provenance=seen(20)),),
    )
    score = score_quality(customer, now=NOW)
    assert score.freshness == 1 / 3
    assert [(d.item.path, d.item.fact) for d in score.stale] == [
        ("$", FactKind.BASIC_DATA),
        ("$.phones[0]", FactKind.CONTACT_POINTS),
    ]
    assert 0.0 <= score.score <= 1.0


def test_score_is_weighted_mean() -> None:
    """The score is the spec-weighted mean of completeness, validity and freshness."""
    spec = QualitySpec(completeness_weight=1, validity_weight=0, freshness_weight=0)
    score = score_quality(rich_person(), now=NOW, spec=spec)
    assert score.score == score.completeness


def test_explanation_in_chinese() -> None:
    """The explanation is available in Chinese with the same codes."""
    en = score_quality(rich_person(), now=NOW).explanation
    zh = score_quality(rich_person(), now=NOW, locale="zh").explanation
    assert [p.code for p in en] == [p.code for p in zh]
    assert zh[0].message.startswith("缺少")


def organisation(days_ago: int) -> Customer:
    person = ContactPerson(
        name=PersonName(family="李", given="雷"),
        role=DecisionRole.DECISION_MAKER,
        provenance=seen(days_ago),
    )
    return Customer.organisation_named(
        "示例有限公司",
        created_at=NOW - dt.timedelta(days=1000),
        updated_at=NOW,
        provenance=seen(days_ago, verified=True),
        organisation=OrganisationProfile(
            legal_name="示例有限公司",
            credit_standing=CreditStanding.GOOD,
            credit_provenance=seen(days_ago, verified=True),
            contact_persons=(person,),
        ),
    )


def test_schedule_tracks_the_four_kinds_of_fact() -> None:
    """Basic data, contact points, credit standing and key decision makers are tracked."""
    customer = organisation(5)
    customer = Customer.organisation_named(
        "示例有限公司",
        organisation=customer.organisation,
        phones=(Phone(number="+861062345678"),),
        created_at=customer.created_at,
    )
    kinds = [item.fact for item in verification_items(customer)]
    assert kinds == [
        FactKind.BASIC_DATA,
        FactKind.CONTACT_POINTS,
        FactKind.CREDIT_STANDING,
        FactKind.KEY_DECISION_MAKERS,
    ]


def test_due_items_oldest_first_with_reasons() -> None:
    """What is due is listed oldest first (ties by customer and path), with coded reasons."""
    recent, old = organisation(100), organisation(400)
    due = due_for_reverification([recent, old], now=NOW)
    assert [(d.item.customer_id, d.item.fact) for d in due] == [
        (old.id, FactKind.BASIC_DATA),
        (old.id, FactKind.KEY_DECISION_MAKERS),
        (old.id, FactKind.CREDIT_STANDING),
        (recent.id, FactKind.KEY_DECISION_MAKERS),
    ]
    assert [d.reason.code for d in due] == [
        "verification.overdue",
        "verification.never_verified",
        "verification.overdue",
        "verification.never_verified",
    ]
    assert due[0].age_days == 400
    assert due[0].max_age_days == 365
    assert due[0].overdue_days == 35
    assert due[3].reason.path == "$.organisation.contact_persons[0]"


def test_policy_sets_max_ages() -> None:
    """A kind left out of the policy is never due; shorter ages make more due."""
    policy = ReverificationPolicy(max_ages=(MaxAge(fact=FactKind.CREDIT_STANDING, days=30),))
    due = due_for_reverification([organisation(40)], now=NOW, policy=policy)
    assert [d.item.fact for d in due] == [FactKind.CREDIT_STANDING]


def test_fact_exactly_at_max_age_is_not_due() -> None:
    """A fact exactly as old as its maximum age is not yet due."""
    policy = ReverificationPolicy(max_ages=(MaxAge(fact=FactKind.CREDIT_STANDING, days=30),))
    assert due_for_reverification([organisation(30)], now=NOW, policy=policy) == ()


def test_without_provenance_age_runs_from_creation() -> None:
    """Facts without provenance age from the customer's creation and are never verified."""
    customer = Customer.person_named(
        family="王", given="芳", created_at=NOW - dt.timedelta(days=500), updated_at=NOW
    )
    due = due_for_reverification([customer], now=NOW)
    assert [(d.item.basis, d.reason.code, d.age_days) for d in due] == [
        ("created", "verification.never_verified", 500)
    ]
