"""Named queries over the sample data set, and a strategy of random queries.

Every operator appears, on scalar and tuple-crossing paths, with unicode,
``None`` values, ties in ordering keys, datetimes in several offsets and decimals.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import Customer
from crmcore.query import (
    And,
    AnyFilter,
    Field,
    Not,
    Or,
    Order,
    Query,
    Reachable,
    Search,
    resolve_path,
)
from crmcore.storage.indexing import DEFAULT_INDEXED_PATHS

__all__ = [
    "COMPLAINT_QUERIES",
    "CUSTOMER_QUERIES",
    "DOCUMENT_PATHS",
    "INDEXED_PATHS",
    "INTERACTION_QUERIES",
    "PAGINATION_ORDERS",
    "PURCHASE_QUERIES",
    "customer_queries",
    "document_queries",
    "indexed_queries",
]

_CN = dt.timezone(dt.timedelta(hours=8))
_NY = dt.timezone(dt.timedelta(hours=-5))

F = Field

CUSTOMER_QUERIES: dict[str, Query] = {
    "all": Query(),
    "eq display_name": Query(where=F("display_name") == "王芳"),
    "eq display_name latin": Query(where=F("display_name") == "Anna Schmidt"),
    "eq without trailing space": Query(where=F("grade") == "A"),
    "eq with trailing space": Query(where=F("display_name") == "王芳 "),
    "eq phone trailing space": Query(where=F("phones.number") == "+86 138 0013 8000"),
    "gt beyond the BMP": Query(where=F("display_name") > "\uffef"),
    "lt beyond the BMP": Query(where=F("display_name") < "𠮷"),
    "tag case": Query(where=F("tags") == "VIP"),
    "ne grade": Query(where=F("grade") != "A"),
    "lt display_name": Query(where=F("display_name") < "Zoë"),
    "le display_name": Query(where=F("display_name") <= "张伟"),
    "gt display_name unicode": Query(where=F("display_name") > "Z"),
    "ge display_name": Query(where=F("display_name") >= "张"),
    "starts_with display_name": Query(where=F("display_name").starts_with("张")),
    "starts_with case sensitive": Query(where=F("display_name").starts_with("anna")),
    "starts_with wildcard chars": Query(where=F("display_name").starts_with("100%")),
    "starts_with underscore": Query(where=F("tags").starts_with("a_")),
    "in lifecycle": Query(where=F("lifecycle_stage").in_(["repeat", "client"])),
    "in grade": Query(where=F("grade").in_(["A", "a"])),
    "is_null grade": Query(where=F("grade").is_null()),
    "not null grade": Query(where=F("grade").is_not_null()),
    "eq None": Query(where=F("acquired_on") == None),  # noqa: E711
    "ne None": Query(where=F("acquired_on") != None),  # noqa: E711
    "tag eq": Query(where=F("tags") == "vip"),
    "tag contains": Query(where=F("tags").contains("重点客户")),
    "tag not": Query(where=~(F("tags") == "vip")),
    "tag ne": Query(where=F("tags") != "vip"),
    "tags empty": Query(where=F("tags").is_null()),
    "phone number": Query(where=F("phones.number") == "+8613800138000"),
    "phone verified": Query(where=F("phones.verified") == True),  # noqa: E712
    "phones empty": Query(where=F("phones").is_null()),
    "phone opt-out contains": Query(where=F("phones.opt_outs").contains("sms")),
    "address country": Query(where=F("addresses.country").in_(["CN", "DE"])),
    "address street": Query(where=F("addresses.street_lines").starts_with("中关村")),
    "address invalid": Query(where=F("addresses.invalid") == True),  # noqa: E712
    "family name": Query(where=F("person.name.family") == "张"),
    "person null": Query(where=F("person").is_null()),
    "nickname not null": Query(where=~F("person.nickname").is_null()),
    "birthday before": Query(where=F("person.birthday") < dt.date(1990, 1, 1)),
    "birthday eq": Query(where=F("person.birthday") == dt.date(1985, 6, 1)),
    "gender": Query(where=F("person.gender") == "female"),
    "contact role": Query(where=F("organisation.contact_persons.role") == "decision_maker"),
    "contact names": Query(where=F("organisation.contact_persons.name.family") == "孙"),
    "contact persons none": Query(where=F("organisation.contact_persons").is_null()),
    "employees gt": Query(where=F("organisation.employee_count") > 100),
    "employees le zero": Query(where=F("organisation.employee_count") <= 0),
    "capital ge": Query(where=F("organisation.registered_capital.amount") >= Decimal("10000000")),
    "capital eq decimal": Query(
        where=F("organisation.registered_capital.amount") == Decimal("25000.00")
    ),
    "credit enum lt": Query(where=F("organisation.credit_standing") < "good"),
    "acquired between": Query(
        where=(F("acquired_on") >= dt.date(2019, 3, 1)) & (F("acquired_on") < dt.date(2021, 1, 1))
    ),
    "observed instant": Query(
        where=F("provenance.observed_at") > dt.datetime(2024, 1, 1, 9, 0, tzinfo=_CN)
    ),
    "observed instant eq": Query(
        where=F("provenance.observed_at") == dt.datetime(2024, 1, 1, 5, 30, tzinfo=dt.UTC)
    ),
    "observed as string": Query(where=F("provenance.observed_at") <= "2024-01-01T00:00:00+00:00"),
    "provenance channel": Query(where=F("provenance.channel") == "trade_fair"),
    "key date label": Query(where=F("key_dates.label") == "結婚記念日"),
    "notes not null": Query(where=F("notes") != None),  # noqa: E711
    "owner ne": Query(where=F("owner") != "sales-1"),
    "kind": Query(where=F("kind") == "organisation"),
    "and": Query(where=(F("tags") == "vip") & (F("grade") == "A")),
    "or": Query(where=(F("grade") == "C") | (F("person.name.family") == "王")),
    "not and": Query(where=~((F("tags") == "vip") & (F("kind") == "person"))),
    "nested": Query(
        where=Or(
            filters=(
                And(filters=(F("grade") == "B", Not(filter=F("acquired_on").is_null()))),
                F("lifecycle_stage") == "partner",
            )
        )
    ),
    "empty and": Query(where=And()),
    "empty or": Query(where=Or()),
    "search cjk": Query(where=Search(text="张伟")),
    "search cjk subsequence": Query(where=Search(text="张明")),
    "search cjk single": Query(where=Search(text="娜")),
    "search phone spaced": Query(where=Search(text="138 0013 8000")),
    "search phone fullwidth": Query(where=Search(text="１３８００１３８０００")),
    "search phone dashes": Query(where=Search(text="138-0013-8001")),
    "search phone contact person": Query(where=Search(text="139 0000 1111")),
    "search latin casefold": Query(where=Search(text="ANNA")),
    "search email": Query(where=Search(text="example.de")),
    "search fullwidth letters": Query(where=Search(text="acme")),
    "search nickname": Query(where=Search(text="小明")),
    "search other name": Query(where=Search(text="ouyang")),
    "search contact person": Query(where=Search(text="赵磊")),
    "search spaced name": Query(where=Search(text="anna schmidt")),
    "search none": Query(where=Search(text="不存在的人")),
    "search and filter": Query(where=Search(text="张") & (F("grade") == "A")),
    "order display_name": Query(order_by=("display_name",)),
    "order display_name desc": Query(order_by=("-display_name",)),
    "order grade with trailing space": Query(
        where=F("grade").starts_with("A"), order_by=("-grade", "display_name")
    ),
    "order grade nulls": Query(order_by=("grade",)),
    "order grade desc nulls": Query(order_by=("-grade",)),
    "order acquired desc then name": Query(order_by=("-acquired_on", "display_name")),
    "order lifecycle": Query(order_by=("lifecycle_stage", "-grade")),
    "order employees": Query(order_by=("organisation.employee_count",)),
    "order capital": Query(order_by=("-organisation.registered_capital.amount",)),
    "order observed instant": Query(order_by=("provenance.observed_at",)),
    "order birthday": Query(order_by=(Order(path="person.birthday", descending=True),)),
    "order family name": Query(order_by=("person.name.family", "person.name.given")),
    "filter order limit": Query(
        where=F("lifecycle_stage").in_(["repeat", "client", "prospect"]),
        order_by=("grade", "-acquired_on"),
        limit=4,
    ),
    "limit only": Query(limit=3),
    # Every default indexed path (crmcore.storage.indexing.DEFAULT_INDEXED_PATHS).
    "index tags starts_with": Query(where=F("tags").starts_with("v")),
    "index tags in": Query(where=F("tags").in_(["vip", "newsletter"])),
    "index phone ne": Query(where=F("phones.number") != "+8613800138000"),
    "index phone lt": Query(where=F("phones.number") < "+5"),
    "index email eq": Query(where=F("emails.address") == "wangfang@example.com"),
    "index email case": Query(where=F("emails.address") == "anna.schmidt@example.de"),
    "index email ge": Query(where=F("emails.address") >= "w"),
    "index emails empty": Query(where=F("emails").is_null()),
    "index identifier kind": Query(where=F("identifiers.kind") == "membership_card"),
    "index identifier kind lt": Query(where=F("identifiers.kind") < "n"),
    "index identifier value": Query(where=F("identifiers.value").starts_with("9")),
    "index identifiers empty": Query(where=F("identifiers").is_null()),
    "index address region": Query(where=F("addresses.region") == "Bayern"),
    "index address region null": Query(where=F("addresses.region").is_null()),
    "index address city": Query(where=F("addresses.city").in_(["北京", "München", "東京"])),
    "index address postal code": Query(where=F("addresses.postal_code").starts_with("10")),
    "index address country not": Query(where=~(F("addresses.country") == "CN")),
    "index leap birthday": Query(where=F("person.birthday") == dt.date(2000, 2, 29)),
    "index birthday range": Query(
        where=(F("person.birthday") >= dt.date(1985, 1, 1))
        & (F("person.birthday") <= dt.date(1990, 12, 31))
    ),
    "index family birthday": Query(where=F("person.family_members.birthday") > dt.date(2000, 1, 1)),
    "index family birthdays none": Query(where=F("person.family_members.birthday").is_null()),
    "index contact birthday": Query(
        where=F("organisation.contact_persons.birthday") < dt.date(1980, 1, 1)
    ),
    "index key date": Query(where=F("key_dates.date") == dt.date(2015, 10, 10)),
    "index key dates none": Query(where=F("key_dates.date").is_null()),
    "index fact category": Query(where=F("facts.category") == "preference"),
    "index fact key": Query(where=F("facts.key").in_(["favourite_colour", "diet", "hobby"])),
    "index fact and": Query(
        where=(F("facts.category") == "preference") & ~F("facts.key").is_null()
    ),
    "phone kind": Query(where=F("phones.kind") == "mobile"),
    "phone kind and number": Query(
        where=(F("phones.kind") == "landline") & (F("phones.number").starts_with("+86"))
    ),
    "email verified": Query(where=F("emails.verified") == True),  # noqa: E712
    "phone not verified": Query(where=~(F("phones.verified") == True)),  # noqa: E712
    "index owner": Query(where=F("owner") == "sales-1", order_by=("-owner",)),
    "index owner null": Query(where=F("owner").is_null()),
    "index grade lt": Query(where=F("grade") < "B"),
    "index channel": Query(
        where=F("acquisition_channel").in_(["website_registration", "trade_fair", "referral"])
    ),
    "given name": Query(where=F("person.name.given") >= "伟"),
    "index person name null": Query(where=F("person.name").is_null()),
    "index gender in": Query(where=F("person.gender").in_(["male", "diverse"])),
    "index legal name": Query(where=F("organisation.legal_name").starts_with("北京")),
    "index registration": Query(
        where=F("organisation.registration_number") == "91110108MA01ABCD2X"
    ),
    "index size": Query(where=F("organisation.size") >= "m"),
    "index credit": Query(where=F("organisation.credit_standing") != "unknown"),
    "index employees ne": Query(where=F("organisation.employee_count") != 45),
    "index employees huge": Query(where=F("organisation.employee_count") < 2_147_483_647),
    "index founded": Query(where=F("organisation.founded_on") < dt.date(2000, 1, 1)),
    "index or with key column": Query(
        where=(F("tags") == "vip") | (F("lifecycle_stage") == "lost") | F("owner").is_null()
    ),
    "order family then given desc": Query(order_by=("person.name.family", "-person.name.given")),
    "order owner desc": Query(order_by=("-owner", "display_name"), limit=5),
    "order legal name": Query(order_by=("organisation.legal_name",)),
    "order founded desc": Query(order_by=("-organisation.founded_on",)),
    "order gender grade": Query(order_by=("person.gender", "-grade"), limit=6),
}
"""Named customer queries every backend must answer exactly like :meth:`Query.apply`."""

INTERACTION_QUERIES: dict[str, Query] = {
    "by customer": Query(where=F("customer_id") == "c01", order_by=("occurred_at",)),
    "inbound": Query(where=F("direction") == "inbound", order_by=("-occurred_at",)),
    "occurred after": Query(where=F("occurred_at") >= dt.datetime(2024, 3, 1, 1, tzinfo=dt.UTC)),
    "major": Query(where=F("major_event") == True, order_by=("subject",)),  # noqa: E712
    "order ties": Query(order_by=("occurred_at", "channel")),
}
"""Named interaction queries."""

COMPLAINT_QUERIES: dict[str, Query] = {
    "open states": Query(where=F("state").in_(["received", "acknowledged"])),
    "severity order": Query(order_by=("-severity", "received_at")),
    "transition by": Query(where=F("transitions.by") == "agent-1"),
    "satisfaction null": Query(where=F("satisfaction").is_null()),
}
"""Named complaint queries."""

PURCHASE_QUERIES: dict[str, Query] = {
    "refunds": Query(where=F("amount.amount") < 0),
    "amount order": Query(order_by=("-amount.amount",)),
    "currency": Query(where=F("amount.currency") == "EUR", order_by=("purchased_at",)),
    "quantity": Query(where=F("quantity") >= Decimal("1.5")),
    "cost unknown": Query(where=F("cost").is_null(), order_by=("product",)),
    "equal amounts": Query(where=F("amount.amount") == Decimal("19.9")),
}
"""Named purchase queries."""

PAGINATION_ORDERS: dict[str, tuple[str, ...]] = {
    "id": (),
    "display_name": ("display_name",),
    "display_name desc": ("-display_name",),
    "grade nulls then name desc": ("grade", "-display_name"),
    "grade desc": ("-grade",),
    "acquired_on": ("acquired_on",),
    "lifecycle and acquired desc": ("lifecycle_stage", "-acquired_on"),
    "employees desc": ("-organisation.employee_count",),
    "observed instant": ("provenance.observed_at",),
    "family name": ("person.name.family",),
    "family name desc then given": ("-person.name.family", "person.name.given"),
    "owner then grade desc": ("owner", "-grade"),
}
"""Orderings the pagination tests page through (ties and ``None`` on purpose)."""


# --------------------------------------------------------------------------- random queries

_VALUES: dict[str, list[Any]] = {
    "display_name": ["王芳", "张伟", "Anna Schmidt", "Z", "张", "Émile Zola", "ACME GmbH", "a"],
    "grade": ["A", "B", "a", "C", ""],
    "lifecycle_stage": ["repeat", "client", "prospect", "lost", "partner"],
    "tags": ["vip", "重点客户", "newsletter", "a_b"],
    "acquired_on": [dt.date(2019, 3, 1), dt.date(2020, 7, 15), dt.date(2018, 1, 1)],
    "person.name.family": ["张", "王", "Schmidt", "schmidt", "Müller"],
    "person.birthday": [dt.date(1985, 6, 1), dt.date(1990, 12, 31)],
    "phones.number": ["+8613800138000", "+49 30 1234567"],
    "phones.verified": [True, False],
    "addresses.country": ["CN", "DE", "US"],
    "organisation.employee_count": [0, 45, 320, 1200],
    "organisation.registered_capital.amount": [Decimal("25000"), Decimal("10000000.00")],
    "organisation.contact_persons.role": ["decision_maker", "buyer", "influencer"],
    "provenance.observed_at": [
        dt.datetime(2024, 1, 1, 5, 30, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 1, 9, 0, tzinfo=_CN),
        dt.datetime(2024, 1, 1, 0, 30, tzinfo=_NY),
    ],
    "owner": ["sales-1", "sales-2"],
}

_STRING_PATHS = ["display_name", "grade", "tags", "person.name.family", "phones.number"]
_ORDER_PATHS = [
    "display_name",
    "grade",
    "lifecycle_stage",
    "acquired_on",
    "person.birthday",
    "organisation.employee_count",
    "organisation.registered_capital.amount",
    "provenance.observed_at",
    "owner",
]


_COMPARISONS = {
    "eq": "__eq__",
    "ne": "__ne__",
    "lt": "__lt__",
    "le": "__le__",
    "gt": "__gt__",
    "ge": "__ge__",
}


def _comparison(field: Field, kind: str, value: Any) -> AnyFilter:
    """``field <op> value`` for one of the :data:`_COMPARISONS` kinds."""
    built: AnyFilter = getattr(field, _COMPARISONS[kind])(value)
    return built


@st.composite
def _leaf(draw: st.DrawFn) -> AnyFilter:
    path = draw(st.sampled_from(sorted(_VALUES)))
    value = draw(st.sampled_from(_VALUES[path]))
    kind = draw(st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge", "in", "null", "starts"]))
    field = Field(path)
    if kind == "null":
        return field.is_null()
    if kind == "in":
        return field.in_(draw(st.lists(st.sampled_from(_VALUES[path]), min_size=1, max_size=3)))
    if kind == "starts" and path in _STRING_PATHS:
        return field.starts_with(str(value)[:1])
    return _comparison(field, kind if kind in _COMPARISONS else "eq", value)


def _filters() -> st.SearchStrategy[AnyFilter]:
    searches = st.sampled_from(["张", "娜", "138 0013", "anna", "example", "acme", "赵磊"]).map(
        lambda t: Search(text=t)
    )
    return st.recursive(
        st.one_of(_leaf(), searches),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda fs: And(filters=tuple(fs))),
            st.lists(inner, max_size=3).map(lambda fs: Or(filters=tuple(fs))),
            inner.map(lambda f: Not(filter=f)),
        ),
        max_leaves=6,
    )


def customer_queries() -> st.SearchStrategy[Query]:
    """Random filters, orderings and limits over the sample customers' fields."""
    orders = st.lists(
        st.builds(Order, path=st.sampled_from(_ORDER_PATHS), descending=st.booleans()),
        max_size=2,
        unique_by=lambda o: o.path,
    ).map(tuple)
    return st.builds(
        Query,
        where=st.none() | _filters(),
        order_by=orders,
        limit=st.none() | st.integers(min_value=1, max_value=8),
    )


