"""The field-type grammar: annotations parsed once; checks and predicates built together."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmcore.models as models
from crmcore._fastpaths import set_fast_paths
from crmcore.errors import Problem
from crmcore.models import Customer, Model, Money, PhoneKind
from crmcore.models._types import (
    INT_MAX,
    INT_MIN,
    AnyType,
    Atom,
    EnumType,
    FieldType,
    Foreign,
    ModelType,
    Optional,
    TupleOf,
    Union,
    field_types,
    leaf_of,
    parse,
    type_test,
)

ANNOTATIONS: list[Any] = [
    str,
    int,
    bool,
    Decimal,
    dt.datetime,
    dt.date,
    str | None,
    tuple[str, ...],
    tuple[int | None, ...],
    tuple[tuple[dt.datetime, ...], ...],
    tuple[str, ...] | None,
    tuple[Decimal | None, ...] | None,
    PhoneKind,
    PhoneKind | None,
    Money,
    tuple[Money, ...],
    int | str,
    int | str | None,
    dt.date | dt.datetime,
    Any,
]
MODEL_CLASSES = [
    getattr(models, name)
    for name in models.__all__
    if isinstance(getattr(models, name), type)
    and issubclass(getattr(models, name), Model)
    and attrs.has(getattr(models, name))
]
NODES: list[FieldType] = [parse(a) for a in ANNOTATIONS] + [
    node for cls in MODEL_CLASSES for node in field_types(cls).values()
]


class _NoOffset(dt.tzinfo):
    """A tzinfo whose utcoffset is None: such a datetime is naive in Python's terms."""

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta | None:
        return None

    def dst(self, when: dt.datetime | None) -> dt.timedelta | None:
        return None

    def tzname(self, when: dt.datetime | None) -> str | None:
        return None


_HOSTILE_TEXT = st.text(
    st.sampled_from(["a", " ", "\x00", "\ud800", "\udfff", "é", "中", "\U0001f600"]),
    max_size=6,
)
_ATOMS_HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([INT_MIN - 1, INT_MIN, INT_MAX, INT_MAX + 1, 0, -1]),
    st.floats(allow_nan=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("sNaN"), Decimal("-Infinity"), Decimal("1E+999999")]),
    st.text(max_size=6),
    _HOSTILE_TEXT,
    st.sampled_from(["\ud83d\ude00", "\x00abc", "abc\udc80"]),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.sampled_from(
        [
            dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=5))),
            dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            dt.datetime.min.replace(tzinfo=dt.UTC),
            dt.datetime(2026, 1, 1, tzinfo=_NoOffset()),
        ]
    ),
    st.dates(),
    st.sampled_from(list(PhoneKind)),
    st.just(Money.of("1.00", "CNY")),
    st.just(Customer.person_named(family="张")),
    st.just(object()),
)
HOSTILE = st.recursive(
    _ATOMS_HOSTILE,
    lambda inner: st.one_of(st.lists(inner, max_size=3).map(tuple), st.lists(inner, max_size=3)),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None)
@given(value=HOSTILE)
def test_every_predicate_says_yes_exactly_when_the_check_finds_nothing(value: Any) -> None:
    """For every node kind and hostile values, predicate(v) == (no problem from the check)."""
    for node in NODES:
        test = type_test(node)
        reference = not list(node.diagnose(value, "$"))
        assert test.accepts(value) == reference, (node, value)
        assert (not test.check(value, "$")) == reference, (node, value)


@settings(max_examples=100, deadline=None)
@given(value=HOSTILE)
def test_with_fast_paths_off_the_predicate_is_the_check(value: Any) -> None:
    """With the switch set, every predicate is the reference check itself, and agrees."""
    previous = set_fast_paths(False)
    try:
        for node in NODES:
            assert type_test(node).accepts(value) == (not list(node.diagnose(value, "$")))
    finally:
        set_fast_paths(previous)


def test_annotations_parse_into_the_grammar_nodes() -> None:
    """Each annotation shape becomes its node kind, nested as written."""
    assert parse(str) == Atom(str)
    assert parse(str | None) == Optional(Atom(str))
    assert parse(tuple[int | None, ...]) == TupleOf(Optional(Atom(int)))
    assert parse(PhoneKind) == EnumType(PhoneKind)
    assert parse(Money) == ModelType(Money)
    assert parse(int | str) == Union((Atom(int), Atom(str)))
    assert parse(int | str | None) == Optional(Union((Atom(int), Atom(str))))
    assert parse(Any) == AnyType()
    assert parse(object) == AnyType()
    assert parse(tuple[str, ...] | None).annotation == tuple[str, ...] | None


def test_unsupported_annotations_are_refused_unless_asked_leniently() -> None:
    """Models cannot check list[int]; a lenient parse (rule specs) marks it Foreign."""
    with pytest.raises(TypeError, match="cannot check fields of type"):
        parse(list[int])
    with pytest.raises(TypeError):
        parse(tuple[int, str])
    assert parse(list[int] | None, strict=False) == Optional(Foreign(list[int]))


def test_field_types_are_parsed_once_per_class() -> None:
    """field_types gives every field its node, in field order, the same dict each time."""
    nodes = field_types(Customer)
    assert list(nodes) == [f.name for f in attrs.fields(Customer)]
    assert field_types(Customer) is nodes
    assert nodes["phones"] == TupleOf(ModelType(models.Phone))


def test_leaf_of_gives_what_a_query_path_step_needs() -> None:
    """leaf_of: (inner node, many, optional) of tuples, optionals and plain fields."""
    assert leaf_of(parse(tuple[str, ...] | None)) == (Atom(str), True, True)
    assert leaf_of(parse(tuple[Money, ...])) == (ModelType(Money), True, False)
    assert leaf_of(parse(dt.date | None)) == (Atom(dt.date), False, True)
    assert leaf_of(parse(int | str | None)) == (AnyType(), False, True)
    assert leaf_of(parse(PhoneKind)) == (EnumType(PhoneKind), False, False)


@attrs.frozen
class _Lenient(FieldType):
    """A node whose fast predicate refuses what its reference check lets through."""

    @property
    def annotation(self) -> Any:
        return int

    def diagnose(self, value: Any, path: str) -> Iterator[Problem]:
        return iter(())

    def fast_accepts(self) -> Callable[[Any], bool]:
        return lambda value: False


def test_a_predicate_refusal_is_never_a_silent_pass() -> None:
    """If a predicate and its check ever disagreed, the value is refused with type.invalid,
    so it can never pass without its value checks."""
    previous = set_fast_paths(True)
    try:
        assert [p.code for p in type_test(_Lenient()).check(5, "$.n")] == ["type.invalid"]
    finally:
        set_fast_paths(previous)


class _Colour(enum.Enum):
    RED = 1


def test_node_json_forms_are_crmcore_s_json_forms() -> None:
    """Atoms, enums and containers give and parse crmcore's JSON values."""

    def child(node: FieldType, value: Any) -> Any:
        return node.to_json(value, child)

    def parse_child(node: FieldType, data: Any) -> Any:
        return node.from_json(data, parse_child)

    moment = dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    cases: list[tuple[Any, Any, Any]] = [
        (Decimal, Decimal("19.90"), "19.90"),
        (dt.datetime, moment, "2026-03-29T02:30:00+08:00"),
        (dt.date, dt.date(2026, 1, 2), "2026-01-02"),
        (tuple[_Colour | None, ...], (_Colour.RED, None), [1, None]),
        (int | str, "x", "x"),
    ]
    for annotation, value, data in cases:
        node = parse(annotation)
        assert node.to_json(value, child) == data
        assert node.from_json(data, parse_child) == value
