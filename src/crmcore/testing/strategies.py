"""Hypothesis strategies for crmcore models, with Chinese and international data.

Use them in your own tests::

    from hypothesis import given
    from crmcore.testing import strategies as cst

    @given(cst.customers())
    def test_round_trip(customer): ...

Text is drawn from Chinese, Japanese, Korean, Latin (with diacritics), Cyrillic and
Arabic samples; phone numbers come in E.164, with spaces and dashes, and in
full-width digits; datetimes carry offsets from UTC-05:00 to UTC+08:00. Generated
strings never contain NUL or surrogates, which databases refuse.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar, cast

import attrs
from hypothesis import strategies as st

from crmcore.models import (
    Calendar,
    Complaint,
    ComplaintState,
    Consent,
    ContactPerson,
    CreditStanding,
    Customer,
    CustomerKind,
    DecisionRole,
    Direction,
    Email,
    FactCategory,
    FamilyMember,
    Gender,
    Identifier,
    IdentifierKind,
    Interaction,
    InteractionChannel,
    KeyDate,
    LifecycleStage,
    Money,
    OptOut,
    OrganisationProfile,
    OrganisationSize,
    PersonName,
    PersonProfile,
    Phone,
    PhoneKind,
    PostalAddress,
    ProfileFact,
    Provenance,
    Purchase,
    Severity,
    SocialHandle,
    SourceChannel,
)
from crmcore.models.calendars import CHINESE_FIRST_DAY, CHINESE_LAST_DAY

_M = TypeVar("_M")

__all__ = [
    "aware_datetimes",
    "cjk_names",
    "complaints",
    "customers",
    "dates",
    "emails",
    "ids",
    "interactions",
    "money",
    "organisation_customers",
    "person_customers",
    "person_names",
    "phones",
    "purchases",
    "texts",
]

CJK_FAMILY = ("张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴", "欧阳", "司马", "诸葛")
CJK_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"
LATIN_FAMILY = ("Schmidt", "Müller", "García", "Álvarez", "Lund", "O'Brien", "Nguyễn", "Dvořák")
LATIN_GIVEN = ("Anna", "Zoë", "José", "Øyvind", "Seán", "Émile", "Łukasz", "Ана")
OTHER_NAMES = (
    ("山田", "太郎"),
    ("김", "민준"),
    ("Иванов", "Сергей"),
    ("الخطيب", "محمد"),
    ("Kowalska", "Agnieszka"),
)

_ALPHABET = st.sampled_from(
    "abcxyzABCXYZ0123456789 -_.,'%"
    "äöüßéèñçøåłž"
    "张王李赵伟芳娜明客户重点北京上海有限公司"
    "山田東京サンプルカタ"
    "김민준서울"
    "ИвановСергей"
    "محمد"
    "０１２ＡＢＣ"
)

_OFFSETS = st.sampled_from(
    [
        dt.UTC,
        dt.timezone(dt.timedelta(hours=8)),
        dt.timezone(dt.timedelta(hours=-5)),
        dt.timezone(dt.timedelta(hours=5, minutes=30)),
        dt.timezone(dt.timedelta(hours=1)),
        dt.timezone(dt.timedelta(hours=9)),
    ]
)


def texts(*, min_size: int = 1, max_size: int = 24) -> st.SearchStrategy[str]:
    """Non-blank text mixing scripts (no NUL, no surrogates)."""
    return (
        st.text(_ALPHABET, min_size=min_size, max_size=max_size)
        .map(lambda s: s.strip())
        .filter(lambda s: len(s) >= min_size and (min_size == 0 or bool(s.strip())))
    )


def _optional_text(max_size: int = 24) -> st.SearchStrategy[str | None]:
    return st.none() | texts(max_size=max_size)


def ids() -> st.SearchStrategy[str]:
    """Unique-looking record ids (UUID hex)."""
    return st.uuids().map(lambda u: u.hex)


def aware_datetimes() -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes between 1970 and 2100 in offsets from UTC-05:00 to UTC+09:00."""
    return st.datetimes(
        min_value=dt.datetime(1970, 1, 2),
        max_value=dt.datetime(2100, 1, 1),
        timezones=_OFFSETS,
    )