# --------------------------------------------------------------------------- indexed paths

INDEXED_PATHS: tuple[str, ...] = DEFAULT_INDEXED_PATHS
"""The paths every backend indexes by default (as ``crmcore.storage.indexing`` lists them)."""

_SINGLE_PATHS = [p for p in INDEXED_PATHS if not resolve_path(Customer, p).many]
_NULLABLE_PREFIXES = ["phones", "emails", "identifiers", "person", "person.name", "organisation"]


def _operand(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _seen_values(customers: Sequence[Customer]) -> dict[str, tuple[Any, ...]]:
    """The operand forms of the values each indexed path holds on ``customers``."""
    seen: dict[str, tuple[Any, ...]] = {}
    for path in INDEXED_PATHS:
        resolved = resolve_path(Customer, path)
        values = (_operand(v) for c in customers for v in resolved.values(c) if v is not None)
        seen[path] = tuple(dict.fromkeys(values))
    return seen


@st.composite
def _indexed_leaf(draw: st.DrawFn, values: dict[str, tuple[Any, ...]]) -> AnyFilter:
    if draw(st.integers(0, 9)) == 0:
        return Field(draw(st.sampled_from(_NULLABLE_PREFIXES))).is_null()
    path = draw(st.sampled_from(INDEXED_PATHS))
    resolved = resolve_path(Customer, path)
    seen = list(values[path])
    leaf = resolved.leaf
    if seen:
        value = draw(st.sampled_from(seen))
    elif isinstance(leaf, type) and issubclass(leaf, enum.Enum):
        value = draw(st.sampled_from([m.value for m in leaf]))
    else:
        value = {str: "m", int: 45, bool: True, dt.date: dt.date(1990, 1, 1)}[leaf]
    field = Field(path)
    text = isinstance(value, str)
    ops = ["eq", "ne", "lt", "le", "gt", "ge", "in", "null", "not"]
    if text:
        ops.append("starts")
    if resolved.many:
        ops.append("contains")
    kind = draw(st.sampled_from(ops))
    if kind == "null":
        return field.is_null()
    if kind == "in":
        others = st.sampled_from(seen) if seen else st.just(value)
        return field.in_([value, *draw(st.lists(others, max_size=2))])
    if kind == "starts":
        return field.starts_with(value[: draw(st.integers(0, len(value)))])
    if kind == "contains":
        return field.contains(value)
    compare = _comparison(field, "eq" if kind == "not" else kind, value)
    return Not(filter=compare) if kind == "not" else compare


def indexed_queries(customers: Sequence[Customer]) -> st.SearchStrategy[Query]:
    """Random queries over the indexed paths, with operands taken from ``customers``.

    Leaves compare, ``in``, ``is_null``, ``starts_with`` and ``contains`` on every
    default indexed path (and ``is_null`` on the tuples and models above them), nested
    in ``and``, ``or`` and ``not``; orderings by single-valued indexed paths.
    """
    filters = st.recursive(
        _indexed_leaf(_seen_values(customers)),
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda fs: And(filters=tuple(fs))),
            st.lists(inner, min_size=1, max_size=3).map(lambda fs: Or(filters=tuple(fs))),
            inner.map(lambda f: Not(filter=f)),
        ),
        max_leaves=5,
    )
    orders = st.lists(
        st.builds(
            Order, path=st.sampled_from([*_SINGLE_PATHS, "display_name"]), descending=st.booleans()
        ),
        max_size=2,
        unique_by=lambda o: o.path,
    ).map(tuple)
    return st.builds(
        Query,
        where=st.none() | filters,
        order_by=orders,
        limit=st.none() | st.integers(min_value=1, max_value=6),
    )


