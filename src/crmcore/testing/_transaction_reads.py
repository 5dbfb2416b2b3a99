"""The read contract of ``Backend.begin()`` transactions, tested without the store.

A transaction reads committed data plus its own writes and removes, through every
read method alike; a read cache never serves a record that is gone; a scan yields
each record exactly once, in id order, at any batch size; text comes back exactly as
written, code point for code point.
"""

from __future__ import annotations

import unicodedata
from typing import cast

import attrs
import pytest

from crmcore.models import Customer
from crmcore.query import Field, Query
from crmcore.storage.ports import Backend, Record, RecordKind, Transaction
from crmcore.testing._fixtures import BackendFixtures
from crmcore.testing._spi import KINDS, committed, edited, same, samples, transaction

__all__ = ["TransactionReadTests"]


def _ids(records: list[Record]) -> list[str]:
    return [r.id for r in records]


def _every_read(tx: Transaction, kind: RecordKind, ids: list[str]) -> dict[str, object]:
    """What each read method of ``tx`` reports over ``ids`` (every record of ``kind``)."""
    return {
        "get": [i for i in ids if tx.get(kind, i) is not None],
        "get_many": sorted(tx.get_many(kind, ids)),
        "query": _ids(tx.query(kind, Query(order_by=("id",)))),
        "count": tx.count(kind, Query()),
        "scan": _ids(list(tx.scan(kind, batch_size=2))),
    }


class TransactionReadTests(BackendFixtures):
    """Own writes and removes, caches, scan batches and exact text, at the transaction."""

    @pytest.mark.parametrize("kind", KINDS)
    def test_reads_see_own_removes(self, backend: Backend, kind: RecordKind) -> None:
        """After its own delete, get, get_many, query, count and scan no longer find it."""
        records = samples(kind, 4)
        committed(backend, kind, records)
        ids = _ids(records)
        with transaction(backend) as tx:
            tx.delete(kind, ids[1], expected_version=1)
            left = [ids[0], *ids[2:]]
            assert _every_read(tx, kind, ids) == {
                "get": left,
                "get_many": left,
                "query": left,
                "count": len(left),
                "scan": left,
            }

    @pytest.mark.parametrize("kind", KINDS)
    def test_reads_see_own_writes_in_id_order(self, backend: Backend, kind: RecordKind) -> None:
        """Own inserts, updates and removes show in every read; scan keeps id order."""
        pool = samples(kind, 8)
        stored = [pool[1], pool[3], pool[5], pool[6]]
        committed(backend, kind, stored)
        with transaction(backend) as tx:
            for record in (pool[7], pool[0], pool[4]):  # out of order, between stored ids
                tx.insert(kind, [record])
            changed = edited(pool[3], "changed")
            tx.update(kind, changed, expected_version=1)
            tx.delete(kind, pool[5].id, expected_version=1)
            expected = [pool[0], pool[1], changed, pool[4], pool[6], pool[7]]
            for batch_size in (1, 2, 3, 5, 6, 7, 100):
                scanned = list(tx.scan(kind, batch_size=batch_size))
                assert _ids(scanned) == _ids(expected), batch_size
                assert all(same(a, b) for a, b in zip(scanned, expected, strict=True))
            assert same(tx.get(kind, changed.id), changed)
            assert same(tx.get_many(kind, [changed.id])[changed.id], changed)
            assert _ids(tx.query(kind, Query(order_by=("id",)))) == _ids(expected)
            assert tx.count(kind, Query()) == len(expected)

    @pytest.mark.parametrize("kind", KINDS)
    def test_no_read_serves_a_deleted_record(self, backend: Backend, kind: RecordKind) -> None:
        """Once a delete is committed, no read of a later transaction finds the record."""
        records = samples(kind, 2)
        committed(backend, kind, records)
        ids = _ids(records)
        for _ in range(2):  # read twice: a second read may be served from a cache
            with transaction(backend) as tx:
                assert _every_read(tx, kind, ids)["get"] == ids
        with transaction(backend) as tx:
            tx.delete(kind, ids[0], expected_version=1)
            tx.commit()
        changed = edited(records[1], "fresh")
        with transaction(backend) as tx:
            tx.update(kind, changed, expected_version=1)
            tx.commit()
        with transaction(backend) as tx:
            assert _every_read(tx, kind, ids) == {
                "get": ids[1:],
                "get_many": ids[1:],
                "query": ids[1:],
                "count": 1,
                "scan": ids[1:],
            }
            assert same(tx.get(kind, ids[1]), changed)
            assert same(tx.get_many(kind, ids)[ids[1]], changed)

    @pytest.mark.parametrize("count", [1, 5, 6, 7])
    def test_scan_at_batch_boundaries(self, backend: Backend, count: int) -> None:
        """Scanning ``count`` records at batch sizes around ``count`` yields each exactly once."""
        records = samples("customer", count)
        committed(backend, "customer", list(reversed(records)))
        sizes = {1, 2, 3, max(1, count - 1), count, count + 1, 2 * count, 1000}
        with transaction(backend) as tx:
            for batch_size in sorted(sizes):
                scanned = list(tx.scan("customer", batch_size=batch_size))
                assert _ids(scanned) == _ids(records), f"batch_size={batch_size}"
                assert all(same(a, b) for a, b in zip(scanned, records, strict=True))

    def test_text_is_kept_exactly(self, backend: Backend) -> None:
        """Decomposed (NFD) and composed (NFC) text read back unchanged, and stay distinct."""
        words = ["Zoë", "café", "한국어", "Ångström", "Đặng Thị Ngọc"]
        forms = [unicodedata.normalize(form, w) for w in words for form in ("NFC", "NFD")]
        assert len(set(forms)) == len(forms)
        base = cast(list[Customer], samples("customer", len(forms)))
        records = [
            attrs.evolve(r, display_name=text, tags=(text,), owner=text)
            for r, text in zip(base, forms, strict=True)
        ]
        committed(backend, "customer", records)
        with transaction(backend) as tx:
            for record in records:
                found = tx.get("customer", record.id)
                assert isinstance(found, Customer)
                assert found.display_name == record.display_name, ascii(record.display_name)
                assert found.tags == record.tags
                assert found.owner == record.owner
                assert same(found, record)
            for record in records:
                query = Query(where=Field("display_name") == record.display_name)
                assert _ids(tx.query("customer", query)) == [record.id], ascii(record.display_name)