def dates() -> st.SearchStrategy[dt.date]:
    """Dates between 1900 and 2100."""
    return st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


def money(currency: str | None = None) -> st.SearchStrategy[Money]:
    """Money with two decimal places, in CNY, EUR, USD or JPY (or ``currency``)."""
    currencies = st.just(currency) if currency else st.sampled_from(["CNY", "EUR", "USD", "JPY"])
    amounts = st.decimals(
        min_value=Decimal("-1000000"),
        max_value=Decimal("100000000"),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )
    return st.builds(Money, amount=amounts, currency=currencies)


def cjk_names() -> st.SearchStrategy[PersonName]:
    """Chinese names: a family name (one or two characters) and one or two given characters."""
    return st.builds(
        PersonName,
        family=st.sampled_from(CJK_FAMILY),
        given=st.text(st.sampled_from(CJK_GIVEN), min_size=1, max_size=2),
    )


def person_names() -> st.SearchStrategy[PersonName]:
    """Chinese, Western (with diacritics), Japanese, Korean, Cyrillic and Arabic names."""
    western = st.builds(
        PersonName, family=st.sampled_from(LATIN_FAMILY), given=st.sampled_from(LATIN_GIVEN)
    )
    other = st.sampled_from(OTHER_NAMES).map(lambda fg: PersonName(family=fg[0], given=fg[1]))
    return st.one_of(cjk_names(), western, other)


_PHONE_NUMBERS = st.one_of(
    st.integers(min_value=3, max_value=9).flatmap(
        lambda second: st.text(st.sampled_from("0123456789"), min_size=9, max_size=9).map(
            lambda rest: f"+861{second}{rest}"
        )
    ),
    st.text(st.sampled_from("0123456789"), min_size=8, max_size=8).map(
        lambda d: f"138 {d[:4]} {d[4:]}"
    ),
    st.text(st.sampled_from("０１２３４５６７８９"), min_size=11, max_size=11),
    st.sampled_from(
        [
            "+49 30 1234567",
            "+1 (212) 555-0100",
            "+81 3-1234-5678",
            "+44 20 7946 0958",
            "+852 9123 4567",
        ]
    ),
)


def provenances() -> st.SearchStrategy[Provenance]:
    """Provenance records (verified after observed, when verified)."""
    return st.builds(
        lambda channel, observed, delta, initiated, source: Provenance(
            channel=channel,
            observed_at=observed,
            verified_at=None if delta is None else observed + dt.timedelta(days=delta),
            customer_initiated=initiated,
            source=source,
        ),
        st.sampled_from(SourceChannel),
        aware_datetimes(),
        st.none() | st.integers(min_value=0, max_value=400),
        st.booleans(),
        _optional_text(),
    )


def _consents() -> st.SearchStrategy[tuple[Consent, ...]]:
    consent = st.builds(
        Consent,
        purpose=st.sampled_from(["marketing", "newsletter", "营销短信"]),
        granted=st.booleans(),
        recorded_at=aware_datetimes(),
        channel=st.sampled_from(SourceChannel),
    )
    return st.lists(consent, max_size=2).map(tuple)


def _opt_outs() -> st.SearchStrategy[tuple[OptOut, ...]]:
    return st.lists(st.sampled_from(OptOut), max_size=3, unique=True).map(tuple)


def _point_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {
        "id": ids(),
        "label": st.none() | st.sampled_from(["home", "work", "家", "办公室"]),
        "primary": st.booleans(),
        "verified": st.booleans(),
        "invalid": st.booleans(),
        "opt_outs": _opt_outs(),
        "consents": _consents(),
        "provenance": st.none() | provenances(),
    }


