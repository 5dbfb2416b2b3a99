"""Trust follows the brief's order; conflicts are settled by a recorded rule; vendors are scored."""

from __future__ import annotations

import datetime as dt

import pytest

from crmcore.models import (
    Customer,
    Email,
    Gender,
    OrganisationProfile,
    PersonName,
    PersonProfile,
    Phone,
    PostalAddress,
    Provenance,
    SourceChannel,
)
from crmcore.rules.verification import (
    ConflictPolicy,
    SourcedValue,
    TrustLevel,
    TrustPolicy,
    VendorEvaluationSpec,
    VendorRecord,
    assess_trust,
    evaluate_vendor,
    resolve_conflict,
)

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def prov(channel: SourceChannel, *, inbound: bool = False, days_ago: int = 10) -> Provenance:
    return Provenance(
        channel=channel,
        observed_at=NOW - dt.timedelta(days=days_ago),
        customer_initiated=inbound,
    )


def score(channel: SourceChannel, *, inbound: bool = False) -> int:
    return assess_trust(prov(channel, inbound=inbound)).score


@pytest.mark.parametrize("channel", list(SourceChannel))
def test_customer_initiated_beats_outbound(channel: SourceChannel) -> None:
    """For every channel, the customer starting the contact raises trust (up to the cap)."""
    assert score(channel, inbound=True) >= score(channel)
    assert score(channel, inbound=True) > score(channel) or score(channel) == 100


@pytest.mark.parametrize("channel", [c for c in SourceChannel if c.is_direct])
def test_direct_beats_bought(channel: SourceChannel) -> None:
    """Any direct channel beats a bought list, even an inbound-flagged bought record."""
    assert score(channel) > score(SourceChannel.PURCHASED_LIST, inbound=True)


@pytest.mark.parametrize("indirect", [c for c in SourceChannel if not c.is_direct])
def test_no_indirect_channel_outranks_a_direct_one(indirect: SourceChannel) -> None:
    """No third-party or internal channel scores above the lowest direct channel."""
    lowest_direct = min(score(c) for c in SourceChannel if c.is_direct)
    assert score(indirect) <= lowest_direct


def test_frequent_contact_beats_rare() -> None:
    """The service desk and call centre beat a trade fair."""
    assert score(SourceChannel.CALL_CENTRE) > score(SourceChannel.TRADE_FAIR)
    assert score(SourceChannel.SERVICE_RECORD) > score(SourceChannel.EXPO)


def test_inbound_complaint_is_high_trust() -> None:
    """A complaint the customer raised is high trust; a bought list is low."""
    assert assess_trust(prov(SourceChannel.COMPLAINT, inbound=True)).level is TrustLevel.HIGH
    assert assess_trust(prov(SourceChannel.PURCHASED_LIST)).level is TrustLevel.LOW


def test_trust_policy_is_configurable() -> None:
    """A policy can change the bonus for customer-initiated contact."""
    policy = TrustPolicy(customer_initiated_bonus=0)
    assessment = assess_trust(prov(SourceChannel.HOTLINE, inbound=True), policy=policy)
    assert assessment.bonus == 0
    assert assessment.score == assessment.base


def test_conflict_higher_trust_wins_and_says_why() -> None:
    """A clearly more trusted source wins; the reason names both channels and scores."""
    current = SourcedValue(value="北京", provenance=prov(SourceChannel.PURCHASED_LIST, days_ago=1))
    incoming = SourcedValue(value="上海", provenance=prov(SourceChannel.CALL_CENTRE, days_ago=90))
    resolution = resolve_conflict(current, incoming, path="$.addresses[0].city")
    assert resolution.kept.value == "上海"
    assert resolution.changed
    assert resolution.rule == "conflict.higher_trust"
    assert resolution.reason.path == "$.addresses[0].city"
    assert "call_centre" in resolution.reason.message


def test_conflict_close_trust_newer_wins() -> None:
    """With trust within the margin, the more recently confirmed value wins."""
    current = SourcedValue(value="a", provenance=prov(SourceChannel.HOTLINE, days_ago=100))
    incoming = SourcedValue(value="b", provenance=prov(SourceChannel.CALL_CENTRE, days_ago=2))
    resolution = resolve_conflict(current, incoming)
    assert (resolution.kept.value, resolution.rule) == ("b", "conflict.more_recent")


