"""A fixed, international sample data set for query and pagination conformance tests.

The customers are chosen to make backends disagree when they get the semantics
wrong: Chinese, Japanese, German, Spanish and Norwegian names (code-point order
differs from any locale's collation), full-width digits and letters, ties on every
ordering key, ``None`` in optional fields, tuples that are empty, and datetimes
in different offsets whose local times sort differently from their UTC instants.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from crmcore.models import (
    Complaint,
    ContactPerson,
    CreditStanding,
    Customer,
    CustomerSnapshot,
    DecisionRole,
    Direction,
    Email,
    Gender,
    Interaction,
    InteractionChannel,
    KeyDate,
    LifecycleStage,
    MergedField,
    MergeRecord,
    Money,
    NameOrder,
    NotDuplicate,
    OptOut,
    OrganisationProfile,
    OrganisationSize,
    PersonName,
    PersonProfile,
    Phone,
    PhoneKind,
    PostalAddress,
    Provenance,
    Purchase,
    RenamedId,
    RepointedRecord,
    Severity,
    SourceChannel,
)
from crmcore.rules.dedupe import MatchModel, fit

__all__ = [
    "PERSON_AT",
    "person",
    "sample_complaints",
    "sample_customers",
    "sample_interactions",
    "sample_match_model",
    "sample_merges",
    "sample_not_duplicates",
    "sample_purchases",
]

_CN = dt.timezone(dt.timedelta(hours=8))
_NY = dt.timezone(dt.timedelta(hours=-5))
_IN = dt.timezone(dt.timedelta(hours=5, minutes=30))


def _at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, tz: dt.tzinfo = dt.UTC
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=tz)


def _seen(when: dt.datetime, channel: SourceChannel = SourceChannel.CALL_CENTRE) -> Provenance:
    return Provenance(channel=channel, observed_at=when)


def _person(
    cid: str,
    family: str,
    given: str,
    *,
    display: str | None = None,
    **fields: object,
) -> Customer:
    profile_fields = {
        k: fields.pop(k)
        for k in ("nickname", "other_name", "gender", "birthday", "occupation")
        if k in fields
    }
    profile = PersonProfile(name=PersonName(family=family, given=given), **profile_fields)  # type: ignore[arg-type]
    return Customer.person_named(
        family=family,
        given=given,
        id=cid,
        person=profile,
        display_name=display,
        **fields,
    )


PERSON_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
"""The fixed ``created_at``/``updated_at`` that :func:`person` stamps by default."""


def person(
    cid: str,
    family: str,
    given: str,
    *,
    phone: str | None = None,
    email: str | None = None,
    born: dt.date | None = None,
    gender: Gender | None = None,
    street: str | None = None,
    postal: str | None = None,
    order: NameOrder | None = None,
    other: PersonName | None = None,
    **fields: object,
) -> Customer:
    """A person customer for tests: a name, optional contact points, fixed timestamps.

    ``phone`` is read with region ``CN`` (so ``13800138000`` and ``+8613800138000``
    both work), ``street``/``postal`` make one Chinese postal address, and the
    timestamps are :data:`PERSON_AT` unless ``created_at``/``updated_at`` are given;
    any other keyword goes to :meth:`Customer.person_named` unchanged.

    >>> person("L1", "李", "娜", phone="+8613800138000").display_name
    '李娜'
    """
    name = PersonName(family=family, given=given, **({"order": order} if order else {}))
    return Customer.person_named(
        family=family,
        given=given,
        id=cid,
        created_at=fields.pop("created_at", PERSON_AT),
        updated_at=fields.pop("updated_at", PERSON_AT),
        person=PersonProfile(name=name, birthday=born, gender=gender, other_name=other),
        phones=(Phone(number=phone, region="CN"),) if phone else (),
        emails=(Email(address=email),) if email else (),
        addresses=(
            (PostalAddress(country="CN", postal_code=postal, street_lines=(street,)),)
            if street
            else ()
        ),
        **fields,
    )


def sample_customers() -> list[Customer]:
    """About thirty customers (version 0, ids ``c01``..), person and organisation.

    Traps for backends: trailing spaces (``"王芳 "``, ``"A "``; a PAD SPACE collation
    makes them equal to ``"王芳"`` and ``"A"``), a character outside the Basic
    Multilingual Plane (``"𠮷野家"``; UTF-16 order puts it before ``"ｱｲｳ商店"``, code-point
    order after), case (``"VIP"`` against ``"vip"``), ``%`` and ``_`` (LIKE wildcards).
    """
    return [
        _person(
            "c01",
            "张",
            "伟",
            tags=("vip", "重点客户"),
            grade="A",
            lifecycle_stage=LifecycleStage.REPEAT,
            acquired_on=dt.date(2019, 3, 1),
            phones=(
                Phone(
                    id="p01",
                    number="+8613800138000",
                    kind=PhoneKind.MOBILE,
                    verified=True,
                    primary=True,
                ),
            ),
            emails=(Email(id="e01", address="zhang.wei@example.cn"),),
            gender=Gender.MALE,
            birthday=dt.date(1985, 6, 1),
            provenance=_seen(_at(2024, 1, 1, 9, 0, tz=_CN)),
        ),
        _person(
            "c02",
            "张",
            "伟明",
            tags=("vip",),
            grade="B",
            lifecycle_stage=LifecycleStage.CLIENT,
            acquired_on=dt.date(2020, 7, 15),
            phones=(Phone(id="p02", number="+8613912345678", opt_outs=(OptOut.SMS,)),),
            nickname="小明",
            birthday=dt.date(1990, 12, 31),
            provenance=_seen(_at(2024, 1, 1, 0, 30, tz=_NY)),
        ),
        _person(
            "c03",
            "王",
            "芳",
            grade="A",
            lifecycle_stage=LifecycleStage.REPEAT,
            acquired_on=dt.date(2019, 3, 1),
            phones=(
                Phone(id="p03", number="１３８ ００１３ ８００１", region="CN"),
                Phone(id="p04", number="+86 10 6552 9988", kind=PhoneKind.LANDLINE),
            ),
            addresses=(
                PostalAddress(
                    id="a03",
                    country="CN",
                    region="北京市",
                    city="北京",
                    district="海淀区",
                    street_lines=("中关村大街1号",),
                    postal_code="100080",
                ),
            ),
            gender=Gender.FEMALE,
        ),
        _person(
            "c04",
            "王",
            "芳",
            tags=("newsletter",),
            lifecycle_stage=LifecycleStage.PROSPECT,
            emails=(Email(id="e04", address="wangfang@example.com", verified=True),),
            birthday=dt.date(1985, 6, 1),
        ),
        _person(
            "c05",
            "李",
            "娜",
            grade="C",
            lifecycle_stage=LifecycleStage.LAPSED,
            acquired_on=dt.date(2018, 1, 1),
            tags=("重点客户",),
            provenance=_seen(_at(2023, 12, 31, 23, 0, tz=dt.UTC)),
        ),
        _person(
            "c06",
            "欧阳",
            "娜娜",
            nickname="Nana",
            other_name=PersonName(family="Ouyang", given="Nana"),
            lifecycle_stage=LifecycleStage.MEMBER,
            tags=("vip", "newsletter"),
            acquired_on=dt.date(2021, 5, 20),
            phones=(Phone(id="p06", number="+852 9123 4567", region="HK"),),
        ),
        _person(
            "c07",
            "Schmidt",
            "Anna",
            grade="A",
            lifecycle_stage=LifecycleStage.CLIENT,
            acquired_on=dt.date(2020, 7, 15),
            emails=(Email(id="e07", address="Anna.Schmidt@Example.de"),),
            phones=(Phone(id="p07", number="+49 30 1234567", kind=PhoneKind.LANDLINE),),
            addresses=(
                PostalAddress(
                    id="a07",
                    country="DE",
                    city="Berlin",
                    street_lines=("Unter den Linden 5",),
                    postal_code="10117",
                ),
            ),
            provenance=_seen(_at(2024, 1, 1, 6, 0, tz=_IN)),
        ),
        _person(
            "c08",
            "schmidt",
            "anna",
            grade="a",
            lifecycle_stage=LifecycleStage.PROSPECT,
            tags=("newsletter",),
        ),
        _person(
            "c09",
            "Müller",
            "Zoë",
            grade="B",
            lifecycle_stage=LifecycleStage.ADVOCATE,
            acquired_on=dt.date(2022, 2, 2),
            emails=(Email(id="e09", address="zoe.mueller@beispiel.de"),),
            addresses=(PostalAddress(id="a09", country="DE", city="München", region="Bayern"),),
            birthday=dt.date(2000, 2, 29),
        ),
        _person(
            "c10",
            "Álvarez",
            "José",
            lifecycle_stage=LifecycleStage.FIRST_TIME,
            acquired_on=dt.date(2023, 8, 8),
            phones=(Phone(id="p10", number="+34 612 345 678"),),
            addresses=(PostalAddress(id="a10", country="ES", city="Sevilla"),),
        ),
        _person(
            "c11",
            "Lund",
            "Øyvind",
            lifecycle_stage=LifecycleStage.LOST,
            grade="C",
            tags=("vip",),
        ),
        _person(
            "c12",
            "Émile",
            "Zola",
            display="Émile Zola",
            lifecycle_stage=LifecycleStage.SUSPECT,
        ),
        _person(
            "c13",
            "Smith",
            "John",
            grade="B",
            lifecycle_stage=LifecycleStage.REPEAT,
            acquired_on=dt.date(2019, 3, 1),
            phones=(Phone(id="p13", number="+1 212 555 0100", verified=True),),
            addresses=(
                PostalAddress(id="a13", country="US", region="NY", city="New York"),
                PostalAddress(id="a13b", country="CA", city="Toronto", invalid=True),
            ),
            provenance=_seen(_at(2024, 1, 1, 0, 30, tz=_NY), SourceChannel.TRADE_FAIR),
        ),
        _person(
            "c14",
            "山田",
            "太郎",
            lifecycle_stage=LifecycleStage.CLIENT,
            phones=(Phone(id="p14", number="+81 3-1234-5678"),),
            addresses=(PostalAddress(id="a14", country="JP", city="東京"),),
            key_dates=(KeyDate(label="結婚記念日", date=dt.date(2015, 10, 10)),),
        ),
        _person(
            "c15",
            "김",
            "민준",
            lifecycle_stage=LifecycleStage.PROSPECT,
            grade="B",
            emails=(Email(id="e15", address="minjun.kim@example.kr"),),
        ),
        _person(
            "c16",
            "Silva",
            "Maria",
            lifecycle_stage=LifecycleStage.PARTNER,
            addresses=(PostalAddress(id="a16", country="BR", city="São Paulo"),),
            tags=("vip",),
            acquired_on=dt.date(2018, 1, 1),
        ),
        _person("c17", "陈", "", lifecycle_stage=LifecycleStage.PROSPECT),
        Customer.organisation_named(
            "北京星辰科技有限公司",
            id="c18",
            grade="A",
            lifecycle_stage=LifecycleStage.PARTNER,
            tags=("vip", "重点客户"),
            acquired_on=dt.date(2017, 9, 9),
            organisation=OrganisationProfile(
                legal_name="北京星辰科技有限公司",
                registration_number="91110108MA01ABCD2X",
                registered_capital=Money.of("10000000.00", "CNY"),
                industry="软件",
                size=OrganisationSize.MEDIUM,
                employee_count=320,
                credit_standing=CreditStanding.GOOD,
                founded_on=dt.date(2012, 4, 1),
                contact_persons=(
                    ContactPerson(
                        id="cp18a",
                        name=PersonName(family="赵", given="磊"),
                        role=DecisionRole.DECISION_MAKER,
                        key_person=True,
                        phones=(Phone(id="p18a", number="+86 139 0000 1111"),),
                    ),
                    ContactPerson(
                        id="cp18b",
                        name=PersonName(family="孙", given="丽"),
                        role=DecisionRole.INFLUENCER,
                        emails=(Email(id="e18b", address="sunli@xingchen.cn"),),
                    ),
                ),
            ),
            phones=(Phone(id="p18", number="+86 10 8888 0000", kind=PhoneKind.LANDLINE),),
        ),
        Customer.organisation_named(
            "ACME GmbH",
            id="c19",
            grade="B",
            lifecycle_stage=LifecycleStage.CLIENT,
            acquired_on=dt.date(2020, 7, 15),
            organisation=OrganisationProfile(
                legal_name="ACME GmbH",
                registered_capital=Money.of("25000", "EUR"),
                size=OrganisationSize.SMALL,
                employee_count=45,
                credit_standing=CreditStanding.EXCELLENT,
                contact_persons=(
                    ContactPerson(
                        id="cp19",
                        name=PersonName(family="Weber", given="Jonas"),
                        role=DecisionRole.BUYER,
                    ),
                ),
            ),
            emails=(Email(id="e19", address="info@acme.example"),),
        ),
        Customer.organisation_named(
            "Ａｃｍｅ Trading Co., Ltd.",
            id="c20",
            lifecycle_stage=LifecycleStage.PROSPECT,
            organisation=OrganisationProfile(
                legal_name="Ａｃｍｅ Trading Co., Ltd.",
                size=OrganisationSize.LARGE,
                employee_count=1200,
                registered_capital=Money.of("10000000", "USD"),
            ),
        ),
        Customer.organisation_named(
            "株式会社サンプル",
            id="c21",
            grade="A",
            lifecycle_stage=LifecycleStage.REPEAT,
            tags=("newsletter",),
            organisation=OrganisationProfile(
                legal_name="株式会社サンプル",
                employee_count=45,
                founded_on=dt.date(1999, 1, 1),
                contact_persons=(),
            ),
        ),
        Customer.organisation_named(
            "上海小店",
            id="c22",
            lifecycle_stage=LifecycleStage.DISQUALIFIED,
            organisation=OrganisationProfile(legal_name="上海小店", employee_count=0),
            notes="营业执照过期",
        ),
        _person(
            "c23",
            "张",
            "三",
            grade="A",
            lifecycle_stage=LifecycleStage.REPEAT,
            acquired_on=dt.date(2019, 3, 1),
            tags=("vip",),
            phones=(Phone(id="p23", number="+86 138 0013 8000 "),),
        ),
        _person(
            "c24",
            "O'Brien",
            "Seán",
            lifecycle_stage=LifecycleStage.CLIENT,
            owner="sales-1",
        ),
        _person(
            "c25",
            "100%",
            "Under_score",
            display="100% Under_score",
            lifecycle_stage=LifecycleStage.PROSPECT,
            owner="sales-2",
            tags=("a_b", "a%b"),
        ),
        _person(
            "c26",
            "王",
            "芳",
            display="王芳 ",
            lifecycle_stage=LifecycleStage.PROSPECT,
            grade="A ",
        ),
        Customer.organisation_named(
            "𠮷野家",
            id="c27",
            lifecycle_stage=LifecycleStage.CLIENT,
            grade="B",
        ),
        Customer.organisation_named(
            "ｱｲｳ商店",
            id="c28",
            lifecycle_stage=LifecycleStage.PROSPECT,
            tags=("VIP",),
        ),
    ]


def sample_interactions() -> list[Interaction]:
    """Interactions with the sample customers, inbound and outbound, across offsets."""
    rows = [
        ("c01", "phone", "inbound", _at(2024, 3, 1, 9, tz=_CN), "咨询价格", False),
        ("c01", "visit", "outbound", _at(2024, 3, 1, 1), "拜访", True),
        ("c07", "email", "inbound", _at(2024, 2, 29, 20, tz=_NY), "Angebot", False),
        ("c18", "meeting", "outbound", _at(2024, 3, 2, tz=_CN), "年度合同", True),
        ("c18", "phone", "inbound", _at(2024, 3, 2, tz=_CN), "投诉跟进", False),
        ("c13", "trade_fair", "outbound", _at(2023, 11, 5, 14, tz=_NY), "Expo", False),
    ]
    return [
        Interaction(
            id=f"i{n:02d}",
            customer_id=cid,
            channel=InteractionChannel(channel),
            direction=Direction(direction),
            occurred_at=when,
            subject=subject,
            major_event=major,
        )
        for n, (cid, channel, direction, when, subject, major) in enumerate(rows, start=1)
    ]


def sample_complaints() -> list[Complaint]:
    """Complaints in several states and severities."""
    received = _at(2024, 3, 1, 10, tz=_CN)
    base = Complaint(
        id="k01",
        customer_id="c01",
        received_at=received,
        channel=InteractionChannel.PHONE,
        category="delivery",
        description="送货晚了三天",
        severity=Severity.HIGH,
    )
    acknowledged = base.acknowledge(by="agent-1", at=received + dt.timedelta(hours=1))
    resolved = acknowledged.resolve(
        resolution="补发并道歉", by="agent-1", at=received + dt.timedelta(days=1)
    )
    return [
        base,
        Complaint(
            id="k02",
            customer_id="c18",
            received_at=_at(2024, 2, 1, tz=_NY),
            channel=InteractionChannel.EMAIL,
            category="billing",
            description="Invoice amount wrong",
            severity=Severity.LOW,
            product="Cloud Plan",
        ).acknowledge(by="agent-2", at=_at(2024, 2, 2, tz=_NY)),
        Complaint(
            id="k03",
            customer_id="c07",
            received_at=_at(2024, 1, 5, tz=dt.UTC),
            channel=InteractionChannel.CHAT,
            category="quality",
            description="Produkt defekt",
            severity=Severity.CRITICAL,
            satisfaction=None,
        ),
        attrs.evolve(resolved, id="k04"),
    ]


def sample_purchases() -> list[Purchase]:
    """Purchases in several currencies, with refunds and unknown costs."""
    rows = [
        ("u01", "c01", _at(2024, 1, 2, tz=_CN), "588.00", "CNY", "茶叶礼盒", "2", "300.00"),
        ("u02", "c01", _at(2024, 2, 2, tz=_CN), "-588.00", "CNY", "茶叶礼盒", "1", None),
        ("u03", "c07", _at(2024, 1, 15, tz=dt.UTC), "19.90", "EUR", "Kaffee", "3", "8.00"),
        ("u04", "c18", _at(2023, 12, 31, 20, tz=_NY), "58900.00", "CNY", "年度服务", "1", None),
        ("u05", "c13", _at(2024, 1, 1, 1, tz=dt.UTC), "19.9", "USD", "Coffee", "1.5", "5"),
        ("u06", "c19", _at(2024, 1, 1, tz=dt.UTC), "4820", "EUR", "Beratung", "10", None),
        # equal to the default quantity, Decimal(1), but with a scale a backend must keep
        ("u07", "c07", _at(2024, 3, 8, tz=dt.UTC), "12.50", "EUR", "Tee, lose", "1.00", "6.10"),
    ]
    return [
        Purchase(
            id=pid,
            customer_id=cid,
            purchased_at=when,
            amount=Money.of(amount, currency),
            product=product,
            quantity=Decimal(quantity),
            cost=None if cost is None else Money.of(cost, currency),
            category="retail" if currency != "CNY" else None,
        )
        for pid, cid, when, amount, currency, product, quantity, cost in rows
    ]


def sample_merges() -> list[MergeRecord]:
    """Merge lineage records: several merged ids, CJK text, an undone merge, offsets kept."""
    snapshot = '{"id":"c02","kind":"person","display_name":"欧阳娜娜","version":3}'
    merged = MergeRecord(
        id="m01",
        survivor_id="c01",
        merged_ids=("c02", "c03"),
        at=_at(2024, 3, 1, 9, tz=_CN),
        survivor_version=4,
        actor="审核员-1",
        source="review screen",
        fields=(
            MergedField(path="person.name", source_id="c02", rule="most_recently_verified",
                        reason="verified most recently (2024-02-01T00:00:00+08:00)"),
            MergedField(path="person.birthday", rule="none", reason="no customer has a value"),
        ),
        renamed_ids=(RenamedId(old="p-02", new="p-01"),),
        before=(CustomerSnapshot(customer_id="c02", version=3, document=snapshot),),
        repointed=(
            RepointedRecord(kind="purchase", record_id="u09", customer_id="c02", version=2),
            RepointedRecord(kind="complaint", record_id="k09", customer_id="c03", version=5,
                            contact_person_id="p-03"),
        ),
    )  # fmt: skip
    return [
        merged,
        attrs.evolve(
            merged,
            id="m02",
            survivor_id="c07",
            merged_ids=("c08",),
            at=_at(2024, 3, 1, 1, tz=_NY),
            actor=None,
            undone_at=_at(2024, 3, 2, tz=dt.UTC),
            undone_by="ops",
        ),
        MergeRecord(
            id="m03",
            survivor_id="c13",
            merged_ids=("ｃ１４",),
            at=_at(2024, 1, 1, tz=dt.UTC),
            survivor_version=1,
        ),
    ]


def sample_not_duplicates() -> list[NotDuplicate]:
    """Decisions that two customers are not one: CJK notes, full-width ids, offsets, no note."""
    return [
        NotDuplicate(
            id="n01",
            first_id="c01",
            second_id="c02",
            decided_at=_at(2024, 3, 1, 9, tz=_CN),
            decided_by="审核员-1",
            note="双胞胎姐妹，生日相同",
        ),
        NotDuplicate(
            id="n02",
            first_id="ｃ１４",
            second_id="c13",
            decided_at=_at(2024, 3, 1, 1, tz=_NY),
        ),
        NotDuplicate(
            id="n03",
            first_id="c07",
            second_id="c08",
            decided_at=_at(2024, 1, 1, tz=_IN),
            decided_by="ops",
            note="father and son, same name and address",
        ),
    ]


def sample_match_model() -> MatchModel:
    """A small dedupe model fitted on hand-made comparison vectors, for tests.

    An exact name, phone and birth date make a duplicate; namesakes with different
    phones and birth dates do not. It is the toy fit of docs/dedupe.md, so tests and
    kit tests that need "a model" do not each fit their own.
    """
    vectors = (
        [(7, 3, 2, 3, -1, 5, 1)] * 40
        + [(6, 2, 1, -1, -1, 5, 1)] * 5
        + [(7, 3, 0, 3, -1, 4, 1)] * 5
        + [(0, 0, 0, 0, -1, 1, 0)] * 300
        + [(2, 0, 0, 0, -1, 1, 1)] * 200
        + [(7, 0, 0, 0, -1, 0, 1)] * 30
    )
    return fit(vectors)