def phones() -> st.SearchStrategy[Phone]:
    """Phones as entered: E.164, spaced, full-width, international."""
    return st.builds(
        Phone,
        number=_PHONE_NUMBERS,
        extension=st.none() | st.text(st.sampled_from("0123456789"), min_size=1, max_size=4),
        kind=st.sampled_from(PhoneKind),
        region=st.none() | st.sampled_from(["CN", "DE", "US", "JP", "HK"]),
        **_point_fields(),
    )


def emails() -> st.SearchStrategy[Email]:
    """Email addresses, ASCII and internationalised."""
    local = st.sampled_from(["zhang.wei", "anna", "Zoë.Müller", "李娜", "info", "o'brien"])
    domain = st.sampled_from(["example.cn", "Example.de", "例子.中国", "beispiel.de", "mail.jp"])
    return st.builds(
        Email, address=st.builds(lambda a, b: f"{a}@{b}", local, domain), **_point_fields()
    )


def addresses() -> st.SearchStrategy[PostalAddress]:
    """Postal addresses in China, Germany, the USA, Japan and Brazil."""
    shapes = st.sampled_from(
        [
            ("CN", "北京市", "北京", "海淀区", ("中关村大街1号",), "100080"),
            ("CN", "上海市", "上海", "浦东新区", ("世纪大道100号", "10楼"), "200120"),
            ("DE", "Bayern", "München", None, ("Marienplatz 1",), "80331"),
            ("US", "NY", "New York", None, ("350 Fifth Avenue", "Suite 100"), "10118"),
            ("JP", "東京都", "千代田区", None, ("丸の内1-1",), "100-0005"),
            ("BR", "SP", "São Paulo", None, ("Avenida Paulista, 1000",), "01310-100"),
        ]
    )
    return st.builds(
        lambda shape, recipient, fields: PostalAddress(
            country=shape[0],
            region=shape[1],
            city=shape[2],
            district=shape[3],
            street_lines=shape[4],
            postal_code=shape[5],
            recipient=recipient,
            **fields,
        ),
        shapes,
        st.none() | person_names().map(lambda n: n.display),
        st.fixed_dictionaries(_point_fields()),
    )


def _handles() -> st.SearchStrategy[SocialHandle]:
    return st.builds(
        SocialHandle,
        platform=st.sampled_from(["wechat", "weibo", "linkedin", "line"]),
        handle=texts(max_size=16),
        **_point_fields(),
    )


def _unique_by_id(strategy: st.SearchStrategy[Any], max_size: int) -> st.SearchStrategy[Any]:
    return st.lists(strategy, max_size=max_size, unique_by=lambda x: x.id).map(tuple)


def _facts() -> st.SearchStrategy[ProfileFact]:
    return st.builds(
        ProfileFact,
        category=st.sampled_from(FactCategory),
        key=st.sampled_from(["drink", "颜色", "room", "温度"]),
        value=texts(max_size=16),
        id=ids(),
        provenance=st.none() | provenances(),
    )


def _identifiers() -> st.SearchStrategy[Identifier]:
    return st.builds(
        Identifier,
        kind=st.sampled_from(IdentifierKind),
        value=texts(max_size=18),
        issuer=st.none() | st.sampled_from(["CN", "SAP", "会员系统"]),
    )


def _common_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {
        "id": ids(),
        "acquired_on": st.none() | dates(),
        "acquisition_channel": st.none() | st.sampled_from(SourceChannel),
        "owner": st.none() | st.sampled_from(["sales-1", "销售二部", "anna"]),
        "tags": st.lists(
            st.sampled_from(["vip", "重点客户", "newsletter", "b2b", "生日会员"]), max_size=3
        ).map(tuple),
        "lifecycle_stage": st.sampled_from(LifecycleStage),
        "grade": st.none() | st.sampled_from(["A", "B", "C", "a", "甲"]),
        "identifiers": st.lists(_identifiers(), max_size=2).map(tuple),
        "phones": _unique_by_id(phones(), 2),
        "emails": _unique_by_id(emails(), 2),
        "addresses": _unique_by_id(addresses(), 2),
        "social_handles": _unique_by_id(_handles(), 1),
        "facts": _unique_by_id(_facts(), 2),
        "key_dates": st.lists(
            _kept_by(
                st.builds(KeyDate, label=texts(max_size=12), date=dates(), recurring=st.booleans()),
                "date",
                "calendar",
            ),
            max_size=2,
        ).map(tuple),
        "provenance": st.none() | provenances(),
        "notes": _optional_text(60),
    }


