"""What the SQL storage computes inside the database for the rules: aggregates and keys.

:class:`AnalyticsReads` is the part of :class:`~crmcore.storage.sqlalchemy.SqlTransaction`
that implements the optional SPI protocols of :mod:`crmcore.storage.ports` that are
answered by one statement each: purchase summaries and RFM (``PurchaseAggregates``,
in ``_aggregates``), the value pyramid and Pareto (``TierAggregates``, in ``_tiers``),
duplicate candidates and blocking-key lookups (``DedupeCandidates``, in ``_dedupe``)
and merged-id lookups (``MergedIdLookup``, in ``_merged``). Each runs on the
transaction's connection, with driver errors translated to crmcore's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from crmcore.storage.sqlalchemy import _aggregates, _merged, _tiers
from crmcore.storage.sqlalchemy._driver_errors import translated as _translated

if TYPE_CHECKING:
    from crmcore.rules.dedupe import BlockingSpec, Candidates
    from crmcore.rules.segmentation import (
        CurrencySummary,
        ParetoResult,
        ParetoSpec,
        Period,
        PyramidResult,
        PyramidSpec,
        RepeatSummary,
        RfmResult,
        RfmSpec,
    )
    from crmcore.storage.sqlalchemy._backend import SqlBackend

__all__ = ["AnalyticsReads"]


class AnalyticsReads:
    """Aggregates, blocking keys and merged ids answered in SQL on a transaction's connection."""

    _backend: SqlBackend

    def _connection(self) -> Connection:
        raise NotImplementedError  # pragma: no cover - SqlTransaction provides it

    def purchase_summaries(self, *, as_of: dt.datetime) -> tuple[CurrencySummary, ...] | None:
        """Currency summaries computed in SQL (see ``_aggregates``)."""
        with _translated():
            return _aggregates.currency_summaries(self._connection(), as_of=as_of)

    def repeat_summaries(
        self, *, as_of: dt.datetime, period: Period, tz: str
    ) -> tuple[RepeatSummary, ...] | None:
        """Repeat-purchase summaries computed in SQL, for UTC (see ``_aggregates``)."""
        with _translated():
            return _aggregates.repeat_summaries(
                self._connection(), as_of=as_of, period=period, tz=tz
            )

    def rfm(self, spec: RfmSpec, *, as_of: dt.datetime) -> RfmResult | None:
        """RFM cut points and scores computed in SQL (see ``_aggregates``)."""
        with _translated():
            return _aggregates.rfm(self._connection(), spec, as_of=as_of)

    def dedupe_candidates(self, spec: BlockingSpec) -> Candidates | None:
        """Duplicate candidates by a self-join of the ``@dedupe`` entries (see ``_dedupe``)."""
        from crmcore.storage.sqlalchemy import _dedupe

        with _translated():
            conn = self._connection()
            return _dedupe.candidates(conn, spec, self._backend.index_set(conn))

    def customer_ids(self) -> list[str]:
        """Every customer's id, in code point order."""
        from crmcore.storage.sqlalchemy import _dedupe

        with _translated():
            return _dedupe.customer_ids(self._connection())

    def customers_with_blocking_keys(self, keys: Sequence[str]) -> list[str] | None:
        """The customers holding one of the blocking ``keys``, by the ``@dedupe`` entries."""
        from crmcore.storage.sqlalchemy import _dedupe

        with _translated():
            conn = self._connection()
            return _dedupe.customers_with_keys(conn, keys, self._backend.index_set(conn))

    def merged_into(self, customer_id: str) -> tuple[str, str] | None:
        """The standing merge that removed ``customer_id``, by ``crm_merged_id`` (``_merged``)."""
        with _translated():
            return _merged.merged_into(self._connection(), customer_id)

    def value_pyramid(self, spec: PyramidSpec, *, as_of: dt.datetime) -> PyramidResult | None:
        """The value pyramid computed in one SQL statement (see ``_tiers``)."""
        with _translated():
            return _tiers.value_pyramid(self._connection(), spec, as_of=as_of)

    def pareto(self, spec: ParetoSpec, *, as_of: dt.datetime) -> tuple[ParetoResult, ...] | None:
        """Pareto analysis computed in one SQL statement (see ``_tiers``)."""
        with _translated():
            return _tiers.pareto(self._connection(), spec, as_of=as_of)