# --------------------------------------------------------------------------- document paths


def _document_paths(model: type, prefix: str = "", depth: int = 0) -> list[str]:
    """Every path of ``model`` up to four fields deep: scalars and the models above them."""
    found: list[str] = []
    for name in sorted(attrs.fields_dict(model)):
        path = prefix + name
        try:
            resolved = resolve_path(Customer, path)
        except ValidationError:  # pragma: no cover - every field resolves
            continue
        found.append(path)
        leaf = resolved.leaf
        if isinstance(leaf, type) and attrs.has(leaf) and depth < 3:
            found.extend(_document_paths(leaf, path + ".", depth + 1))
    return found


DOCUMENT_PATHS: tuple[str, ...] = tuple(
    p for p in _document_paths(Customer) if p not in INDEXED_PATHS and p != "id"
)
"""Customer paths no backend indexes by default: SQL storage answers them from the document."""

_SCALAR_DOCUMENT_PATHS = [p for p in DOCUMENT_PATHS if resolve_path(Customer, p).scalar]

_FALLBACK: dict[Any, Any] = {
    str: "m",
    int: 1,
    bool: True,
    Decimal: Decimal("1.50"),
    dt.date: dt.date(2000, 1, 1),
    dt.datetime: dt.datetime(2024, 1, 1, 8, tzinfo=_CN),
}