def person_customers() -> st.SearchStrategy[Customer]:
    """Person customers with full profiles (version 0, never saved)."""
    profile = st.builds(
        PersonProfile,
        name=person_names(),
        nickname=_optional_text(12),
        other_name=st.none() | person_names(),
        gender=st.none() | st.sampled_from(Gender),
        birthday=st.none() | dates(),
        birthplace=st.none() | st.sampled_from(["杭州", "München", "São Paulo"]),
        education=_optional_text(12),
        occupation=_optional_text(12),
        job_title=_optional_text(12),
        industry=_optional_text(12),
        income_band=st.none() | st.sampled_from(["<5k", "5k-10k", ">30k"]),
        family_members=st.lists(
            _kept_by(
                st.builds(
                    FamilyMember,
                    relation=st.sampled_from(["spouse", "child", "配偶", "子女"]),
                    name=st.none() | person_names(),
                    birthday=st.none() | dates(),
                )
            ),
            max_size=2,
        ).map(tuple),
    )
    profile = _kept_by(profile)
    return st.builds(
        lambda p, display, fields: Customer(
            kind=CustomerKind.PERSON,
            display_name=display or p.name.display,
            person=p,
            **fields,
        ),
        profile,
        st.none() | texts(max_size=20),
        st.fixed_dictionaries(_common_fields()),
    )


def _kept_by(
    models: st.SearchStrategy[_M], day: str = "birthday", calendar: str = "birthday_calendar"
) -> st.SearchStrategy[_M]:
    """``models`` with their date ``day`` kept by either calendar (Chinese only in its range)."""

    def keep(model: _M, kept: Calendar) -> _M:
        value = getattr(model, day)
        if kept is Calendar.CHINESE and not (
            value is not None and CHINESE_FIRST_DAY <= value <= CHINESE_LAST_DAY
        ):
            return model
        changed: _M = attrs.evolve(cast(Any, model), **{calendar: kept})
        return changed

    return st.builds(keep, models, st.sampled_from(Calendar))


def _contact_persons() -> st.SearchStrategy[ContactPerson]:
    return _kept_by(
        st.builds(
            ContactPerson,
            name=person_names(),
            id=ids(),
            role=st.sampled_from(DecisionRole),
            title=st.none() | st.sampled_from(["总经理", "CTO", "Einkaufsleiter"]),
            department=_optional_text(12),
            key_person=st.booleans(),
            phones=_unique_by_id(phones(), 1),
            emails=_unique_by_id(emails(), 1),
            birthday=st.none() | dates(),
            notes=_optional_text(),
            provenance=st.none() | provenances(),
        )
    )


def organisation_customers() -> st.SearchStrategy[Customer]:
    """Organisation customers with registration data and contact persons."""
    profile = st.builds(
        OrganisationProfile,
        legal_name=st.sampled_from(
            ["北京星辰科技有限公司", "ACME GmbH", "Ａｃｍｅ Trading Co., Ltd.", "株式会社サンプル"]
        )
        | texts(max_size=30),
        registration_number=st.none() | st.sampled_from(["91110108MA01ABCD2X", "HRB 12345"]),
        registered_capital=st.none() | money(),
        business_scope=_optional_text(40),
        industry=_optional_text(12),
        size=st.none() | st.sampled_from(OrganisationSize),
        employee_count=st.none() | st.integers(min_value=0, max_value=500_000),
        credit_standing=st.sampled_from(CreditStanding),
        credit_provenance=st.none() | provenances(),
        founded_on=st.none() | dates(),
        contact_persons=_unique_by_id(_contact_persons(), 2),
    )
    return st.builds(
        lambda o, fields: Customer(
            kind=CustomerKind.ORGANISATION,
            display_name=o.legal_name,
            organisation=o,
            **fields,
        ),
        profile,
        st.fixed_dictionaries(_common_fields()),
    )


