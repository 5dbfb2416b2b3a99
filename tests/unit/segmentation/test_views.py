"""The views: roster, ranking, grades, regions, decision chain, chronicle, complaints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crmcore.errors import ValidationError
from crmcore.models import (
    ChangeOperation,
    ChangeRecord,
    Complaint,
    ContactPerson,
    CreditStanding,
    Customer,
    DecisionRole,
    Direction,
    FieldChange,
    Interaction,
    InteractionChannel,
    Money,
    OrganisationProfile,
    OrganisationSize,
    PersonName,
    PostalAddress,
    Purchase,
)
from crmcore.rules.segmentation import (
    chronicle,
    complaint_analysis,
    decision_chain,
    grades,
    group_by_region,
    rank_by_amount,
    roster,
    summarise_purchases,
)

NOW = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


def org(cid: str, credit: CreditStanding, size: OrganisationSize | None) -> Customer:
    profile = OrganisationProfile(legal_name=cid, credit_standing=credit, size=size)
    return Customer.organisation_named(cid, id=cid, organisation=profile)


def test_roster_orders_by_acquisition_then_id() -> None:
    """Acquired first comes first; unknown dates last; ties by id."""
    people = [
        Customer.person_named(family="B", id="b", acquired_on=dt.date(2020, 1, 1)),
        Customer.person_named(family="C", id="c"),
        Customer.person_named(family="A", id="a", acquired_on=dt.date(2020, 1, 1)),
        Customer.person_named(family="D", id="d", acquired_on=dt.date(2019, 1, 1)),
    ]
    assert [e.customer_id for e in roster(people)] == ["d", "a", "b", "c"]


def test_ranking_by_amount_per_currency() -> None:
    """Rankings run per currency, largest total first, ties by id, with names."""
    bought = [
        Purchase(customer_id=cid, purchased_at=NOW, amount=Money.of(amount, cur), product="tea")
        for cid, amount, cur in (("a", 5, "EUR"), ("b", 9, "EUR"), ("c", 5, "EUR"), ("a", 1, "CNY"))
    ]
    got = rank_by_amount(summarise_purchases(bought, as_of=NOW), names={"a": "Anna"})
    assert [(r.currency, r.display_name, r.total) for r in got] == [
        ("CNY", "Anna", Decimal(1)),
        ("EUR", "b", Decimal(9)),
        ("EUR", "Anna", Decimal(5)),
        ("EUR", "c", Decimal(5)),
    ]


def test_grades_by_credit_and_size() -> None:
    """Organisations group by credit standing best first, or by size largest first."""
    firms = [
        org("x", CreditStanding.POOR, OrganisationSize.SMALL),
        org("y", CreditStanding.EXCELLENT, None),
        org("z", CreditStanding.POOR, OrganisationSize.ENTERPRISE),
        Customer.person_named(family="P", id="p"),
    ]
    assert grades(firms) == {"excellent": ("y",), "poor": ("x", "z")}
    assert grades(firms, by="size") == {"enterprise": ("z",), "small": ("x",), "unknown": ("y",)}
    with pytest.raises(ValidationError):
        grades(firms, by="colour")


def test_group_by_region_levels() -> None:
    """Customers group by country, region or city of their primary address."""
    people = [
        Customer.person_named(
            family="A",
            id="a",
            addresses=(PostalAddress(country="CN", region="上海市", city="上海"),),
        ),
        Customer.person_named(
            family="B", id="b", addresses=(PostalAddress(country="CN", region="北京市"),)
        ),
        Customer.person_named(family="C", id="c"),
    ]
    assert group_by_region(people) == {"CN": ("a", "b"), "unknown": ("c",)}
    assert group_by_region(people, level="city") == {
        "CN/上海市/上海": ("a",),
        "CN/北京市/?": ("b",),
        "unknown": ("c",),
    }
    with pytest.raises(ValidationError):
        group_by_region(people, level="planet")


def test_decision_chain_orders_by_role_and_key_people() -> None:
    """The chain runs decision maker, approver, influencer...; key people first in a role."""
    people = (
        ContactPerson(id="u", name=PersonName(family="Wu"), role=DecisionRole.USER),
        ContactPerson(id="i1", name=PersonName(family="Zhao"), role=DecisionRole.INFLUENCER),
        ContactPerson(
            id="i2", name=PersonName(family="Zhou"), role=DecisionRole.INFLUENCER, key_person=True
        ),
        ContactPerson(id="d", name=PersonName(family="Li"), role=DecisionRole.DECISION_MAKER),
    )
    firm = Customer.organisation_named(
        "Acme", organisation=OrganisationProfile(legal_name="Acme", contact_persons=people)
    )
    assert [link.person_id for link in decision_chain(firm)] == ["d", "i2", "i1", "u"]
    assert decision_chain(Customer.person_named(family="P")) == ()


def test_chronicle_lists_major_events_in_order() -> None:
    """First purchases, major interactions, complaints and lifecycle changes, oldest first."""
    customer = Customer.person_named(family="A", id="a", created_at=NOW - dt.timedelta(days=90))

    def day(n: int) -> dt.datetime:
        return NOW - dt.timedelta(days=n)

    purchases = [
        Purchase(customer_id="a", purchased_at=day(n), amount=Money.of(1, "EUR"), product=p)
        for n, p in ((50, "second"), (80, "first"))
    ] + [Purchase(customer_id="b", purchased_at=day(85), amount=Money.of(1, "EUR"), product="x")]
    interactions = [
        Interaction(
            customer_id="a",
            channel=InteractionChannel.VISIT,
            direction=Direction.OUTBOUND,
            occurred_at=day(60),
            subject="signed the framework contract",
            major_event=True,
        ),
        Interaction(
            customer_id="a",
            channel=InteractionChannel.PHONE,
            direction=Direction.INBOUND,
            occurred_at=day(59),
            subject="small talk",
        ),
    ]
    complaint = (
        Complaint(
            customer_id="a",
            received_at=day(30),
            channel=InteractionChannel.PHONE,
            category="delivery",
            description="late",
        )
        .acknowledge(by="desk", at=day(29))
        .resolve(resolution="redelivered", by="desk", at=day(20))
    )
    change = ChangeRecord(
        customer_id="a",
        operation=ChangeOperation.UPDATED,
        at=day(10),
        version=2,
        changes=(FieldChange(path="$.lifecycle_stage", old='"first_time"', new='"repeat"'),),
    )
    events = chronicle(
        customer,
        purchases=purchases,
        interactions=interactions,
        complaints=[complaint],
        history=[change],
    )
    assert [e.kind for e in events] == [
        "recorded",
        "first_purchase",
        "interaction",
        "complaint_received",
        "complaint_resolved",
        "lifecycle",
    ]
    assert "first" in events[1].summary
    assert events[4].summary == "delivery complaint resolved: redelivered"


def test_complaint_analysis_counts_times_and_breaches() -> None:
    """Counts by category, cause and state, response and resolution times, SLA breaches."""
    start = NOW - dt.timedelta(days=10)

    def base(cid: str, category: str, **fields: object) -> Complaint:
        return Complaint(
            id=cid,
            customer_id="c",
            received_at=start,
            channel=InteractionChannel.EMAIL,
            category=category,
            description="x",
            **fields,  # type: ignore[arg-type]
        )

    quick = base("k1", "delivery").acknowledge(by="d", at=start + dt.timedelta(hours=2))
    quick = quick.resolve(
        resolution="ok", root_cause="courier", by="d", at=start + dt.timedelta(days=1)
    )
    slow = base("k2", "delivery", response_due=start + dt.timedelta(hours=4)).acknowledge(
        by="d", at=start + dt.timedelta(hours=6)
    )
    waiting = base("k3", "billing", resolution_due=start + dt.timedelta(days=2))
    got = complaint_analysis([waiting, slow, quick], now=NOW)
    assert (got.complaints, got.open) == (3, 2)
    assert got.by_category == {"billing": 1, "delivery": 2}
    assert got.by_cause == {"courier": 1, "unknown": 2}
    assert got.by_state == {"received": 1, "acknowledged": 1, "resolved": 1}
    assert got.response_times == (
        dt.timedelta(hours=4),
        dt.timedelta(hours=4),
        dt.timedelta(hours=6),
    )
    assert got.resolution_times == (dt.timedelta(days=1),) * 3
    assert (got.response_breaches, got.resolution_breaches) == (("k2",), ("k3",))
    assert complaint_analysis([], now=NOW).response_times is None


def test_views_do_not_depend_on_input_order() -> None:
    """Reversed input gives the same roster, grades and regions."""
    firms = [org(f"f{i}", CreditStanding.GOOD, None) for i in range(5)]
    assert roster(firms) == roster(firms[::-1])
    assert grades(firms) == grades(firms[::-1])
    assert group_by_region(firms) == group_by_region(firms[::-1])
