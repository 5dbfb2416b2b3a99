"""Deliberately broken backends fail the conformance kit: the kit can fail."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from crmcore.query import Query
from crmcore.storage import MemoryBackend, MemoryTransaction, RecordKind, Store
from crmcore.storage.ports import Record
from crmcore.testing import (
    CUSTOMER_QUERIES,
    ConcurrencyTests,
    PaginationTests,
    QueryTests,
    RoundTripTests,
    TickingClock,
    load_sample_data,
)

pytest_plugins = ["pytester"]


class LostWriteTransaction(MemoryTransaction):
    """Forgets to re-check versions at commit: the last of two racing writers wins silently."""

    def commit(self) -> None:
        self._bases = {}
        super().commit()


class LostWriteBackend(MemoryBackend):
    """A memory backend whose commits overwrite concurrent changes."""

    def begin(self) -> MemoryTransaction:
        return LostWriteTransaction(self)


class IgnoresDescendingTransaction(MemoryTransaction):
    """Sorts every key ascending, as a backend that drops DESC would."""

    def query(self, kind: RecordKind, query: Query) -> list[Record]:
        ascending = tuple(attrs.evolve(o, descending=False) for o in query.order_by)
        return super().query(kind, attrs.evolve(query, order_by=ascending, after=None))


class IgnoresDescendingBackend(MemoryBackend):
    """A memory backend that returns descending queries in the wrong order."""

    def begin(self) -> MemoryTransaction:
        return IgnoresDescendingTransaction(self)


def _in_utc(record: Record) -> Record:
    """The record with every top-level instant moved to UTC (same instant, offset lost)."""
    changes = {
        f.name: getattr(record, f.name).astimezone(dt.UTC)
        for f in attrs.fields(type(record))
        if isinstance(getattr(record, f.name), dt.datetime)
    }
    return attrs.evolve(record, **changes)


class UtcOnlyTransaction(MemoryTransaction):
    """Stores instants in UTC, as a backend writing plain timestamptz columns would."""

    def insert(self, kind: RecordKind, records: Sequence[Record]) -> None:
        super().insert(kind, [_in_utc(r) for r in records])

    def update(self, kind: RecordKind, record: Record, *, expected_version: int) -> None:
        super().update(kind, _in_utc(record), expected_version=expected_version)


class UtcOnlyBackend(MemoryBackend):
    """A memory backend that loses the UTC offsets of the instants it stores."""

    def begin(self) -> MemoryTransaction:
        return UtcOnlyTransaction(self)


def _store(backend: MemoryBackend) -> Store:
    return Store(backend, clock=TickingClock(), normaliser=None)


def test_reference_backend_passes_the_race_test() -> None:
    """The race test passes on the reference backend (so a failure below is the bug's)."""
    ConcurrencyTests().test_two_writers_race_exactly_one_wins(_store(MemoryBackend()))


def test_kit_catches_a_lost_concurrent_write() -> None:
    """A backend that lets a stale commit overwrite a concurrent one fails the race test."""
    with pytest.raises(AssertionError):
        ConcurrencyTests().test_two_writers_race_exactly_one_wins(_store(LostWriteBackend()))


def test_kit_catches_lost_utc_offsets() -> None:
    """A backend that keeps the instant but drops its UTC offset fails the round trips."""
    RoundTripTests().test_sample_data_round_trips(_store(MemoryBackend()))
    with pytest.raises(AssertionError):
        RoundTripTests().test_sample_data_round_trips(_store(UtcOnlyBackend()))


def test_kit_catches_a_wrong_query_order() -> None:
    """A backend that ignores descending order fails the query and pagination tests."""
    failures: list[str] = []
    for name in sorted(CUSTOMER_QUERIES):
        store = _store(IgnoresDescendingBackend())
        loaded: dict[str, Any] = load_sample_data(store)
        try:
            QueryTests().test_customer_query_matches_reference(store, loaded, name)
        except AssertionError:
            failures.append(name)
    assert "order display_name desc" in failures
    store = _store(IgnoresDescendingBackend())
    customers = load_sample_data(store)["customers"]
    with pytest.raises(AssertionError):
        PaginationTests().test_pages_cover_the_result_once(store, customers, "display_name desc", 4)


def test_kit_run_by_pytest_reports_the_broken_backends(pytester: pytest.Pytester) -> None:
    """Run through pytest, the kit fails exactly the tests the bugs break, and passes the rest."""
    pytester.makepyfile(
        test_broken=textwrap.dedent(
            """
            import attrs
            import pytest

            from crmcore.storage import MemoryBackend, MemoryTransaction
            from crmcore.testing import ConcurrencyTests, QueryTests


            class LostWrite(MemoryTransaction):
                def commit(self):
                    self._bases = {}
                    super().commit()


            class Descending(MemoryTransaction):
                def query(self, kind, query):
                    order = tuple(attrs.evolve(o, descending=False) for o in query.order_by)
                    return super().query(kind, attrs.evolve(query, order_by=order))


            class TestLostWrite(ConcurrencyTests):
                @pytest.fixture
                def backend(self):
                    backend = MemoryBackend()
                    backend.begin = lambda: LostWrite(backend)
                    return backend


            class TestDescending(QueryTests):
                @pytest.fixture
                def backend(self):
                    backend = MemoryBackend()
                    backend.begin = lambda: Descending(backend)
                    return backend
            """
        )
    )
    result = pytester.runpytest_inprocess(
        "-q", "-p", "no:cacheprovider", "-k", "race or lose or customer_query_matches"
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 2
    result.stdout.fnmatch_lines(
        [
            "*FAILED*TestLostWrite::test_two_writers_race_exactly_one_wins*",
            "*FAILED*TestDescending::test_customer_query_matches_reference*desc*",
        ]
    )


def test_a_misspelt_capability_in_the_marker_fails_with_the_known_names(
    pytester: pytest.Pytester,
) -> None:
    """crmcore_requires("persistant") is an error naming the known flags, not a skip or crash."""
    pytester.makepyfile(
        test_typo=textwrap.dedent(
            """
            import pytest

            from crmcore.storage import MemoryBackend
            from crmcore.testing import BackendFixtures


            class TestTypo(BackendFixtures):
                @pytest.fixture
                def backend(self):
                    return MemoryBackend()

                @pytest.mark.crmcore_requires("persistant")
                def test_needs_persistence(self, store):
                    pass
            """
        )
    )
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    assert result.parseoutcomes().get("errors", 0) == 1
    result.stdout.fnmatch_lines(["*unknown capabilities*persistant*(known: *persistent)*"])