def customers() -> st.SearchStrategy[Customer]:
    """Person and organisation customers (version 0, never saved)."""
    return st.one_of(person_customers(), organisation_customers())


def interactions(customer_id: str | None = None) -> st.SearchStrategy[Interaction]:
    """Interactions (version 0) with ``customer_id`` or a random one."""
    return st.builds(
        Interaction,
        customer_id=st.just(customer_id) if customer_id else ids(),
        channel=st.sampled_from(InteractionChannel),
        direction=st.sampled_from(Direction),
        occurred_at=aware_datetimes(),
        subject=texts(max_size=30),
        id=ids(),
        contact_person_id=st.none() | ids(),
        notes=_optional_text(60),
        outcome=_optional_text(),
        recorded_by=st.none() | st.sampled_from(["agent-1", "客服小王"]),
        major_event=st.booleans(),
    )


_MOVES = {
    ComplaintState.ACKNOWLEDGED: lambda c, at: c.acknowledge(by="agent-1", at=at),
    ComplaintState.INVESTIGATING: lambda c, at: c.investigate(by="质检部", at=at),
    ComplaintState.RESOLVED: lambda c, at: c.resolve(
        resolution="退款", root_cause="物流", by="agent-1", at=at
    ),
    ComplaintState.CLOSED: lambda c, at: c.close(by="agent-2", at=at, satisfaction=1),
    ComplaintState.REOPENED: lambda c, at: c.reopen(by="customer", at=at),
    ComplaintState.REJECTED: lambda c, at: c.reject(by="agent-1", at=at, note="无依据"),
}


@st.composite
def complaints(draw: st.DrawFn, customer_id: str | None = None) -> Complaint:
    """Complaints (version 0) moved through a random valid sequence of states."""
    received = draw(aware_datetimes().filter(lambda d: d.year < 2090))
    complaint = Complaint(
        customer_id=customer_id or draw(ids()),
        received_at=received,
        channel=draw(st.sampled_from(InteractionChannel)),
        category=draw(st.sampled_from(["delivery", "billing", "质量", "服务态度"])),
        description=draw(texts(max_size=60)),
        severity=draw(st.sampled_from(Severity)),
        id=draw(ids()),
        product=draw(st.none() | st.sampled_from(["茶叶礼盒", "Cloud Plan"])),
        response_due=draw(st.none() | st.just(received + dt.timedelta(hours=24))),
        resolution_due=draw(st.none() | st.just(received + dt.timedelta(days=7))),
    )
    at = received
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        allowed = sorted(complaint.allowed_transitions())
        target = draw(st.sampled_from(allowed))
        at = at + dt.timedelta(hours=draw(st.integers(min_value=1, max_value=72)))
        complaint = _MOVES[target](complaint, at)
    return complaint


def purchases(customer_id: str | None = None) -> st.SearchStrategy[Purchase]:
    """Purchases (version 0), refunds included, with or without a cost."""
    return st.sampled_from(["CNY", "EUR", "USD"]).flatmap(
        lambda currency: st.builds(
            Purchase,
            customer_id=st.just(customer_id) if customer_id else ids(),
            purchased_at=aware_datetimes(),
            amount=money(currency),
            product=st.sampled_from(["茶叶礼盒", "Kaffee", "年度服务", "Coffee"]) | texts(),
            id=ids(),
            category=st.none() | st.sampled_from(["retail", "服务"]),
            quantity=st.decimals(
                min_value=Decimal("0.001"),
                max_value=Decimal("10000"),
                places=3,
                allow_nan=False,
                allow_infinity=False,
            ),
            cost=st.none() | money(currency),
            channel=st.none() | st.sampled_from(SourceChannel),
            order_ref=st.none() | st.sampled_from(["SO-2024-0001", "订单-88"]),
        )
    )