def test_conflict_tie_keeps_current() -> None:
    """Equal trust and equal dates keep the current value."""
    current = SourcedValue(value="a", provenance=prov(SourceChannel.HOTLINE))
    incoming = SourcedValue(value="b", provenance=prov(SourceChannel.HOTLINE))
    resolution = resolve_conflict(current, incoming)
    assert (resolution.kept.value, resolution.changed, resolution.rule) == (
        "a",
        False,
        "conflict.kept_current",
    )


def test_conflict_same_value() -> None:
    """Agreeing sources need no decision."""
    current = SourcedValue(value="a", provenance=prov(SourceChannel.PURCHASED_LIST))
    incoming = SourcedValue(value="a", provenance=prov(SourceChannel.CALL_CENTRE))
    assert resolve_conflict(current, incoming).rule == "conflict.same_value"


def test_conflict_margin_is_configurable() -> None:
    """A wide margin lets recency decide even across trust levels."""
    current = SourcedValue(value="a", provenance=prov(SourceChannel.CALL_CENTRE, days_ago=50))
    incoming = SourcedValue(value="b", provenance=prov(SourceChannel.TRADE_FAIR, days_ago=1))
    assert resolve_conflict(current, incoming).kept.value == "a"
    wide = ConflictPolicy(trust_margin=50)
    assert resolve_conflict(current, incoming, policy=wide).kept.value == "b"


def sample() -> list[Customer]:
    def person(family: str, given: str, born: dt.date, **fields: object) -> Customer:
        profile = PersonProfile(
            name=PersonName(family=family, given=given), birthday=born, gender=Gender.FEMALE
        )
        return Customer.person_named(family=family, given=given, person=profile, **fields)

    return [
        person(
            "王",
            "芳",
            dt.date(1980, 7, 1),
            id="c1",
            phones=(Phone(number="13800138000"),),
            emails=(Email(address="wang.fang@example.com"),),
            addresses=(PostalAddress(country="CN", city="上海"),),
        ),
        person("李", "娜", dt.date(1990, 1, 1), id="c2", addresses=(PostalAddress(country="CN"),)),
        person("赵", "敏", dt.date(1975, 3, 3), id="c3"),
        Customer.organisation_named(
            "示例有限公司",
            id="c4",
            organisation=OrganisationProfile(legal_name="示例有限公司", employee_count=200),
        ),
    ]


def test_vendor_report() -> None:
    """Match rate, per-record rate and per-element accuracy against our own data."""
    theirs = [
        VendorRecord(
            customer_id="c1",
            elements={
                "name": "王芳",
                "age": 46,
                "phone": "+86 138 0013 8000",
                "email": "Wang.Fang@EXAMPLE.com",
                "city": "北京",
                "home_value": "3,500,000",
            },
        ),
        VendorRecord(customer_id="c2", elements={"name": "李娜", "age": 30, "gender": "女"}),
        VendorRecord(customer_id="c4", elements={"employee_count": 190, "name": ""}),
        VendorRecord(customer_id="zz", elements={"name": "nobody"}),
    ]
    spec = VendorEvaluationSpec(
        requested=(
            "name",
            "age",
            "gender",
            "phone",
            "email",
            "city",
            "home_value",
            "employee_count",
        ),
        default_region="CN",
    )
    report = evaluate_vendor(
        sample(), theirs, now=NOW, spec=spec, reference={"c1": {"home_value": 3_400_000}}
    )
    assert (report.sample_size, report.matched, report.unknown_records) == (4, 3, 1)
    assert report.match_rate == 0.75
    assert [(r.customer_id, r.returned) for r in report.records] == [
        ("c1", 6),
        ("c2", 3),
        ("c3", 0),
        ("c4", 1),
    ]
    assert report.records[0].rate == 6 / 8
    assert report.mean_record_rate == (6 / 8 + 3 / 8 + 1 / 8) / 3
    age = report.element("age")
    assert (age.returned, age.compared, age.agreed) == (2, 2, 1)
    assert report.element("phone").accuracy == 1.0
    assert report.element("email").accuracy == 1.0
    assert report.element("city").accuracy == 0.0
    assert report.element("gender").accuracy == 1.0
    assert report.element("home_value").accuracy == 1.0
    assert report.element("employee_count").accuracy == 1.0
    assert report.element("name").accuracy == 1.0


def test_vendor_elements_we_cannot_check() -> None:
    """An element we hold nothing for is returned but not compared (accuracy None)."""
    theirs = [VendorRecord(customer_id="c3", elements={"home_value": 1})]
    spec = VendorEvaluationSpec(requested=("home_value",))
    report = evaluate_vendor(sample(), theirs, now=NOW, spec=spec)
    element = report.element("home_value")
    assert (element.returned, element.compared, element.accuracy) == (1, 0, None)
