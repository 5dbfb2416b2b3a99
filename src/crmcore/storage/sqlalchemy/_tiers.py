"""The value pyramid and Pareto analysis in SQL, each one statement, equal to the pure rules.

Both start from the same per-customer totals as :mod:`._aggregates` (``GROUP BY
customer_id, currency`` over the typed purchase columns, money as integer micro-units
with the places they were written with), as a materialised common table expression.

* **Pyramid by thresholds**: the tier is a ``CASE`` over the totals, the spec's minima
  turned into exact micro-unit bounds (``total > m`` is ``micros > floor(m * 10**6)``,
  ``total >= m`` is ``micros >= ceil(m * 10**6)``).
* **Pyramid by rank shares**: each upper tier's cut amount is the total at 1-based
  position ``ceil(s * n)`` of the totals sorted descending (``s`` the cumulative share,
  ``n`` the customers), a scalar subquery ``ORDER BY total DESC, customer_id LIMIT 1
  OFFSET ...`` reading that customer's total and places (``_cut_points.cut_table``:
  one sort per cut; on PostgreSQL one ``percentile_disc`` sort for all of them,
  ``_cut_points.money_percentiles``), in a one-row table joined to every
  total, and the tier is ``CASE total >= cut ...``: exactly
  :func:`~crmcore.rules.segmentation.rank_cut_points` and ``tier_for``. Ties sort by
  customer id, as Python's stable sort does, so the cut's decimal places are those of
  the same customer's total.
* **Pareto**: per currency the customers and the revenue (``GROUP BY currency``); the
  revenue of the top ``ceil(x * n)`` customers and the fewest top customers whose
  revenue reaches the spec's share are read from a running total, ``sum(total) OVER
  (PARTITION BY currency ORDER BY total DESC, customer_id)``, over the per-customer
  totals (not over the purchases): the one window here, because "the top k" of a
  currency whose ``k`` depends on that currency's count is a running total by
  definition. ``running * den < num * revenue`` (the share as an exact fraction)
  counts the customers before the goal.

MariaDB computes a common table expression once per reference, so there (``windowed``)
the pyramid by rank shares and Pareto read the totals once: windows rank them and
carry the count, the revenue and the cut points (window ``sum``; MariaDB recomputes a
whole-partition ``max`` for every row), and Pareto's currency figures are one
``GROUP BY`` over them, with no subquery.

SQLite cannot hold a product beyond 64-bit integers: when one could overflow, the
Pareto call returns ``None`` and the pure rule answers; so it does when the rule's own
``revenue_share * revenue`` would be rounded by the decimal context. Rows the typed
column backfill has not reached (a ``NULL`` currency) also return ``None``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, case, func, literal, select, true
from sqlalchemy.engine import Connection

from crmcore.models.values import MONEY_PLACES
from crmcore.rules.segmentation import (
    ParetoResult,
    ParetoSpec,
    PyramidMethod,
    PyramidResult,
    PyramidSpec,
)
from crmcore.rules.segmentation.pyramid import pareto_result
from crmcore.storage.sqlalchemy import _segment_rows
from crmcore.storage.sqlalchemy._aggregates import (
    INT64,
    chosen_currency,
    filled_count,
    first_with_cuts,
    floor_bound,
    overflow_falls_back,
)
from crmcore.storage.sqlalchemy._cut_points import (
    IntDiv,
    covered_rows,
    cut_table,
    on_first_row,
    summary_cte,
    window_cut,
    windowed,
)
from crmcore.storage.sqlalchemy._money import from_micros
from crmcore.storage.sqlalchemy._schema import TABLES, utc_key

__all__ = ["pareto", "value_pyramid"]


def _totals(
    conn: Connection, as_of: dt.datetime, currency: str | None, *, materialized: bool = True
) -> Any:
    """Each customer's total per currency (of ``currency`` and unfilled rows, if given)."""
    statement = _totals_select(as_of, currency)
    return summary_cte(conn, statement, "crm_totals", materialized=materialized)


