"""A small, deterministic customer database for ``crmcore demo``.

People and organisations from China, Japan, Korea, the US and Europe, with purchases,
interactions and complaints.

Contact details are written as people type them (``010-62345678``, full-width digits,
``+1 (650) 253-0000 ext. 123``); the normalisation pipeline brings them to one standard.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

from crmcore.models import (
    Complaint,
    ContactPerson,
    CreditStanding,
    Customer,
    DecisionRole,
    Direction,
    Email,
    FactCategory,
    FamilyMember,
    Gender,
    Interaction,
    InteractionChannel,
    KeyDate,
    LifecycleStage,
    Money,
    OrganisationProfile,
    OrganisationSize,
    PersonName,
    PersonProfile,
    Phone,
    PostalAddress,
    ProfileFact,
    Provenance,
    Purchase,
    Severity,
    SourceChannel,
)

__all__ = ["DemoData", "demo_data"]

UTC = dt.UTC


@attrs.frozen(kw_only=True)
class DemoData:
    """Everything the demo loads: customers (some as raw dicts), and their activity."""

    customers: tuple[Customer | dict[str, Any], ...]
    purchases: tuple[Purchase, ...]
    interactions: tuple[Interaction, ...]
    complaints: tuple[Complaint, ...]


def _seen(channel: SourceChannel, when: dt.datetime, *, inbound: bool = False) -> Provenance:
    return Provenance(channel=channel, observed_at=when, customer_initiated=inbound)


def _person(
    cid: str,
    family: str,
    given: str,
    *,
    acquired: dt.date,
    channel: SourceChannel,
    now: dt.datetime,
    **fields: Any,
) -> Customer:
    profile_fields = fields.pop("profile", {})
    name = PersonName(family=family, given=given, **fields.pop("name", {}))
    return Customer.person_named(
        family=family,
        given=given,
        id=cid,
        created_at=now,
        updated_at=now,
        acquired_on=acquired,
        acquisition_channel=channel,
        person=PersonProfile(name=name, **profile_fields),
        provenance=_seen(channel, dt.datetime.combine(acquired, dt.time(9), UTC)),
        **fields,
    )


def demo_data(now: dt.datetime) -> DemoData:
    """Build the demo database as of ``now`` (birthdays and deadlines are relative to it)."""
    day = now.date()

    def ago(days: float) -> dt.datetime:
        return now - dt.timedelta(days=days)

    soon = day + dt.timedelta(days=9)
    customers: list[Customer | dict[str, Any]] = [
        _person(
            "demo-c01",
            "陈",
            "大文",
            acquired=dt.date(2016, 4, 1),
            channel=SourceChannel.HOTLINE,
            now=now,
            tags=("vip", "hotel"),
            lifecycle_stage=LifecycleStage.ADVOCATE,
            grade="A",
            profile={
                "other_name": PersonName(family="Chan", given="David"),
                "gender": Gender.MALE,
                "birthday": dt.date(1971, soon.month, min(soon.day, 28)),
                "occupation": "银行家",
            },
            phones=(
                Phone(
                    id="p01",
                    number="+852 9123 4567",
                    primary=True,
                    provenance=_seen(SourceChannel.HOTLINE, ago(400), inbound=True),
                ),
            ),
            emails=(Email(id="e01", address="David.Chan@Example.HK"),),
            addresses=(
                PostalAddress(
                    id="a01", country="hk", city="香港", street_lines=("皇后大道中 15 號",)
                ),
            ),
            facts=(
                ProfileFact(
                    id="f01",
                    category=FactCategory.PREFERENCE,
                    key="breakfast drink",
                    value="carrot juice",
                    provenance=_seen(SourceChannel.OBSERVATION, ago(3000)),
                ),
                ProfileFact(
                    id="f02", category=FactCategory.PREFERENCE, key="room", value="sunny side"
                ),
            ),
        ),
        _person(
            "demo-c02",
            "张",
            "伟",
            acquired=dt.date(2021, 6, 18),
            channel=SourceChannel.WEBSITE_REGISTRATION,
            now=now,
            lifecycle_stage=LifecycleStage.REPEAT,
            profile={"gender": Gender.MALE, "birthday": dt.date(1988, 11, 2)},
            phones=(Phone(id="p02", number="１３８００１３８０００", region="CN", primary=True),),
            emails=(Email(id="e02", address="zhang.wei@example.cn"),),
            addresses=(
                PostalAddress(
                    id="a02",
                    country="CN",
                    region="北京市",
                    city="北京",
                    district="海淀区",
                    street_lines=("中关村大街 27 号",),
                    postal_code="100080",
                ),
            ),
        ),
        _person(
            "demo-c03",
            "王",
            "芳",
            acquired=dt.date(2023, 2, 8),
            channel=SourceChannel.TRADE_FAIR,
            now=now,
            lifecycle_stage=LifecycleStage.FIRST_TIME,
            profile={
                "gender": Gender.FEMALE,
                "family_members": (
                    FamilyMember(
                        relation="daughter",
                        name=PersonName(family="李", given="小雨"),
                        birthday=dt.date(2015, soon.month, min(soon.day, 28)),
                    ),
                ),
            },
            phones=(Phone(id="p03", number="010-62345678", region="CN", primary=True),),
            addresses=(
                PostalAddress(id="a03", country="CN", region="上海市", city="上海", primary=True),
            ),
        ),
        _person(
            "demo-c04",
            "山田",
            "花子",
            acquired=dt.date(2022, 9, 1),
            channel=SourceChannel.MEMBERSHIP_CLUB,
            now=now,
            lifecycle_stage=LifecycleStage.MEMBER,
            phones=(Phone(id="p04", number="090-1234-5678", region="JP", primary=True),),
            addresses=(PostalAddress(id="a04", country="JP", city="東京", postal_code="100-0005"),),
        ),
        _person(
            "demo-c05",
            "김",
            "민준",
            acquired=dt.date(2024, 1, 15),
            channel=SourceChannel.REFERRAL,
            now=now,
            lifecycle_stage=LifecycleStage.PROSPECT,
            phones=(Phone(id="p05", number="010-2345-6789", region="KR", primary=True),),
        ),
        _person(
            "demo-c06",
            "Smith",
            "Emily",
            acquired=dt.date(2019, 3, 3),
            channel=SourceChannel.POINT_OF_SALE,
            now=now,
            lifecycle_stage=LifecycleStage.CLIENT,
            key_dates=(KeyDate(label="wedding anniversary", date=dt.date(2012, 6, 9)),),
            phones=(
                Phone(id="p06", number="+1 (650) 253-0000 ext. 123", region="US", primary=True),
            ),
            emails=(Email(id="e06", address="emily.smith@example.com", primary=True),),
            addresses=(
                PostalAddress(
                    id="a06",
                    country="US",
                    region="CA",
                    city="Mountain View",
                    street_lines=("1600 Amphitheatre Pkwy",),
                    postal_code="94043",
                ),
            ),
        ),
        _person(
            "demo-c07",
            "Müller",
            "Jürgen",
            acquired=dt.date(2020, 10, 12),
            channel=SourceChannel.CALL_CENTRE,
            now=now,
            lifecycle_stage=LifecycleStage.LAPSED,
            phones=(Phone(id="p07", number="030 901820", region="DE", primary=True),),
            emails=(Email(id="e07", address="juergen.mueller@beispiel.de"),),
            addresses=(
                PostalAddress(
                    id="a07",
                    country="DE",
                    city="Berlin",
                    street_lines=("Unter den Linden 77",),
                    postal_code="10117",
                ),
            ),
        ),
        _person(
            "demo-c08",
            "Dubois",
            "Léa",
            acquired=dt.date(2025, 5, 20),
            channel=SourceChannel.PURCHASED_LIST,
            now=now,
            lifecycle_stage=LifecycleStage.SUSPECT,
            phones=(Phone(id="p08", number="01 42 68 53 00", region="FR"),),
            emails=(Email(id="e08", address="léa.dubois@exemple.fr"),),
        ),
        Customer.organisation_named(
            "北京星辰科技有限公司",
            id="demo-c09",
            created_at=now,
            updated_at=now,
            acquired_on=dt.date(2018, 7, 1),
            acquisition_channel=SourceChannel.NEGOTIATION,
            lifecycle_stage=LifecycleStage.PARTNER,
            grade="A",
            tags=("key-account",),
            organisation=OrganisationProfile(
                legal_name="北京星辰科技有限公司",
                registration_number="91110108MA01ABCD2X",
                registered_capital=Money.of("5000000", "CNY"),
                industry="软件",
                size=OrganisationSize.MEDIUM,
                credit_standing=CreditStanding.GOOD,
                founded_on=dt.date(2012, 3, 15),
                contact_persons=(
                    ContactPerson(
                        id="cp1",
                        name=PersonName(family="刘", given="洋"),
                        role=DecisionRole.DECISION_MAKER,
                        title="总经理",
                        key_person=True,
                    ),
                    ContactPerson(
                        id="cp2",
                        name=PersonName(family="赵", given="敏"),
                        role=DecisionRole.GATEKEEPER,
                        title="行政助理",
                    ),
                ),
            ),
            phones=(Phone(id="p09", number="(010) 8888 6666", region="CN", primary=True),),
            addresses=(
                PostalAddress(
                    id="a09",
                    country="中国",
                    region="北京市",
                    city="北京",
                    district="朝阳区",
                    street_lines=("建国路 88 号",),
                    postal_code="100022",
                ),
            ),
        ),
        Customer.organisation_named(
            "Nordwind Logistik GmbH",
            id="demo-c10",
            created_at=now,
            updated_at=now,
            acquired_on=dt.date(2022, 1, 10),
            acquisition_channel=SourceChannel.EXPO,
            lifecycle_stage=LifecycleStage.CLIENT,
            organisation=OrganisationProfile(
                legal_name="Nordwind Logistik GmbH",
                registered_capital=Money.of("25000", "EUR"),
                size=OrganisationSize.SMALL,
                contact_persons=(
                    ContactPerson(
                        id="cp3",
                        name=PersonName(family="Schneider", given="Anna"),
                        role=DecisionRole.BUYER,
                    ),
                ),
            ),
            emails=(Email(id="e10", address="einkauf@nordwind.example"),),
        ),
        # A record as it might arrive from a web form, with two mistakes: it is rejected
        # whole, with both problems reported, and nothing of it is written.
        {
            "kind": "person",
            "id": "demo-c11",
            "display_name": "",
            "person": {"name": {"family": "Broken", "given": "Record"}, "birthday": "1990-02-30"},
        },
    ]
    purchases: list[Purchase] = []
    plan: dict[str, list[tuple[str, str, str, str, int]]] = {
        "demo-c01": [
            ("Suite, 3 nights", "lodging", "38600.00", "HKD", 30),
            ("Spa", "wellness", "5200.00", "HKD", 12),
        ],
        "demo-c02": [
            ("普洱茶", "tea", "388.00", "CNY", 40),
            ("茶具", "tea", "1280.00", "CNY", 200),
        ],
        "demo-c03": [("绿茶礼盒", "tea", "268.00", "CNY", 300)],
        "demo-c04": [("Matcha set", "tea", "12800", "JPY", 60)],
        "demo-c06": [("Oolong", "tea", "42.50", "USD", 20), ("Teapot", "tea", "129.00", "USD", 90)],
        "demo-c07": [("Darjeeling", "tea", "18.90", "EUR", 700)],
        "demo-c09": [
            ("企业茶歇年约", "b2b", "186000.00", "CNY", 100),
            ("会议茶歇", "b2b", "12400.00", "CNY", 15),
        ],
        "demo-c10": [("Office tea, yearly", "b2b", "4800.00", "EUR", 250)],
    }
    for cid, lines in plan.items():
        for index, (product, category, amount, currency, days) in enumerate(lines, start=1):
            value = Decimal(amount)
            purchases.append(
                Purchase(
                    id=f"{cid}-o{index}",
                    customer_id=cid,
                    purchased_at=ago(days),
                    created_at=now,
                    amount=Money(amount=value, currency=currency),
                    cost=Money(amount=(value * Decimal("0.62")).quantize(value), currency=currency),
                    product=product,
                    category=category,
                )
            )
    interactions = (
        Interaction(
            id="demo-i1",
            customer_id="demo-c01",
            channel=InteractionChannel.PHONE,
            direction=Direction.INBOUND,
            occurred_at=ago(31),
            created_at=now,
            subject="Booked the usual suite",
            outcome="booked",
            recorded_by="front desk",
        ),
        Interaction(
            id="demo-i2",
            customer_id="demo-c09",
            contact_person_id="cp1",
            channel=InteractionChannel.MEETING,
            direction=Direction.OUTBOUND,
            occurred_at=ago(101),
            created_at=now,
            subject="年度合作续约",
            outcome="续约三年",
            recorded_by="销售部 周",
            major_event=True,
        ),
        Interaction(
            id="demo-i3",
            customer_id="demo-c07",
            channel=InteractionChannel.EMAIL,
            direction=Direction.OUTBOUND,
            occurred_at=ago(20),
            created_at=now,
            subject="Wir vermissen Sie",
            recorded_by="marketing",
        ),
    )
    late = Complaint(
        id="demo-k1",
        customer_id="demo-c02",
        received_at=ago(3),
        created_at=now,
        channel=InteractionChannel.PHONE,
        category="delivery",
        description="茶具运输途中破损",
        severity=Severity.HIGH,
        response_due=ago(3) + dt.timedelta(hours=4),
        resolution_due=ago(1),
    ).acknowledge(by="客服小李", at=ago(3) + dt.timedelta(hours=1))
    done = (
        Complaint(
            id="demo-k2",
            customer_id="demo-c06",
            received_at=ago(60),
            created_at=now,
            channel=InteractionChannel.EMAIL,
            category="billing",
            description="Charged twice for the teapot",
            response_due=ago(60) + dt.timedelta(days=1),
            resolution_due=ago(60) + dt.timedelta(days=5),
        )
        .acknowledge(by="support", at=ago(60) + dt.timedelta(hours=2))
        .resolve(by="support", at=ago(58), resolution="refunded", root_cause="payment retry")
        .close(by="support", at=ago(57), satisfaction=1)
    )
    fresh = Complaint(
        id="demo-k3",
        customer_id="demo-c10",
        received_at=ago(0) - dt.timedelta(hours=1),
        created_at=now,
        channel=InteractionChannel.EMAIL,
        category="quality",
        description="Lieferung unvollständig",
        severity=Severity.MEDIUM,
        response_due=now + dt.timedelta(hours=3),
    )
    return DemoData(
        customers=tuple(customers),
        purchases=tuple(purchases),
        interactions=interactions,
        complaints=(late, done, fresh),
    )
