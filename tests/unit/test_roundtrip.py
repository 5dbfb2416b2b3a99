"""Every model round-trips through plain dicts and JSON exactly (property tests)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.models import (
    ChangeOperation,
    ChangeRecord,
    Complaint,
    Customer,
    FieldChange,
    Interaction,
    Purchase,
)
from crmcore.serialization import from_dict, from_json, make_converter, to_dict, to_json
from crmcore.testing import strategies as crm

change_records = st.builds(
    ChangeRecord,
    customer_id=crm.ids(),
    operation=st.sampled_from(list(ChangeOperation)),
    at=crm.aware_datetimes(),
    version=st.integers(min_value=1, max_value=10**6),
    actor=st.none() | crm.texts(),
    source=st.none() | crm.texts(),
    changes=st.lists(
        st.builds(
            FieldChange,
            path=crm.texts(),
            old=st.none() | crm.texts(min_size=0, max_size=40),
            new=st.none() | crm.texts(min_size=0, max_size=40),
        ),
        max_size=4,
    ).map(tuple),
)

MODELS: list[tuple[type[Any], st.SearchStrategy[Any]]] = [
    (Customer, crm.customers()),
    (Interaction, crm.interactions()),
    (Complaint, crm.complaints()),
    (Purchase, crm.purchases()),
    (ChangeRecord, change_records),
]


def _round_trips(cls: type[Any], record: Any) -> None:
    text = to_json(record)
    assert from_json(text, cls) == record
    data = to_dict(record)
    assert json.loads(json.dumps(data)) == data, "to_dict must yield plain JSON types"
    assert from_dict(data, cls) == record
    assert make_converter().structure(make_converter().unstructure(record), cls) == record


@settings(max_examples=60, deadline=None)
@given(record=crm.customers())
def test_customers_round_trip(record: Customer) -> None:
    """People and organisations with every nested part survive JSON unchanged."""
    _round_trips(Customer, record)


@settings(max_examples=40, deadline=None)
@given(record=crm.interactions())
def test_interactions_round_trip(record: Interaction) -> None:
    """Interactions survive JSON unchanged."""
    _round_trips(Interaction, record)


@settings(max_examples=40, deadline=None)
@given(record=crm.complaints())
def test_complaints_round_trip(record: Complaint) -> None:
    """Complaints with their transition history survive JSON unchanged."""
    _round_trips(Complaint, record)


@settings(max_examples=40, deadline=None)
@given(record=crm.purchases())
def test_purchases_round_trip(record: Purchase) -> None:
    """Purchases with money and quantities survive JSON unchanged."""
    _round_trips(Purchase, record)


@settings(max_examples=40, deadline=None)
@given(record=change_records)
def test_change_records_round_trip(record: ChangeRecord) -> None:
    """History records survive JSON unchanged."""
    _round_trips(ChangeRecord, record)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_serialised_form_is_stable(data: st.DataObject) -> None:
    """Serialising a decoded record gives the same JSON text again (a fixed point)."""
    cls, strategy = data.draw(st.sampled_from(MODELS))
    text = to_json(data.draw(strategy))
    assert to_json(from_json(text, cls)) == text
