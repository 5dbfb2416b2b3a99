"""The data of bench/bench_queries.py: generated customers and the hand-designed schema.

:func:`customer_at` builds the ``i``-th customer of the benchmark, deterministically and
independently of the others (so a large run never holds them all):
persons and organisations, Chinese and Latin names, one to three E.164 mobile phones
in seven countries, emails, zero to three tags from a skewed vocabulary, addresses in
ten Chinese cities, six EU and four US ones, birthdays, key dates, profile facts,
marketing consents on phones and emails (grants, later withdrawals, a few grants again,
not always written in time order), membership cards and business registrations.

:func:`hand_schema` is the schema a developer would design by hand for the same
queries: a ``bench_customer`` row and one indexed table per multi-valued part, and
:func:`hand_rows` a customer's rows in it (the latest consent decided at write time).
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, Index, MetaData, Table

from crmcore import models as m
from crmcore.query import search_document
from crmcore.storage.sqlalchemy._schema import CodePointString

__all__ = ["BIRTH_YEARS", "Probe", "customer_at", "find_probe", "hand_rows", "hand_schema"]

BIRTH_YEARS = range(1950, 2009)
"""Years the generated birthdays fall in."""

# ------------------------------------------------------------------ data


def _words(text: str) -> list[str]:
    return text.split()


def _pairs(text: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in (item.split(":") for item in text.split())]


CN_FAMILY = _pairs("王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou")
CN_FAMILY += _pairs("徐:xu 孙:sun 马:ma 朱:zhu 胡:hu 郭:guo 何:he 林:lin 罗:luo 高:gao")
CN_GIVEN = _pairs("伟:wei 芳:fang 娜:na 秀英:xiuying 敏:min 静:jing 丽:li 强:qiang 磊:lei")
CN_GIVEN += _pairs("军:jun 洋:yang 勇:yong 艳:yan 杰:jie 明:ming 秀兰:xiulan 霞:xia")
LATIN_FAMILY = _words("Schmidt Müller García Rossi Smith Johnson Dubois Martin Novak Jansen")
LATIN_GIVEN = _words("Anna José Emily Lukas Sofia Marco Chloé Jan Olivia Mateo Léa Noah")
ORG_WORDS = _words("华信 宏达 金鹏 瑞丰 天成 恒通 新元 百川")
ORG_TRADES = _words("科技 贸易 餐饮 物流 文化传媒")
LATIN_ORGS = _words("Nordlicht Azur Helix Lumen Vento Kestrel")
LATIN_TRADES = _words("Handel Logistik Software Foods Media")
Place = tuple[str, str, str, str, int]
"""Country, region, city, postal code prefix, weight."""


def _places(text: str) -> list[Place]:
    rows = [row.split("|") for row in text.strip().split(";")]
    return [(c.strip(), r, city, code, int(w)) for c, r, city, code, w in rows]


PLACES_CN = _places(
    "CN|广东省|深圳|518|9;CN|广东省|广州|510|7;CN|北京市|北京|100|8;CN|上海市|上海|200|8;"
    "CN|浙江省|杭州|310|5;CN|江苏省|南京|210|4;CN|四川省|成都|610|4;CN|湖北省|武汉|430|3;"
    "CN|福建省|厦门|361|2;CN|山东省|青岛|266|3"
)
PLACES_WEST = _places(
    "DE|Bayern|München|80|2;DE|Berlin|Berlin|10|2;FR|Île-de-France|Paris|75|2;"
    "ES|Cataluña|Barcelona|08|1;IT|Lombardia|Milano|20|1;NL|Noord-Holland|Amsterdam|10|1;"
    "US|CA|San Francisco|94|2;US|NY|New York|10|2;US|TX|Austin|78|1;US|WA|Seattle|98|1"
)
MOBILE = {"CN": "+861", "DE": "+4915", "FR": "+336", "ES": "+346", "IT": "+393", "NL": "+316"}
MOBILE |= {"US": "+1415"}
"""A mobile prefix per country; random digits make the number 12 or 13 digits long."""
TAGS = _words("vip newsletter 会员 wholesale 北京 b2b event-2026 churn-risk 老客户 wechat referral")
TAG_WEIGHTS = [1 / (rank + 1) for rank in range(len(TAGS))]
FACTS = [
    (m.FactCategory.PREFERENCE, "drink", ["tea", "coffee", "绿茶", "juice"], 8),
    (m.FactCategory.HOBBY, "sport", ["badminton", "football", "羽毛球", "yoga"], 6),
    (m.FactCategory.FAVOURITE, "colour", ["red", "blue", "green"], 4),
    (m.FactCategory.TABOO, "food", ["pork", "beef", "spicy"], 3),
    (m.FactCategory.TRANSPORT, "car", ["Tesla", "BYD", "none"], 2),
    (m.FactCategory.PRICE_SENSITIVITY, "level", ["high", "low"], 2),
    (m.FactCategory.PREFERENCE, "wine", ["red", "white"], 1),
]
STAGES = list(m.LifecycleStage)
STAGE_WEIGHTS = [5, 8, 6, 6, 5, 7, 2, 1, 1, 3, 2]
T0 = dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _consents(rng: random.Random, at: dt.datetime) -> tuple[m.Consent, ...]:
    """Marketing grants, some withdrawn later (and a few granted again), in any order."""
    events: list[m.Consent] = []
    if rng.random() < 0.5:
        events.append(m.Consent(purpose="marketing", granted=True, recorded_at=at))
        for granted, chance in ((False, 0.35), (True, 0.25)):
            if rng.random() >= chance:
                break
            at += dt.timedelta(days=1 + rng.randrange(200))
            events.append(m.Consent(purpose="marketing", granted=granted, recorded_at=at))
    if rng.random() < 0.2:
        events.append(m.Consent(purpose="service", granted=True, recorded_at=at))
    if rng.random() < 0.3:
        events.reverse()  # the latest decision is not always the last one written
    return tuple(events)


def _phone(rng: random.Random, country: str, i: int, j: int) -> m.Phone:
    prefix = MOBILE[country]
    number = prefix + "".join(rng.choice("0123456789") for _ in range(13 - len(prefix)))
    if country == "CN":
        number = prefix + rng.choice("35789") + number[len(prefix) + 1 :]
    at = T0 + dt.timedelta(days=rng.randrange(600), seconds=i)
    return m.Phone(
        id=f"p{i}-{j}",
        number=number,
        kind=m.PhoneKind.MOBILE,
        region=country,
        consents=_consents(rng, at),
    )


def _address(rng: random.Random, places: list[Place], i: int, j: int) -> m.PostalAddress:
    country, region, city, postal, _ = rng.choices(places, [p[4] for p in places])[0]
    width = 6 - len(postal) if country == "CN" else 3
    street = "中山路" if country == "CN" else "Main Street"
    return m.PostalAddress(
        id=f"a{i}-{j}",
        country=country,
        region=region,
        city=city,
        street_lines=(f"{street} {rng.randrange(1, 300)}",),
        postal_code=postal + "".join(rng.choice("0123456789") for _ in range(width)),
    )


def _email(rng: random.Random, local: str, i: int, j: int, at: dt.datetime) -> m.Email:
    domain = rng.choice(["qq.com", "163.com", "gmail.com", "example.de", "outlook.com"])
    grant = m.Consent(purpose="marketing", granted=True, recorded_at=at)
    return m.Email(
        id=f"e{i}-{j}",
        address=f"{local}{i}{'.w' * j}@{domain}",
        consents=(grant,) if rng.random() < 0.4 else (),
    )


def customer_at(i: int, *, seed: int = 7) -> m.Customer:
    """The ``i``-th generated customer (deterministic, independent of the others).

    Already in normal form (E.164 phones, lower-case emails, ISO countries), as the
    normalisation pipeline would store it, so it loads with the normaliser off.
    """
    rng = random.Random(seed * 1_000_003 + i)
    chinese = rng.random() < 0.65
    places = PLACES_CN if chinese else PLACES_WEST
    home = rng.choices(places, [p[4] for p in places])[0][0]
    created = T0 + dt.timedelta(seconds=30 * i)
    if chinese:
        (family, family_py), (given, given_py) = rng.choice(CN_FAMILY), rng.choice(CN_GIVEN)
        local = f"{family_py}.{given_py}"
    else:
        family, given = rng.choice(LATIN_FAMILY), rng.choice(LATIN_GIVEN)
        local = f"{_ascii(given)}.{_ascii(family)}"
    picked = rng.choices(range(len(FACTS)), [f[3] for f in FACTS], k=rng.choice([0, 1, 1, 2, 3]))
    countries = [home if rng.random() < 0.85 else rng.choice(list(MOBILE)) for _ in range(3)]
    common: dict[str, Any] = {
        "id": uuid.UUID(int=rng.getrandbits(128)).hex,
        "version": 1,
        "created_at": created,
        "updated_at": created,
        "acquired_on": created.date() if rng.random() < 0.6 else None,
        "lifecycle_stage": rng.choices(STAGES, STAGE_WEIGHTS)[0],
        "tags": tuple(rng.choices(TAGS, TAG_WEIGHTS, k=rng.choice([0, 0, 1, 1, 2, 3]))),
        "phones": tuple(
            _phone(rng, countries[j], i, j) for j in range(rng.choice([1, 1, 1, 2, 2, 3]))
        ),
        "emails": tuple(_email(rng, local, i, j, created) for j in range(rng.choice([0, 1, 1, 2]))),
        "addresses": tuple(_address(rng, places, i, j) for j in range(rng.choice([0, 1, 1, 2]))),
        "facts": tuple(
            m.ProfileFact(id=f"f{i}-{j}", category=category, key=key, value=rng.choice(values))
            for j, (category, key, values, _) in enumerate(FACTS[k] for k in dict.fromkeys(picked))
        ),
    }
    if rng.random() < 0.8:  # a person
        name = m.PersonName(family=family, given=given)
        day = dt.date(rng.choice(BIRTH_YEARS), 1, 1) + dt.timedelta(days=rng.randrange(365))
        wedding = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3000))
        card = m.Identifier(kind=m.IdentifierKind.MEMBERSHIP_CARD, value=f"M-{i:08d}")
        return m.Customer(
            kind=m.CustomerKind.PERSON,
            display_name=name.display,
            person=m.PersonProfile(name=name, birthday=day if rng.random() < 0.85 else None),
            identifiers=(card,) if rng.random() < 0.4 else (),
            key_dates=(m.KeyDate(label="wedding", date=wedding),) if rng.random() < 0.25 else (),
            **common,
        )
    if chinese:
        legal = f"{rng.choice(places)[2]}{rng.choice(ORG_WORDS)}{rng.choice(ORG_TRADES)}有限公司"
    else:
        legal = f"{rng.choice(LATIN_ORGS)} {rng.choice(LATIN_TRADES)} GmbH"
    uscc = "9144" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(14))
    contact = m.ContactPerson(
        id=f"cp{i}", name=m.PersonName(family=family, given=given), role=m.DecisionRole.BUYER
    )
    founded = dt.date(2000 + i % 24, 1 + i % 12, 1 + i % 28)
    return m.Customer(
        kind=m.CustomerKind.ORGANISATION,
        display_name=legal,
        organisation=m.OrganisationProfile(
            legal_name=legal, registration_number=uscc, contact_persons=(contact,)
        ),
        identifiers=(m.Identifier(kind=m.IdentifierKind.BUSINESS_REGISTRATION, value=uscc),),
        key_dates=(m.KeyDate(label="founding day", date=founded),),
        **common,
    )


@dataclass(frozen=True)
class Probe:
    """Values taken from one stored customer, for the equality kinds."""

    phone: str
    email: str
    card: str


def find_probe(count: int) -> Probe:
    """The phone, email and membership card of a customer a third into the data."""
    for i in range(count // 3, count):
        c = customer_at(i)
        if c.emails and c.identifiers and c.kind is m.CustomerKind.PERSON:
            return Probe(c.phones[0].number, c.emails[0].address, c.identifiers[0].value)
    raise SystemExit("too few customers to pick a probe from")


# ------------------------------------------------------------------ the hand schema

_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _text(name: str, length: int, *, nullable: bool = False) -> Column[str]:
    # Code-point comparison and order on every dialect (COLLATE "C", utf8mb4 binary), as
    # crmcore's answers are defined: a hand designer wanting the same answers picks it too.
    return Column(name, CodePointString(length), nullable=nullable)


def hand_schema(metadata: MetaData) -> dict[str, Table]:
    """The hand-designed schema: a customer row and one indexed table per multi-valued part."""

    def side(name: str, *columns: Column[Any], indexes: Sequence[Sequence[str]]) -> Table:
        table = Table(f"bench_{name}", metadata, _text("customer_id", 64), *columns, **_OPTIONS)
        for number, keys in enumerate(indexes):
            Index(f"ix_bench_{name}_{number}", *(table.c[k] for k in keys))
        return table

    customer = Table(
        "bench_customer",
        metadata,
        Column("id", CodePointString(64), primary_key=True),
        _text("kind", 16),
        _text("display_name", 512),
        _text("family_name", 128, nullable=True),
        _text("given_name", 128, nullable=True),
        _text("legal_name", 512, nullable=True),
        _text("lifecycle_stage", 32),
        _text("created_at", 32),
        Column("birthday", sa.Date, nullable=True),
        Index("ix_bench_customer_display", "display_name", "id"),
        Index("ix_bench_customer_family", "kind", "family_name", "id"),
        Index("ix_bench_customer_stage", "lifecycle_stage", "id"),
        **_OPTIONS,
    )
    cid = ("customer_id",)
    return {
        "customer": customer,
        "phone": side("phone", _text("e164", 32), _text("digits", 32), indexes=[("e164", *cid)]),
        "email": side("email", _text("address", 320), indexes=[("address", *cid)]),
        "tag": side("tag", _text("tag", 128), indexes=[("tag", *cid)]),
        "identifier": side(
            "identifier", _text("kind", 32), _text("value", 128), indexes=[("value", *cid)]
        ),
        "address": side(
            "address",
            _text("country", 8),
            _text("region", 64, nullable=True),
            _text("city", 64, nullable=True),
            _text("postal_code", 16, nullable=True),
            indexes=[("region", *cid), ("city", *cid)],
        ),
        "birthday": side("birthday", _text("month_day", 5), indexes=[("month_day", *cid)]),
        "fact": side(
            "fact",
            _text("category", 32),
            _text("key", 128),
            _text("value", 256),
            indexes=[("key", *cid), ("category", "key", *cid)],
        ),
        "consent": side(
            "consent",
            _text("channel", 16),
            _text("purpose", 64),
            Column("granted_latest", sa.Boolean, nullable=False),
            indexes=[("channel", "purpose", "granted_latest", *cid)],
        ),
        "search": side("search", _text("text", 512), indexes=[]),
    }


def hand_rows(c: m.Customer) -> dict[str, list[dict[str, Any]]]:
    """The hand schema's rows of one customer (the latest consent decided at write time)."""
    name = c.person.name if c.person is not None else None
    birthday = c.person.birthday if c.person is not None else None
    rows: dict[str, list[dict[str, Any]]] = {
        "customer": [
            {
                "id": c.id,
                "kind": c.kind.value,
                "display_name": c.display_name,
                "family_name": name.family if name else None,
                "given_name": name.given if name else None,
                "legal_name": c.organisation.legal_name if c.organisation else None,
                "lifecycle_stage": c.lifecycle_stage.value,
                "created_at": c.created_at.astimezone(dt.UTC).isoformat(),
                "birthday": birthday,
            }
        ],
        "phone": [{"e164": p.number, "digits": p.number.lstrip("+")} for p in c.phones],
        "email": [{"address": e.address} for e in c.emails],
        "tag": [{"tag": t} for t in c.tags],
        "identifier": [{"kind": x.kind.value, "value": x.value} for x in c.identifiers],
        "address": [
            {"country": a.country, "region": a.region, "city": a.city, "postal_code": a.postal_code}
            for a in c.addresses
        ],
        "birthday": [{"month_day": birthday.strftime("%m-%d")}] if birthday else [],
        "fact": [{"category": f.category.value, "key": f.key, "value": f.value} for f in c.facts],
        "consent": [
            {"channel": channel, "purpose": purpose, "granted_latest": point.consent_for(purpose)}
            for channel, points in (("sms", c.phones), ("email", c.emails))
            for point in points
            for purpose in sorted({k.purpose for k in point.consents})
        ],
        "search": [{"text": t} for t in search_document(c).texts],
    }
    for kind, table_rows in rows.items():
        if kind != "customer":
            for row in table_rows:
                row["customer_id"] = c.id
    return rows
