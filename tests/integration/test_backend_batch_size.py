"""Both of crmcore's backends refuse a bad scan batch size as the store does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crmcore.storage import MemoryBackend
from crmcore.storage.ports import Backend
from crmcore.storage.sqlalchemy import create_backend


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The memory backend, and the SQL backend on in-memory SQLite."""
    backend: Backend = MemoryBackend() if request.param == "memory" else create_backend("sqlite://")
    yield backend
    backend.close()


@pytest.mark.parametrize("batch_size", [0, -1, True, 2.0])
def test_scan_refuses_a_bad_batch_size(backend: Backend, batch_size: object) -> None:
    """scan(batch_size=0, -1, True or 2.0) raises the store's ValueError on every backend."""
    tx = backend.begin()
    try:
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            list(tx.scan("customer", batch_size=batch_size))  # type: ignore[arg-type]
    finally:
        tx.rollback()