def _variants(value: Any) -> list[Any]:
    """Operands near ``value``: equal in another form, just above and just below."""
    if isinstance(value, bool):
        return [value, not value]
    if isinstance(value, int):
        return [value, value - 1, value + 1]
    if isinstance(value, Decimal):
        return [value, value.normalize(), value * 10, value.scaleb(-3), -value, value + 1]
    if isinstance(value, dt.datetime):
        micro = dt.timedelta(microseconds=1)
        return [value, value.astimezone(_NY), value + micro, value - micro]
    if isinstance(value, dt.date):
        return [value, value + dt.timedelta(days=1), value - dt.timedelta(days=1)]
    if isinstance(value, str):
        return [value, value[:1], value + " ", value[:-1]]
    return [value]


def _document_values(customers: Sequence[Customer]) -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {}
    for path in _SCALAR_DOCUMENT_PATHS:
        resolved = resolve_path(Customer, path)
        seen = [_operand(v) for c in customers for v in resolved.values(c) if v is not None]
        leaf = resolved.leaf
        if isinstance(leaf, type) and issubclass(leaf, enum.Enum):
            values[path] = [m.value for m in leaf]  # an operand must be one of them
            continue
        if not seen:
            seen = [_FALLBACK[leaf]]
        values[path] = list(dict.fromkeys(v for s in seen[:4] for v in _variants(s)))
    return values