def _totals_select(as_of: dt.datetime, currency: str | None) -> Select[Any]:
    """The ``GROUP BY customer_id, currency`` of the totals, as a statement."""
    p = TABLES["purchase"]
    statement = (
        select(
            p.c.customer_id.label("customer_id"),
            p.c.currency.label("currency"),
            func.sum(p.c.amount_micros).label("total"),
            func.max(p.c.amount_places).label("places"),
        )
        .where(p.c.purchased_at <= utc_key(as_of))
        .group_by(p.c.customer_id, p.c.currency)
    )
    if currency is not None:
        statement = statement.where((p.c.currency == currency) | p.c.currency.is_(None))
    return statement


def _int(value: int) -> Any:
    return literal(value, Integer()) if abs(value) < 2**31 else literal(value)


def _ceil_share(n: Any, share: Decimal) -> Any:
    """``ceil(share * n)`` (a count ``n``, an int or SQL), exactly: the share as a fraction."""
    num, den = share.as_integer_ratio()
    if isinstance(n, int):
        return -(-num * n // den)
    return IntDiv(n * _int(num) + _int(den - 1), _int(den))


def _ceil_bound(cut: Decimal, limit: int) -> int:
    return -floor_bound(-cut, MONEY_PLACES, limit)


@overflow_falls_back
def value_pyramid(
    conn: Connection, spec: PyramidSpec, *, as_of: dt.datetime
) -> PyramidResult | None:
    """:func:`~crmcore.rules.segmentation.value_pyramid` in one statement (see the module)."""
    currency = spec.currency or chosen_currency(conn, as_of, spec.kind)
    if currency is None:
        return None  # the backfill has not reached every row yet
    upper = spec.tiers[:-1]
    limit = INT64 if conn.dialect.name == "sqlite" else 10**40
    cut_columns: list[Any] = []
    if spec.method is PyramidMethod.THRESHOLDS:
        # One grouped statement, the tier a CASE over its sum, as the hand-written query,
        # in the order it groups by: read from a subquery, or ordered by the customer
        # alone, SQLite sorted the totals again for the ORDER BY.
        grouped = _totals_select(as_of, currency)
        total = grouped.selected_columns.total
        conditions: list[ColumnElement[bool]] = []
        for tier, cut in zip(upper, spec.thresholds(), strict=True):
            if tier.inclusive:
                conditions.append(total >= literal(_ceil_bound(cut, limit)))
            else:
                conditions.append(total > literal(floor_bound(cut, MONEY_PLACES, limit)))
        tier_of = case(
            *((condition, literal(i)) for i, condition in enumerate(conditions)),
            else_=literal(len(upper)),
        )
        statement = grouped.add_columns(tier_of).order_by(*grouped.selected_columns[:2])
    elif windowed(conn):
        statement = _windowed_pyramid(_totals(conn, as_of, currency), upper)
    else:
        s = _totals(conn, as_of, currency)
        n = filled_count(conn, s)
        filled = s.c.currency.is_not(None)
        shares, running = [], Decimal(0)
        for tier in upper:
            running += tier.share or Decimal(0)
            shares.append(running)
        positions = [_ceil_share(n, share) for share in shares]
        cuts = cut_table(conn, s, (), (n, positions, True, filled), "places")
        cut_columns = list(cuts.c)
        conditions = [s.c.total >= c for c in cut_columns[: len(upper)]]
        tier_index = case(
            *((condition, literal(i)) for i, condition in enumerate(conditions)),
            else_=literal(len(upper)),
        )
        statement = (
            select(s.c.customer_id, s.c.currency, s.c.total, s.c.places, tier_index)
            .add_columns(*on_first_row(conn, s, cut_columns))
            .select_from(s.join(cuts, true()))
            .order_by(s.c.customer_id)
        )
    rows = covered_rows(conn, statement)
    if any(row[1] is None for row in rows):
        return None  # the backfill has not reached every row yet
    if spec.method is PyramidMethod.THRESHOLDS:
        cut_points = spec.thresholds()
    elif rows:
        width, first = len(upper), first_with_cuts(rows, 5)
        cut_points = tuple(
            from_micros(int(v), int(places))
            for v, places in zip(first[:width], first[width:], strict=True)
        )
    else:
        cut_points = ()
    names = [tier.name for tier in spec.tiers]
    assignments = tuple(_segment_rows.tier_assignments(rows, spec, cut_points, names))
    return PyramidResult(currency=currency, cut_points=cut_points, assignments=assignments)


def _windowed_pyramid(s: Any, upper: Any) -> Select[Any]:
    """MariaDB: the pyramid by rank shares over the totals read once (``windowed``).

    ``row_number()`` of the totals descending (equal ones by customer id) and their
    ``count()``; each cut is the total and places at its position, a window ``max``.
    The results read the cut points on the top-ranked row.
    """
    part = s.c.currency
    order = (s.c.total.desc(), s.c.customer_id)
    ranked = select(
        *s.c,
        func.count().over(partition_by=part).label("crm_n"),
        func.row_number().over(partition_by=part, order_by=order).label("crm_pos"),
    ).subquery("crm_ranked")
    r = ranked.c
    shares, running = [], Decimal(0)
    for tier in upper:
        running += tier.share or Decimal(0)
        shares.append(running)
    positions = [_ceil_share(r.crm_n, share) for share in shares]
    cuts = [window_cut(r.crm_pos, v, p, r.currency) for v in (r.total, r.places) for p in positions]
    table = select(
        r.customer_id,
        r.currency,
        r.total,
        r.places,
        r.crm_pos,
        *(c.label(f"cut_{i}") for i, c in enumerate(cuts)),
    ).subquery("crm_cut_rows")
    c = table.c
    columns = [c[f"cut_{i}"] for i in range(len(cuts))]
    tier_index = case(
        *((c.total >= cut, literal(i)) for i, cut in enumerate(columns[: len(upper)])),
        else_=literal(len(upper)),
    )
    first = [case((c.crm_pos == 1, column), else_=None).label(column.name) for column in columns]
    return select(c.customer_id, c.currency, c.total, c.places, tier_index, *first).order_by(
        c.customer_id
    )


def _windowed_pareto(s: Any, spec: ParetoSpec) -> Select[Any]:
    """MariaDB: Pareto over the totals read once (``windowed``), grouped by currency.

    The position and the running total are windows as on the other dialects, and so
    are the currency's count and revenue (``sum``/``count``: MariaDB computes a window
    ``max`` again for every row); the grouping then reads the top shares (``max(CASE
    WHEN pos = ceil(x * n) ...)``), their places (the ``max`` of the places up to that
    position) and counts the customers before the goal, with no subquery.
    """
    part = s.c.currency
    window = {"partition_by": part, "order_by": (s.c.total.desc(), s.c.customer_id)}
    ranked = select(
        s.c.currency,
        s.c.total,
        s.c.places,
        func.row_number().over(**window).label("pos"),
        func.sum(s.c.total).over(**window, rows=(None, 0)).label("running"),
        func.count().over(partition_by=part).label("n"),
        func.sum(s.c.total).over(partition_by=part).label("revenue"),
    ).subquery("crm_ranked")
    r = ranked.c
    num, den = spec.revenue_share.as_integer_ratio()
    below = func.sum(case((r.running * _int(den) < r.revenue * _int(num), 1), else_=0))
    positive = func.sum(case((r.total > 0, r.total), else_=0))
    columns = [r.currency, func.max(r.n), func.max(r.revenue), func.max(r.places), positive, below]
    for i, share in enumerate(spec.top_shares):
        position = _ceil_share(r.n, share)
        columns += [
            func.max(case((r.pos == position, r.running), else_=None)).label(f"top_{i}"),
            func.max(case((r.pos <= position, r.places), else_=None)).label(f"top_places_{i}"),
        ]
    return select(*columns).group_by(r.currency).order_by(r.currency)


@overflow_falls_back
def pareto(
    conn: Connection, spec: ParetoSpec, *, as_of: dt.datetime
) -> tuple[ParetoResult, ...] | None:
    """:func:`~crmcore.rules.segmentation.pareto` in one statement (see the module)."""
    s = _totals(conn, as_of, None)
    if windowed(conn):
        return _pareto_results(conn, spec, covered_rows(conn, _windowed_pareto(s, spec)))
    window = {
        "partition_by": s.c.currency,
        "order_by": (s.c.total.desc(), s.c.customer_id),
        "rows": (None, 0),
    }
    ranked: Any = select(
        s.c.currency,
        func.row_number()
        .over(partition_by=window["partition_by"], order_by=window["order_by"])
        .label("pos"),
        func.sum(s.c.total).over(**window).label("running"),
        func.max(s.c.places).over(**window).label("running_places"),
    ).where(s.c.currency.is_not(None))
    ranked = summary_cte(conn, ranked, "crm_ranked")
    g = (
        select(
            s.c.currency.label("currency"),
            func.count().label("n"),
            func.sum(s.c.total).label("revenue"),
            func.max(s.c.places).label("places"),
            func.sum(case((s.c.total > 0, s.c.total), else_=0)).label("positive"),
        )
        .group_by(s.c.currency)
        .subquery("crm_currencies")
    )

    def top(share: Decimal, column: Any) -> Any:
        return (
            select(column)
            .where(ranked.c.currency == g.c.currency, ranked.c.pos == _ceil_share(g.c.n, share))
            .scalar_subquery()
        )

    num, den = spec.revenue_share.as_integer_ratio()
    below = (
        select(func.count())
        .select_from(ranked)
        .where(
            ranked.c.currency == g.c.currency,
            ranked.c.running * _int(den) < g.c.revenue * _int(num),
        )
        .scalar_subquery()
    )
    columns = [g.c.currency, g.c.n, g.c.revenue, g.c.places, g.c.positive, below]
    for i, share in enumerate(spec.top_shares):
        columns += [
            top(share, ranked.c.running).label(f"top_{i}"),
            top(share, ranked.c.running_places).label(f"top_places_{i}"),
        ]
    return _pareto_results(conn, spec, covered_rows(conn, select(*columns).order_by(g.c.currency)))


def _pareto_results(
    conn: Connection, spec: ParetoSpec, rows: Any
) -> tuple[ParetoResult, ...] | None:
    """The results of the Pareto rows (one per currency), or ``None``: use the rule."""
    num, den = spec.revenue_share.as_integer_ratio()
    if any(row[0] is None for row in rows):
        return None  # the backfill has not reached every row yet
    out = []
    sqlite = conn.dialect.name == "sqlite"
    for currency, n, revenue_micros, places, positive, count_below, *top_values in rows:
        revenue_micros, positive = int(revenue_micros), int(positive)
        if sqlite and max(abs(revenue_micros) * num, positive * den) > INT64:
            return None  # the products may have overflowed into floats: use the rule
        revenue = from_micros(revenue_micros, max(0, int(places)))
        needed = None
        if revenue > 0:
            context = decimal.getcontext().copy()
            context.traps[decimal.Inexact] = True
            try:
                context.multiply(spec.revenue_share, revenue)
            except decimal.Inexact:
                return None  # the rule's goal is rounded: only the rule gives its answer
            needed = int(count_below) + 1
        tops = [
            (_ceil_share(int(n), share), from_micros(int(value), max(0, int(top_places))))
            for share, value, top_places in zip(
                spec.top_shares, top_values[::2], top_values[1::2], strict=True
            )
        ]
        out.append(pareto_result(spec, currency, int(n), revenue, tops, needed))
    return tuple(out)
