"""Misused store arguments are refused with crmcore errors that say what was meant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crmcore.errors import CrmError, InvalidArgument, WrongType
from crmcore.models import Customer
from crmcore.storage import Store, connect


@pytest.fixture
def store() -> Iterator[Store]:
    with connect("memory://") as opened:
        yield opened


@pytest.mark.parametrize(
    "records", [{"kind": "person", "display_name": "张伟", "person": {}}, "abc", b"abc", 5]
)
def test_one_record_or_a_string_is_not_a_batch_of_records(store: Store, records: Any) -> None:
    """import_customers refuses a lone mapping or a string instead of importing its keys."""
    with pytest.raises(WrongType, match="wrap a single record in a list") as raised:
        store.import_customers(records)
    assert raised.value.code == "argument.wrong_type"
    with pytest.raises(WrongType):
        store.import_records("purchase", records)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.import_customers([], mode="upsert"),
        lambda s: s.import_records("customer", []),
        lambda s: s.import_records("customers", []),
    ],
)
def test_an_unknown_choice_is_an_invalid_argument(store: Store, call: Any) -> None:
    """mode= and the record kind are checked like batch_size: InvalidArgument, a ValueError."""
    with pytest.raises(InvalidArgument) as raised:
        call(store)
    assert isinstance(raised.value, ValueError)
    assert raised.value.code == "argument.invalid"


def test_an_unknown_dependents_choice_is_an_invalid_argument(store: Store) -> None:
    """remove(dependents=...) takes "refuse" or "remove" only."""
    with store.unit_of_work() as uow:
        saved = uow.customers.add(Customer.person_named(family="张", given="伟"))
        with pytest.raises(InvalidArgument, match='"refuse", "remove"'):
            uow.customers.remove(saved, dependents="cascade")  # type: ignore[arg-type]


def test_every_refusal_here_is_a_crmcore_error() -> None:
    """Both refusals derive from CrmError, so one except clause catches them."""
    assert issubclass(WrongType, CrmError)
    assert issubclass(InvalidArgument, CrmError)
