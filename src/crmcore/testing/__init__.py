"""The storage conformance kit: prove that a backend behaves exactly like crmcore's reference.

The kit is a set of pytest mixin classes. They are not collected on their own
(their names do not start with ``Test``); a backend author combines them with a
``backend`` fixture that builds a fresh, empty backend::

    import pytest
    from crmcore.testing import StoreConformance

    class TestMyBackend(StoreConformance):
        @pytest.fixture
        def backend(self, tmp_path):
            backend = MyBackend(tmp_path / "crm.json")
            yield backend
            backend.close()

Tests for what a backend may legitimately not support are skipped according to its
:class:`~crmcore.storage.Capabilities` (``concurrent_writers``, ``persistent``).
Any single test can be overridden (or skipped) by defining a method of the same
name in the subclass. Pick mixins one by one (:class:`QueryTests`,
:class:`ConcurrencyTests`, ...) to run part of the kit.

:mod:`crmcore.testing.strategies` holds the Hypothesis strategies the kit uses,
for your own tests; :mod:`crmcore.testing.data` the fixed sample data set.
"""

from crmcore.testing._kit import (
    KIT_SETTINGS,
    BackendFixtures,
    ConcurrencyTests,
    HistoryTests,
    ImportTests,
    PaginationTests,
    QueryTests,
    RoundTripTests,
    StoreConformance,
    TickingClock,
    UnitOfWorkTests,
    load_sample_data,
)
from crmcore.testing._queries import (
    COMPLAINT_QUERIES,
    CUSTOMER_QUERIES,
    INTERACTION_QUERIES,
    PAGINATION_ORDERS,
    PURCHASE_QUERIES,
    customer_queries,
)

__all__ = [
    "COMPLAINT_QUERIES",
    "CUSTOMER_QUERIES",
    "INTERACTION_QUERIES",
    "KIT_SETTINGS",
    "PAGINATION_ORDERS",
    "PURCHASE_QUERIES",
    "BackendFixtures",
    "ConcurrencyTests",
    "HistoryTests",
    "ImportTests",
    "PaginationTests",
    "QueryTests",
    "RoundTripTests",
    "StoreConformance",
    "TickingClock",
    "UnitOfWorkTests",
    "customer_queries",
    "load_sample_data",
]
