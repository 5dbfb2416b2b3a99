"""The storage conformance kit: prove that a backend behaves exactly like crmcore's reference.

Install it with ``pip install 'crmcore[kit]'`` (pytest and Hypothesis). The kit is a
set of pytest mixin classes. They are not collected on their own (their names do not
start with ``Test``); a backend author combines them with a ``backend`` fixture that
builds a fresh, empty backend::

    import pytest
    from crmcore.testing import StoreConformance

    class TestMyBackend(StoreConformance):
        @pytest.fixture
        def backend(self, tmp_path):
            backend = MyBackend(tmp_path / "crm.json")
            yield backend
            backend.close()

:class:`StoreConformance` runs every test: through :class:`~crmcore.storage.Store`
(:class:`RoundTripTests`, :class:`UnitOfWorkTests`, :class:`ConcurrencyTests`,
:class:`QueryTests`, :class:`QueryAudienceTests`, :class:`PaginationTests`,
:class:`ImportTests`, :class:`HistoryTests`, :class:`MergeTests`) and at the backend's own
``begin()`` transactions
(:class:`TransactionTests`: :class:`TransactionWriteTests`,
:class:`TransactionReadTests`, :class:`HistoryLogTests`), where the store's own
version checks cannot hide a backend's missing ones. Pick mixins one by one to run
part of the kit; override (or skip) any single test by defining a method of the same
name in the subclass.

Tests for what a backend may legitimately not support are marked
``@pytest.mark.crmcore_requires("persistent")`` (see :func:`requires`) and skipped
unless its :class:`~crmcore.storage.Capabilities` declare it; the marker is
registered by the kit's pytest plugin, which pytest loads by itself once crmcore is
installed. Property tests run under the Hypothesis profile ``crmcore-kit``
(:data:`KIT_SETTINGS`: few examples, no deadline, no shrinking). Failures inside
the kit show the compared values: the kit's modules are registered for pytest's
assertion rewriting here, before they are imported.

:mod:`crmcore.testing.strategies` holds the Hypothesis strategies the kit uses,
for your own tests; :mod:`crmcore.testing.data` the fixed sample data set.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_INSTALL_HINT = (
    "crmcore.testing, the storage conformance kit, needs pytest and Hypothesis "
    "({missing} is missing): pip install 'crmcore[kit]'"
)

try:
    import pytest
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(_INSTALL_HINT.format(missing=error.name)) from error

_MODULES = {
    "KIT_PROFILE": "_fixtures",
    "KIT_SETTINGS": "_fixtures",
    "BackendFixtures": "_fixtures",
    "TickingClock": "_fixtures",
    "load_sample_data": "_fixtures",
    "requires": "_fixtures",
    "RoundTripTests": "_roundtrip",
    "UnitOfWorkTests": "_unit_of_work",
    "ConcurrencyTests": "_concurrency",
    "QueryTests": "_query_tests",
    "PaginationTests": "_query_tests",
    "QueryAudienceTests": "_query_audience",
    "AUDIENCE_QUERIES": "_query_audience",
    "ImportTests": "_imports",
    "HistoryTests": "_history",
    "MergeTests": "_merges",
    "DecisionTests": "_decisions",
    "TransactionWriteTests": "_transactions",
    "TransactionReadTests": "_transaction_reads",
    "HistoryLogTests": "_history_log",
    "TransactionTests": "_conformance",
    "StoreConformance": "_conformance",
    "COMPLAINT_QUERIES": "_queries",
    "CUSTOMER_QUERIES": "_queries",
    "INTERACTION_QUERIES": "_queries",
    "PAGINATION_ORDERS": "_queries",
    "PURCHASE_QUERIES": "_queries",
    "customer_queries": "_queries",
}

# Before any kit module is imported: a failing kit assertion then shows the values it
# compared, not a bare AssertionError.
pytest.register_assert_rewrite(
    *sorted({f"{__name__}.{module}" for module in _MODULES.values()}), f"{__name__}._spi"
)

if TYPE_CHECKING:
    from crmcore.testing._concurrency import ConcurrencyTests
    from crmcore.testing._conformance import StoreConformance, TransactionTests
    from crmcore.testing._decisions import DecisionTests
    from crmcore.testing._fixtures import (
        KIT_PROFILE,
        KIT_SETTINGS,
        BackendFixtures,
        TickingClock,
        load_sample_data,
        requires,
    )
    from crmcore.testing._history import HistoryTests
    from crmcore.testing._history_log import HistoryLogTests
    from crmcore.testing._imports import ImportTests
    from crmcore.testing._merges import MergeTests
    from crmcore.testing._queries import (
        COMPLAINT_QUERIES,
        CUSTOMER_QUERIES,
        INTERACTION_QUERIES,
        PAGINATION_ORDERS,
        PURCHASE_QUERIES,
        customer_queries,
    )
    from crmcore.testing._query_audience import AUDIENCE_QUERIES, QueryAudienceTests
    from crmcore.testing._query_tests import PaginationTests, QueryTests
    from crmcore.testing._roundtrip import RoundTripTests
    from crmcore.testing._transaction_reads import TransactionReadTests
    from crmcore.testing._transactions import TransactionWriteTests
    from crmcore.testing._unit_of_work import UnitOfWorkTests

__all__ = [
    "AUDIENCE_QUERIES",
    "COMPLAINT_QUERIES",
    "CUSTOMER_QUERIES",
    "INTERACTION_QUERIES",
    "KIT_PROFILE",
    "KIT_SETTINGS",
    "PAGINATION_ORDERS",
    "PURCHASE_QUERIES",
    "BackendFixtures",
    "ConcurrencyTests",
    "DecisionTests",
    "HistoryLogTests",
    "HistoryTests",
    "ImportTests",
    "MergeTests",
    "PaginationTests",
    "QueryAudienceTests",
    "QueryTests",
    "RoundTripTests",
    "StoreConformance",
    "TickingClock",
    "TransactionReadTests",
    "TransactionTests",
    "TransactionWriteTests",
    "UnitOfWorkTests",
    "customer_queries",
    "load_sample_data",
    "requires",
]


def __getattr__(name: str) -> Any:
    """Import the kit's modules on first use (the pytest plugin imports none of them)."""
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # Hypothesis is checked here, not on import: the pytest plugin imports this package
    # in every pytest run where crmcore is installed, with or without the kit extra.
    try:
        import hypothesis  # noqa: F401
    except ImportError as error:
        raise ImportError(_INSTALL_HINT.format(missing=error.name)) from error
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