@st.composite
def _document_leaf(draw: st.DrawFn, values: dict[str, list[Any]]) -> AnyFilter:
    roll = draw(st.integers(0, 19))
    if roll == 0:
        return Reachable(channel=draw(st.sampled_from(["sms", "call", "email", "mail"])))
    if roll == 1:
        return Field(draw(st.sampled_from(DOCUMENT_PATHS))).is_null()
    path = draw(st.sampled_from(_SCALAR_DOCUMENT_PATHS))
    resolved = resolve_path(Customer, path)
    value = draw(st.sampled_from(values[path]))
    field = Field(path)
    leaf = resolved.leaf
    ops = ["eq", "ne", "lt", "le", "gt", "ge", "in", "null"]
    text = leaf is str or (isinstance(leaf, type) and issubclass(leaf, enum.Enum))
    if text:
        ops.append("starts")
    if resolved.many:
        ops.append("contains")
    if leaf is dt.date:
        ops.append("month_day")
    kind = draw(st.sampled_from(ops))
    if kind == "null":
        return field.is_null()
    if kind == "in":
        return field.in_([value, *draw(st.lists(st.sampled_from(values[path]), max_size=2))])
    if kind == "starts":
        return field.starts_with(str(value)[: draw(st.integers(0, 3))])
    if kind == "contains":
        return field.contains(value)
    if kind == "month_day":
        start, end = value.strftime("%m-%d"), draw(st.sampled_from(["01-07", "06-30", "12-31"]))
        return field.month_day_between(start, end)
    if text and kind not in ("eq", "ne"):
        value = str(value)
    return _comparison(field, kind, value)


def document_queries(customers: Sequence[Customer]) -> st.SearchStrategy[Query]:
    """Random queries over paths that are neither key columns nor indexed.

    Every scalar path of a customer up to four fields deep (:data:`DOCUMENT_PATHS`:
    notes, provenance datetimes in several offsets, decimals such as the registered
    capital in other scales, contact points' nested fields with their defaults,
    consents), ``is_null`` on the models and tuples above them, ``month_day`` on dates,
    and plain reachability, nested in ``and``, ``or`` and ``not``; operands are the
    values ``customers`` hold and values just beside them.
    """
    filters = st.recursive(
        _document_leaf(_document_values(customers)),
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda fs: And(filters=tuple(fs))),
            st.lists(inner, min_size=1, max_size=3).map(lambda fs: Or(filters=tuple(fs))),
            inner.map(lambda f: Not(filter=f)),
        ),
        max_leaves=5,
    )
    return st.builds(
        Query,
        where=filters,
        order_by=st.just(("display_name",)),
        limit=st.none() | st.integers(min_value=1, max_value=6),
    )
