"""The whole kit: every mixin, through the store and at the backend's own transactions."""

from __future__ import annotations

from crmcore.testing._concurrency import ConcurrencyTests
from crmcore.testing._decisions import DecisionTests
from crmcore.testing._history import HistoryTests
from crmcore.testing._history_log import HistoryLogTests
from crmcore.testing._imports import ImportTests
from crmcore.testing._merges import MergeTests
from crmcore.testing._query_audience import QueryAudienceTests
from crmcore.testing._query_tests import PaginationTests, QueryTests
from crmcore.testing._roundtrip import RoundTripTests
from crmcore.testing._transaction_reads import TransactionReadTests
from crmcore.testing._transactions import TransactionWriteTests
from crmcore.testing._unit_of_work import UnitOfWorkTests

__all__ = ["StoreConformance", "TransactionTests"]


class TransactionTests(TransactionWriteTests, TransactionReadTests, HistoryLogTests):
    """The SPI-level tests only: they drive ``Backend.begin()`` transactions directly."""


class StoreConformance(
    TransactionTests,
    RoundTripTests,
    UnitOfWorkTests,
    ConcurrencyTests,
    QueryTests,
    QueryAudienceTests,
    PaginationTests,
    ImportTests,
    HistoryTests,
    MergeTests,
    DecisionTests,
):
    """Every conformance test: subclass it as ``Test...`` and provide a ``backend`` fixture."""
