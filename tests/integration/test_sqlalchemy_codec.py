"""The stored JSON documents: exact round trips, strict reading of corrupted rows."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore._fastpaths import set_fast_paths
from crmcore.errors import ValidationError
from crmcore.models import Complaint, Customer, Interaction, Money, Purchase
from crmcore.serialization import from_dict, to_dict
from crmcore.storage.sqlalchemy._codec import _isoformat, decode, encode, structure, unstructure
from crmcore.storage.sqlalchemy._last import remember_last
from crmcore.storage.sqlalchemy._schema import utc_key
from crmcore.testing import strategies as cst

RECORDS = st.one_of(cst.customers(), cst.interactions(), cst.complaints(), cst.purchases())


@settings(max_examples=200, deadline=None)
@given(record=RECORDS)
def test_documents_round_trip_exactly(
    record: Customer | Interaction | Complaint | Purchase,
) -> None:
    """decode(encode(r)) == r, and the compact document reads as crmcore's own JSON does."""
    text = encode(record)
    assert decode(text, type(record)) == record
    assert from_dict(json.loads(text), type(record)) == record
    assert structure(to_dict(record), type(record)) == record


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        (lambda d: d.update(surprise=1), "field.unknown", "$.surprise"),
        (lambda d: d.update(lifecycle_stage="ghost"), "value.not_allowed", "$.lifecycle_stage"),
        (lambda d: d.update(version="1"), "type.invalid", "$.version"),
        (lambda d: d["phones"][0].update(primary=1), "type.invalid", "$.phones[0].primary"),
        (lambda d: d.update(created_at="2026-01-01T00:00:00"), "datetime.naive", "$.created_at"),
        (lambda d: d.update(display_name=""), "value.blank", "$.display_name"),
    ],
)
def test_a_corrupted_document_raises_validation_error_with_its_path(
    change: object, code: str, path: str
) -> None:
    """A row that does not hold a valid record is reported with the problem's code and path."""
    customer = Customer.person_named(family="张", given="伟")
    data = json.loads(encode(customer))
    data["phones"] = [{"number": "+8613800138000"}]
    change(data)  # type: ignore[operator]
    with pytest.raises(ValidationError) as caught:
        decode(json.dumps(data), Customer)
    assert (code, path) in [(p.code, p.path) for p in caught.value.problems]


def test_a_float_where_a_decimal_belongs_is_refused() -> None:
    """Money amounts must be decimal strings in the document; a float is refused."""
    purchase = Purchase(
        customer_id="c1",
        purchased_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        amount=Money.of("19.90", "CNY"),
        product="茶叶礼盒",
    )
    data = json.loads(encode(purchase))
    data["amount"]["amount"] = 19.9
    with pytest.raises(ValidationError):
        decode(json.dumps(data), Purchase)


@pytest.mark.parametrize("quantity", ["1", "1.0", "1.000", "2"])
def test_a_decimal_equal_to_its_default_keeps_its_scale(quantity: str) -> None:
    """Decimal("1.0") == Decimal(1), yet its scale is data: the stored document keeps it."""
    purchase = Purchase(
        customer_id="c1",
        purchased_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        amount=Money.of("1", "CNY"),
        product="茶",
        quantity=Decimal(quantity),
    )
    back = decode(encode(purchase), Purchase)
    assert str(back.quantity) == quantity


@settings(max_examples=100, deadline=None)
@given(
    moments=st.lists(cst.aware_datetimes(), min_size=1, max_size=5),
    picks=st.lists(st.integers(0, 4), max_size=12),
)
def test_remembered_datetime_texts_are_the_texts_of_the_datetime_given(
    moments: list[dt.datetime], picks: list[int]
) -> None:
    """utc_key and the documents' datetimes remember the last object formatted; whatever
    the order of repeats and of equal instants in other offsets, each call answers for
    the object it is given."""
    sequence = [moments[i % len(moments)] for i in picks] + moments
    sequence += [m.astimezone(dt.timezone(dt.timedelta(hours=8))) for m in moments]
    for moment in sequence:
        assert utc_key(moment) == moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(
            timespec="microseconds"
        )
        assert _isoformat(moment) == moment.isoformat()


@settings(max_examples=300, deadline=None)
@given(record=RECORDS)
def test_the_generated_json_writer_matches_the_json_module(
    record: Customer | Interaction | Complaint | Purchase,
) -> None:
    """encode() writes JSON text directly; it is exactly what the json module makes of
    the record's document (compact separators, non-ASCII kept)."""
    expected = json.dumps(unstructure(record), ensure_ascii=False, separators=(",", ":"))
    assert encode(record) == expected


def test_a_remembered_result_is_only_ever_for_the_object_given() -> None:
    """remember_last calls the function for every new object (None included, before
    any call) and answers a repeat of the last object without calling it again."""
    calls: list[object] = []

    def describe(value: object) -> str:
        calls.append(value)
        return repr(value)

    previous = set_fast_paths(True)  # the cache under test is the fast path itself
    try:
        remembered = remember_last(describe)
    finally:
        set_fast_paths(previous)
    first, second = object(), object()
    assert remembered(None) == "None"
    assert [remembered(first), remembered(first), remembered(second)] == [
        repr(first),
        repr(first),
        repr(second),
    ]
    assert remembered(first) == repr(first)
    assert calls == [None, first, second, first]
