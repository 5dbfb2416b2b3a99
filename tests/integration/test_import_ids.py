"""Imports mint time-ordered ids in input order, on one worker and on a pool, every backend."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import Any

import pytest
from tests.integration._stores import BACKENDS, FIXED, open_store

import crmcore.storage._customer_import as customer_import
from crmcore.models._ids import new_id
from crmcore.rules.verification import NormalisationPipeline
from crmcore.storage import ImportStatus, Store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, sql_database: Callable[[str], str]) -> Iterator[Store]:
    """A store with the verification pipeline and a fixed clock, on each backend."""
    pipeline = NormalisationPipeline(default_region="CN")
    yield from open_store(request, sql_database, normaliser=pipeline, clock=lambda: FIXED)


def _rows(count: int) -> list[Any]:
    """Rows without ids (some refused by verification), a few with ids of their own."""
    rows: list[Any] = []
    for i in range(count):
        row: dict[str, Any] = {
            "kind": "person",
            "display_name": f"王{i}",
            "person": {"name": {"family": "王", "given": f"{i}"}},
            "phones": [{"number": f"138 {i:04d} {i * 7 % 10000:04d}"}],
            "emails": [{"address": "not an email" if i % 9 == 4 else f"u{i}@example.cn"}],
        }
        if i % 10 == 7:
            row["id"] = f"given-{i}"
        rows.append(row)
    return rows


@pytest.mark.parametrize("workers", [1, 2])
def test_new_ids_follow_the_input_order_and_so_does_history(
    store: Store, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids given to rows without one, and history entry ids, increase with the input index.

    On a pool the importing process mints them (workers' clocks and counters are their
    own), which is what keeps them in input order.
    """
    here: set[str] = set()

    def minted_here() -> str:
        made = new_id()
        here.add(made)
        return made

    monkeypatch.setattr(customer_import, "new_id", minted_here)
    rows = _rows(40)
    report = store.import_customers(rows, workers=workers, batch_size=7, actor="feed")
    created = [o for o in report.outcomes if o.status is ImportStatus.CREATED]
    assert report.rejected == 4
    assert len(created) == 36
    minted = [str(o.id) for o in created if "id" not in rows[o.index]]
    assert len(minted) == 32
    for record_id in minted:
        assert uuid.UUID(hex=record_id).version == 7
    assert minted == sorted(minted)  # outcomes are in input order: so are the new ids
    if workers > 1:
        assert set(minted) <= here
    assert len(set(minted)) == len(minted)
    stored = [c.id for c in store.stream_customers() if not c.id.startswith("given-")]
    assert stored == minted  # stored in id order is stored in input order
    entries = []
    with store.unit_of_work() as uow:
        for outcome in created:
            assert outcome.id is not None
            (entry,) = uow.customers.history(outcome.id)
            entries.append(entry.id)
    assert all(a < b for a, b in pairwise(entries))  # written in input order
    assert all(uuid.UUID(hex=i).version == 7 for i in entries)
    assert set(entries) <= here
