"""A synthetic customer base with duplicates and known truth, for accuracy tests.

Each true person gets one clean record and, with probability ``dup_rate``, one to
three more records damaged the way CRM data is: typos, swapped family and given
names, missing fields, phones reformatted (local, spaced, full-width digits),
day and month swapped, emails mistyped, new phone numbers, moves, Chinese names
in traditional characters or in pinyin. Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterable, Sequence

import attrs

from crmcore.models import (
    Customer,
    Email,
    Gender,
    Identifier,
    IdentifierKind,
    NameOrder,
    PersonName,
    PersonProfile,
    Phone,
    PostalAddress,
)

__all__ = ["Dataset", "generate", "pair_scores", "true_pairs"]

# simplified, traditional, pinyin
SURNAMES = [
    ("张", "張", "Zhang"), ("王", "王", "Wang"), ("李", "李", "Li"), ("刘", "劉", "Liu"),
    ("陈", "陳", "Chen"), ("杨", "楊", "Yang"), ("黄", "黃", "Huang"), ("赵", "趙", "Zhao"),
    ("吴", "吳", "Wu"), ("周", "周", "Zhou"), ("徐", "徐", "Xu"), ("孙", "孫", "Sun"),
    ("马", "馬", "Ma"), ("朱", "朱", "Zhu"), ("胡", "胡", "Hu"), ("郭", "郭", "Guo"),
    ("何", "何", "He"), ("林", "林", "Lin"), ("罗", "羅", "Luo"), ("高", "高", "Gao"),
    ("郑", "鄭", "Zheng"), ("梁", "梁", "Liang"), ("谢", "謝", "Xie"), ("宋", "宋", "Song"),
    ("唐", "唐", "Tang"), ("许", "許", "Xu"), ("韩", "韓", "Han"), ("冯", "馮", "Feng"),
    ("邓", "鄧", "Deng"), ("曹", "曹", "Cao"), ("欧阳", "歐陽", "Ouyang"), ("司马", "司馬", "Sima"),
]  # fmt: skip
GIVEN = [
    ("伟", "偉", "wei"), ("芳", "芳", "fang"), ("娜", "娜", "na"), ("敏", "敏", "min"),
    ("静", "靜", "jing"), ("丽", "麗", "li"), ("强", "強", "qiang"), ("磊", "磊", "lei"),
    ("军", "軍", "jun"), ("洋", "洋", "yang"), ("勇", "勇", "yong"), ("艳", "艷", "yan"),
    ("杰", "傑", "jie"), ("娟", "娟", "juan"), ("涛", "濤", "tao"), ("明", "明", "ming"),
    ("超", "超", "chao"), ("霞", "霞", "xia"), ("平", "平", "ping"), ("刚", "剛", "gang"),
    ("华", "華", "hua"), ("建", "建", "jian"), ("国", "國", "guo"), ("文", "文", "wen"),
    ("红", "紅", "hong"), ("玲", "玲", "ling"), ("斌", "斌", "bin"), ("鹏", "鵬", "peng"),
    ("辉", "輝", "hui"), ("宇", "宇", "yu"), ("晨", "晨", "chen"), ("欣", "欣", "xin"),
]  # fmt: skip
WESTERN_GIVEN = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Anna",
    "Lukas",
    "Sophie",
    "Jonas",
    "Marie",
    "Felix",
    "Laura",
    "Paul",
    "Lena",
    "Maximilian",
    "Emma",
    "Leon",
    "Hannah",
    "Elias",
    "Clara",
    "Noah",
    "Mia",
    "Louis",
    "Julia",
    "Hugo",
    "Chloe",
    "Lucas",
    "Camille",
    "Gabriel",
    "Manon",
    "Arthur",
    "Ines",
    "Mateo",
    "Sofia",
    "Leo",
    "Alice",
    "Oliver",
    "Amelia",
    "Jack",
    "Isla",
    "Harry",
    "Ava",
    "George",
    "Emily",
    "Oscar",
    "Grace",
]
WESTERN_FAMILY = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Dubois",
    "Moreau",
    "Laurent",
    "Lefebvre",
    "Leroy",
    "Roux",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Novak",
    "Kowalski",
    "Nowak",
    "Horvat",
    "Jansen",
    "Visser",
    "Peeters",
    "Andersson",
    "Nilsson",
    "Hansen",
]
DOMAINS = ["example.com", "mail.example.cn", "corp.example.org", "qq.example", "163.example"]
CITIES = [
    ("北京", "100080", "CN"), ("上海", "200030", "CN"), ("广州", "510000", "CN"),
    ("Berlin", "10115", "DE"), ("München", "80331", "DE"), ("Paris", "75001", "FR"),
]  # fmt: skip
STREETS = ["中关村大街", "南京路", "天河路", "Hauptstraße", "Bahnhofstraße", "Rue de Rivoli"]


@attrs.frozen(kw_only=True)
class Dataset:
    """Customers and the true person behind each."""

    customers: tuple[Customer, ...]
    truth: dict[str, int]


@attrs.frozen(kw_only=True)
class _Person:
    chinese: bool
    family: tuple[str, str, str]  # simplified, traditional, romanised (Western: all equal)
    given: tuple[str, str, str]
    birthday: dt.date
    gender: Gender
    mobile: str  # national significant number
    email: str
    city: tuple[str, str, str]
    postal_code: str
    street: str
    national_id: str | None


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.randrange(4)
    letters = "abcdefghijklmnopqrstuvwxyz"
    if op == 0:
        return text[:i] + text[i + 1 :]
    if op == 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if op == 2:
        return text[:i] + rng.choice(letters) + text[i + 1 :]
    return text[:i] + rng.choice(letters) + text[i:]


def _person(rng: random.Random, index: int) -> _Person:
    chinese = rng.random() < 0.6
    if chinese:
        family = rng.choice(SURNAMES)
        parts = [rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))]
        given = tuple("".join(p[k] for p in parts) for k in range(3))
        given = (given[0], given[1], given[2].capitalize())
        city = rng.choice(CITIES[:3])
        street = rng.choice(STREETS[:3])
        login = f"{family[2].lower()}{given[2].lower()}{rng.randrange(100, 999)}"
    else:
        fam = rng.choice(WESTERN_FAMILY)
        giv = rng.choice(WESTERN_GIVEN)
        family, given = (fam, fam, fam), (giv, giv, giv)
        city = rng.choice(CITIES[3:])
        street = rng.choice(STREETS[3:])
        login = f"{giv.lower()}.{fam.lower()}{rng.randrange(10, 99)}"
    return _Person(
        chinese=chinese,
        family=family,
        given=given,
        birthday=dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000)),
        gender=rng.choice((Gender.FEMALE, Gender.MALE)),
        mobile=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
        email=f"{login}@{rng.choice(DOMAINS)}",
        city=city,
        postal_code=f"{city[1][:-3]}{rng.randrange(1000):03d}",
        street=f"{street} {rng.randrange(1, 300)}",
        national_id=f"{rng.randrange(10**17):018d}" if rng.random() < 0.3 else None,
    )


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _record(
    rng: random.Random, p: _Person, record_id: str, damaged: bool, hard: bool = False
) -> Customer:
    family, given = p.family[0], p.given[0]
    order: NameOrder | None = None
    phone = f"+86{p.mobile}"
    email: str | None = p.email
    birthday: dt.date | None = p.birthday
    national_id = p.national_id
    street = p.street
    postal_code = p.postal_code
    if damaged:
        for _ in range(rng.choice((2, 3, 3, 4) if hard else (1, 2, 2, 3))):
            damage = rng.randrange(14 if hard else 11)
            if damage == 0:  # a typo in a name
                if p.chinese:
                    if rng.random() < 0.5:
                        family, given = p.family[1], p.given[1]  # traditional
                    else:
                        family, given = p.family[2], p.given[2]
                        order = NameOrder.FAMILY_FIRST
                        given = _typo(rng, given) if len(given) > 3 else given
                elif rng.random() < 0.5:
                    family = _typo(rng, family)
                else:
                    given = _typo(rng, given)
            elif damage == 1:  # swapped family and given name
                family, given = given, family
            elif damage == 2:
                phone = rng.choice(
                    (
                        f"{p.mobile[:3]} {p.mobile[3:7]} {p.mobile[7:]}",
                        p.mobile.translate(_FULL_WIDTH),
                        f"0086-{p.mobile}",
                    )
                )
            elif damage == 3:
                email = None if rng.random() < 0.5 else _typo(rng, p.email)
            elif damage == 4 and birthday is not None and p.birthday.day <= 12:
                birthday = dt.date(p.birthday.year, p.birthday.day, p.birthday.month)
            elif damage == 5:
                birthday = None
            elif damage == 6:
                phone = ""
            elif damage == 7:
                street = _typo(rng, street)
            elif damage == 8:
                national_id = None
            elif damage == 9:  # a new mobile number
                phone = f"+86{_person(rng, 0).mobile}"
            elif damage == 10:  # moved house
                moved = _person(rng, 0)
                street, postal_code = moved.street, moved.postal_code
            elif damage == 11:  # a new email address (another provider)
                email = f"{_person(rng, 0).email.split('@')[0]}@{rng.choice(DOMAINS)}"
            elif damage == 12:  # typos in both names
                family, given = _typo(rng, family), _typo(rng, given)
            elif damage == 13:  # no phone and no email at all
                phone, email = "", None
    name = PersonName(family=family, given=given, **({"order": order} if order else {}))
    return Customer.person_named(
        family=family,
        given=given,
        id=record_id,
        created_at=_AT,
        updated_at=_AT,
        person=PersonProfile(name=name, birthday=birthday, gender=p.gender),
        phones=(Phone(number=phone, region="CN"),) if phone else (),
        emails=(Email(address=email),) if email else (),
        addresses=(
            PostalAddress(
                country=p.city[2],
                city=p.city[0],
                postal_code=postal_code,
                street_lines=(street,),
            ),
        ),
        identifiers=(
            (Identifier(kind=IdentifierKind.NATIONAL_ID, value=national_id),) if national_id else ()
        ),
    )


def generate(people: int, *, seed: int = 0, dup_rate: float = 0.3, hard: bool = False) -> Dataset:
    """``people`` true persons and their records (about ``people * (1 + dup_rate * 2)``).

    ``hard`` damages each copy two to four times (not one to three) and adds new
    email addresses, typos in both names, and copies without any phone or email.
    """
    rng = random.Random(seed)
    customers: list[Customer] = []
    truth: dict[str, int] = {}
    serial = itertools.count()
    for index in range(people):
        person = _person(rng, index)
        copies = 1 + (rng.choice((1, 1, 1, 2, 2, 3)) if rng.random() < dup_rate else 0)
        for copy in range(copies):
            record_id = f"r{next(serial):07d}"
            customers.append(_record(rng, person, record_id, damaged=copy > 0, hard=hard))
            truth[record_id] = index
    rng.shuffle(customers)
    return Dataset(customers=tuple(customers), truth=truth)


def true_pairs(truth: dict[str, int]) -> set[tuple[str, str]]:
    """Every pair of records of the same true person, smaller id first."""
    by_person: dict[int, list[str]] = {}
    for record_id, person in truth.items():
        by_person.setdefault(person, []).append(record_id)
    return {(a, b) for ids in by_person.values() for a, b in itertools.combinations(sorted(ids), 2)}


def pair_scores(
    found: set[tuple[str, str]], truth: set[tuple[str, str]]
) -> tuple[float, float, float]:
    """Precision, recall and F1 of found pairs against the true pairs."""
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def group_pairs(groups: Iterable[Sequence[str]]) -> set[tuple[str, str]]:
    """Every pair within each group, smaller id first."""
    return {(a, b) for members in groups for a, b in itertools.combinations(sorted(members), 2)}
