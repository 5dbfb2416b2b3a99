"""One batch-size check for every storage call that takes a batch size."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crmcore.models import Customer
from crmcore.storage import MemoryBackend, Store
from crmcore.storage._arguments import check_batch_size

BAD_SIZES: list[object] = [0, -1, True, False, 2.0, "10", None]


@pytest.mark.parametrize("size", [1, 2, 1000, 10**9])
def test_a_positive_int_is_returned_as_it_is(size: int) -> None:
    """A positive int is a batch size."""
    assert check_batch_size(size) == size


@pytest.mark.parametrize("size", BAD_SIZES)
def test_anything_else_is_a_value_error_naming_it(size: object) -> None:
    """Zero, negatives, bools, floats and other types are refused, with the value shown."""
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer, not ") as error:
        check_batch_size(size)
    assert repr(size) in str(error.value)


def _import(store: Store, size: object) -> object:
    return store.import_customers([], batch_size=size)  # type: ignore[arg-type]


def _stream(store: Store, size: object) -> object:
    return list(store.stream_customers(batch_size=size))  # type: ignore[arg-type]


def _repository_stream(store: Store, size: object) -> object:
    with store.unit_of_work() as uow:
        return list(uow.customers.stream(batch_size=size))  # type: ignore[arg-type]


@pytest.mark.parametrize("call", [_import, _stream, _repository_stream])
@pytest.mark.parametrize("size", BAD_SIZES)
def test_every_store_call_refuses_the_same_sizes(
    call: Callable[[Store, object], object], size: object
) -> None:
    """import_customers, stream_customers and a repository's stream agree on what a batch
    size is (before, the import took True and 2.5)."""
    store = Store(MemoryBackend(), normaliser=None)
    store.import_customers([Customer.person_named(family="张", given="伟")])
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        call(store, size)
