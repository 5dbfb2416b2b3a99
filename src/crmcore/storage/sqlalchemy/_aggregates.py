"""Purchase summaries and RFM computed inside the database, equal to the pure rules.

The SQL storage answers :class:`~crmcore.storage.ports.PurchaseAggregates` here, over
the typed purchase columns (``amount_micros``, ``currency``, ``cost_micros``,
``purchased_at`` as UTC text; revision 0004):

* **Currency summaries**: one ``GROUP BY customer_id, currency`` statement (first and
  last purchase, count, sum, margin over the costed purchases). Python only turns each
  result row into a :class:`~crmcore.rules.segmentation.CurrencySummary` (recency from
  the last purchase, the mean by :func:`~crmcore.rules.segmentation._common.divide`).
* **Repeat summaries** (time zone UTC): one statement with two common table
  expressions, the purchases summed per customer, currency and period (the day is the
  first ten characters of the UTC text, the month the first seven, the week's Monday
  a small dialect function), then per customer and currency the periods, the first
  and last period and the total of the repeat periods. Another time zone returns
  ``None``: the caller runs the pure rule over a streamed read.
* **RFM** (monetary basis ``total``): the quantile cut points in one statement (each
  the value at position ``ceil(j * n / k)``; on SQLite the summaries ranked by
  ``row_number()`` once per column and the ranked rows at the positions kept,
  :func:`ranked_rows`; ``n`` counted once; a money cut point is one summary's total and
  places, one sort for both: :func:`cut_table`; on PostgreSQL ``percentile_disc`` aggregates,
  one sort per column: :func:`percentiles_disc`, :func:`money_percentiles`), then
  every customer's three scores in one
  statement with ``CASE`` sums, exactly
  :func:`~crmcore.rules.segmentation.ascending_score` and ``descending_score``:
  recency needs no date arithmetic in SQL, since ``floor(days) < c`` is ``last
  purchase > as_of - ceil(c) days``, a comparison of UTC texts. On MariaDB, which
  computes a common table expression once per reference, the cut points are window
  functions over the summaries read once instead (:func:`windowed`).

Money is summed as integers of micro-units (exact on every dialect; SQLite's integer
``sum`` raises on overflow rather than rounding), and turned back into decimals equal in
value to the pure rule's sums (and, with the stored decimal places, equal in exponent).
A sum SQLite cannot hold (beyond 9.2 * 10**12 units per customer) also returns
``None``, so the pure rule answers. Rows the typed-column backfill has not reached yet
(``amount_micros IS NULL``) make these functions return ``None``, so the caller uses
the pure rule instead of a wrong answer.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from crmcore.models.values import MONEY_PLACES
from crmcore.rules.segmentation import (
    CurrencySummary,
    MonetaryBasis,
    Period,
    RepeatSummary,
    RfmCutPoints,
    RfmResult,
    RfmSpec,
    ScoreMethod,
    period_start,
    periods_between,
)
from crmcore.rules.segmentation._common import divide
from crmcore.rules.segmentation.rfm import pick_currency, rfm_verdicts
from crmcore.storage.sqlalchemy import _segment_rows
from crmcore.storage.sqlalchemy._cut_points import (
    IntDiv,
    at_rank,
    ceil_ratio,
    covered_rows,
    cut_table,
    money_percentiles,
    number_literal,
    offsets_inline,
    on_first_row,
    percentiles_disc,
    ranked_rows,
    summary_cte,
    window_cut,
    windowed,
)
from crmcore.storage.sqlalchemy._money import from_micros
from crmcore.storage.sqlalchemy._schema import TABLES, utc_key

__all__ = [
    "INT64",
    "IntDiv",
    "at_rank",
    "ceil_ratio",
    "chosen_currency",
    "covered_rows",
    "currencies",
    "currency_summaries",
    "cut_table",
    "filled_count",
    "first_with_cuts",
    "floor_bound",
    "money_percentiles",
    "offsets_inline",
    "on_first_row",
    "overflow_falls_back",
    "percentiles_disc",
    "ranked_rows",
    "repeat_summaries",
    "rfm",
    "summary_cte",
    "window_cut",
    "windowed",
]

_ZERO = Decimal(0)
_UTC_NAMES = ("UTC", "Etc/UTC")


def _purchases() -> Any:
    return TABLES["purchase"]


F = TypeVar("F", bound=Callable[..., Any])


def overflow_falls_back(function: F) -> F:
    """Return ``None`` (the caller runs the pure rule) when SQLite's integer sum overflows.

    SQLite sums integers exactly or raises ``integer overflow``: a customer whose amounts
    add up beyond 9.2 * 10**12 units cannot be summed there. PostgreSQL and MariaDB sum
    ``BIGINT`` into exact ``NUMERIC``/``DECIMAL`` and never get here.
    """

    @functools.wraps(function)
    def guarded(conn: Connection, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(conn, *args, **kwargs)
        except OperationalError as error:
            if conn.dialect.name == "sqlite" and "integer overflow" in str(error):
                return None
            raise

    return cast(F, guarded)


def _utc(text: str) -> dt.datetime:
    # One parse with the offset is several times faster than parsing and .replace().
    return dt.datetime.fromisoformat(text + "+00:00")


def _summary_select(as_of: dt.datetime, currency: str | None) -> Select[Any]:
    """Every customer's summary per currency; with ``currency``, of it (and unfilled rows).

    Rows the typed-column backfill has not reached have a NULL ``currency`` and form
    groups of their own: callers that find one return ``None`` (use the pure rule).
    """
    p = _purchases()
    costed = p.c.cost_micros.is_not(None)
    # An uncosted purchase's difference is NULL, which sum() skips (and a sum of NULLs
    # alone is NULL): the margin of the costed purchases, without a CASE per row.
    margin = func.sum(p.c.amount_micros - p.c.cost_micros)
    wider = case((p.c.amount_places >= p.c.cost_places, p.c.amount_places), else_=p.c.cost_places)
    last = func.max(p.c.purchased_at)
    statement = (
        select(
            p.c.customer_id.label("customer_id"),
            p.c.currency.label("currency"),
            func.min(p.c.purchased_at).label("first"),
            last.label("last"),
            func.count().label("purchases"),
            func.sum(p.c.amount_micros).label("total"),
            margin.label("margin"),
            func.count(p.c.cost_micros).label("costed"),
            func.max(p.c.amount_places).label("total_places"),
            func.max(case((costed, wider), else_=None)).label("margin_places"),
        )
        .where(p.c.purchased_at <= utc_key(as_of))
        .group_by(p.c.customer_id, p.c.currency)
    )
    if currency is not None:
        statement = statement.where(or_(p.c.currency == currency, p.c.currency.is_(None)))
    return statement


def _rfm_select(as_of: dt.datetime, currency: str) -> Select[Any]:
    """What RFM reads of each summary of ``currency`` (and of unfilled rows).

    In the order of :data:`._segment_rows.RFM_COLUMNS`: recency in whole days, count,
    total and its places; the hand-written RFM query reads as much.
    """
    p = _purchases()
    end = literal(utc_key(as_of), String())
    return (
        select(
            p.c.customer_id.label("customer_id"),
            p.c.currency.label("currency"),
            _DaysBefore(func.max(p.c.purchased_at), end).label("recency"),
            func.count().label("purchases"),
            func.sum(p.c.amount_micros).label("total"),
            func.max(p.c.amount_places).label("total_places"),
        )
        .where(p.c.purchased_at <= utc_key(as_of))
        .where(or_(p.c.currency == currency, p.c.currency.is_(None)))
        .group_by(p.c.customer_id, p.c.currency)
    )


class _DaysBefore(FunctionElement[int]):
    """``floor((end - start) / 1 day)`` of two UTC timestamp texts, exactly, as an integer.

    The whole days between the two dates, less one when the start's time of day is
    later than the end's (``HH:MM:SS.ffffff`` texts compare like the times).
    """

    type = Integer()
    inherit_cache = True
    name = "crm_days_before"


def _days_parts(element: _DaysBefore, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return start, end


@compiles(_DaysBefore, "sqlite")
def _days_sqlite(element: _DaysBefore, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _days_parts(element, compiler, **kw)
    # julianday of a date is a whole number and a half, exact in a double.
    dates = f"CAST(julianday(substr({end}, 1, 10)) - julianday(substr({start}, 1, 10)) AS INTEGER)"
    return f"({dates} - (substr({start}, 12) > substr({end}, 12)))"


@compiles(_DaysBefore, "postgresql")
def _days_postgresql(element: _DaysBefore, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _days_parts(element, compiler, **kw)
    dates = f"(CAST(substr({end}, 1, 10) AS date) - CAST(substr({start}, 1, 10) AS date))"
    return f"({dates} - CAST(substr({start}, 12) > substr({end}, 12) AS integer))"


@compiles(_DaysBefore, "mysql")
@compiles(_DaysBefore, "mariadb")
def _days_mysql(element: _DaysBefore, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _days_parts(element, compiler, **kw)
    dates = f"DATEDIFF(SUBSTRING({end}, 1, 10), SUBSTRING({start}, 1, 10))"
    return f"({dates} - (SUBSTRING({start}, 12) > SUBSTRING({end}, 12)))"


@overflow_falls_back
def currency_summaries(
    conn: Connection, *, as_of: dt.datetime
) -> tuple[CurrencySummary, ...] | None:
    """Every customer's :class:`CurrencySummary` up to ``as_of``, by customer and currency."""
    statement = _summary_select(as_of, None)
    statement = statement.order_by(statement.selected_columns[0], statement.selected_columns[1])
    rows = covered_rows(conn, statement)
    if any(row[1] is None for row in rows):
        return None  # the backfill has not reached every row yet
    return tuple(_segment_rows.summaries(rows, as_of))


class _WeekStart(FunctionElement[str]):
    """The ``YYYY-MM-DD`` of the Monday starting the week of a UTC timestamp text."""

    type = String()
    inherit_cache = True
    name = "crm_week_start"


@compiles(_WeekStart, "sqlite")
def _week_sqlite(element: _WeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    text = compiler.process(element.clauses, **kw)
    # Back six days, then forward to the next Monday (a Monday stays itself).
    return f"date(substr({text}, 1, 10), '-6 days', 'weekday 1')"


@compiles(_WeekStart, "postgresql")
def _week_postgresql(element: _WeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    text = compiler.process(element.clauses, **kw)
    return f"to_char(date_trunc('week', CAST(substr({text}, 1, 10) AS date)), 'YYYY-MM-DD')"


@compiles(_WeekStart, "mysql")
@compiles(_WeekStart, "mariadb")
def _week_mysql(element: _WeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    text = compiler.process(element.clauses, **kw)
    day = f"CAST(SUBSTRING({text}, 1, 10) AS DATE)"
    return f"CAST(DATE_SUB({day}, INTERVAL WEEKDAY({day}) DAY) AS CHAR)"


def _period_key(column: Any, period: Period) -> ColumnElement[str]:
    if period is Period.DAY:
        return func.substr(column, number_literal(1), number_literal(10))
    if period is Period.MONTH:
        return func.substr(column, number_literal(1), number_literal(7))
    return _WeekStart(column)


def _period_date(key: str, period: Period) -> dt.date:
    if period is Period.MONTH:
        return dt.date(int(key[:4]), int(key[5:7]), 1)
    return dt.date.fromisoformat(key)


@overflow_falls_back
def repeat_summaries(
    conn: Connection, *, as_of: dt.datetime, period: Period, tz: str
) -> tuple[RepeatSummary, ...] | None:
    """The repeat-purchase summaries in UTC; ``None`` for another zone (use the rule)."""
    if tz not in _UTC_NAMES:
        return None
    p = _purchases()
    key = _period_key(p.c.purchased_at, period)
    periods = (
        select(
            p.c.customer_id.label("cid"),
            p.c.currency.label("cur"),
            key.label("k"),
            func.sum(p.c.amount_micros).label("t"),
            func.max(p.c.amount_places).label("places"),
        )
        .where(p.c.purchased_at <= utc_key(as_of))
        .group_by(p.c.customer_id, p.c.currency, key)
        .cte("crm_periods")
    )
    firsts = (
        select(periods.c.cid, periods.c.cur, func.min(periods.c.k).label("first"))
        .group_by(periods.c.cid, periods.c.cur)
        .cte("crm_firsts")
    )
    statement = (
        select(
            periods.c.cid,
            periods.c.cur,
            func.count(),
            firsts.c.first,
            func.max(periods.c.k),
            func.sum(case((periods.c.k == firsts.c.first, literal(0)), else_=periods.c.t)),
            func.max(periods.c.places),
        )
        .select_from(
            periods.join(firsts, and_(periods.c.cid == firsts.c.cid, periods.c.cur == firsts.c.cur))
        )
        .group_by(periods.c.cid, periods.c.cur, firsts.c.first)
        .order_by(periods.c.cid, periods.c.cur)
    )
    end = period_start(as_of.astimezone(dt.UTC).date(), period)
    rows = conn.execute(statement).all()
    if any(row[1] is None for row in rows):
        return None  # the backfill has not reached every row yet
    out: list[RepeatSummary] = []
    for customer_id, currency, count, first, last, repeat_total, places in rows:
        first_day = _period_date(first, period)
        frequency = int(count) - 1
        if frequency:
            recency = periods_between(first_day, _period_date(last, period), period)
            monetary = divide(from_micros(int(repeat_total), int(places)), frequency)
        else:
            recency, monetary = _ZERO, _ZERO
        out.append(
            RepeatSummary(
                customer_id=customer_id,
                currency=currency,
                period=period,
                frequency=frequency,
                recency=recency,
                age=periods_between(first_day, end, period),
                monetary_value=monetary,
            )
        )
    return tuple(out)


def currencies(conn: Connection, as_of: dt.datetime) -> list[str | None]:
    """The currencies of the purchases up to ``as_of`` (``None``: rows not backfilled yet)."""
    p = _purchases()
    statement = select(p.c.currency).where(p.c.purchased_at <= utc_key(as_of)).distinct()
    return [row[0] for row in conn.execute(statement)]


def chosen_currency(conn: Connection, as_of: dt.datetime, rule: Any) -> str | None:
    """The currency a spec without one segments by; ``None`` while rows await backfill.

    ``pick_currency`` over the currencies of the purchases up to ``as_of``.
    """
    found = currencies(conn, as_of)
    if None in found:
        return None
    return pick_currency(cast(list[str], found), None, rule)


def filled_count(conn: Connection, summary: Any) -> Any:
    """``count(*)`` of the summaries of filled rows: SQL, or an int where ``OFFSET`` must be.

    The SQL is a one-row materialised table read by every cut point's position, so the
    summaries are counted once, not once per cut point.
    """
    count = select(func.count().label("n")).select_from(summary)
    count = count.where(summary.c.currency.is_not(None))
    if offsets_inline(conn):
        counted = summary_cte(conn, count, "crm_count")
        return select(counted.c.n).scalar_subquery()
    return int(conn.execute(count).scalar_one()) or 1  # no summaries: no row reads a cut


_FLOOR = decimal.Context(
    prec=200, rounding=decimal.ROUND_FLOOR, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN
)


INT64 = 2**63 - 1
_WIDE = Numeric(precision=60, scale=0)


def floor_bound(cut: Decimal, places: int, limit: int) -> int:
    """``floor(cut * 10**places)``, saturated at ``+-limit`` (beyond every summed value)."""
    if cut.copy_abs() >= Decimal(limit):
        return limit if cut > 0 else -limit
    scaled = cut.scaleb(places, context=_FLOOR).to_integral_value(rounding=decimal.ROUND_FLOOR)
    return max(-limit, min(limit, int(scaled)))


def _ascending_score(column: Any, cuts: Sequence[Decimal], *, money: bool, limit: int) -> Any:
    """``1 + number of cut points strictly below the value`` (money in micro-units).

    ``value > cut`` is ``value > floor(cut)`` for an integer value (a sum of micro-units
    or a count); ``limit`` is beyond any value the dialect can sum (SQLite's 64-bit
    integers, exact decimals elsewhere), so a saturated cut point compares alike.
    """
    parts: list[Any] = [literal(1)]
    for cut in cuts:
        bound = floor_bound(cut, MONEY_PLACES if money else 0, limit)
        # Sums of BIGINT are exact decimals on PostgreSQL and MariaDB: compare them as such.
        operand = literal(bound, _WIDE) if limit > INT64 else literal(bound, BigInteger())
        parts.append(case((column > operand, 1), else_=0))
    return sum(parts[1:], parts[0])


_DAYS = 10**9
"""Beyond every whole number of days between two storable instants."""


def _quantile_cuts(conn: Connection, s: Any, k: int) -> Any:
    """RFM's one-row table of ``4 * (k - 1)`` cuts: recency, frequency, total, places.

    Three sorts of the summaries (:func:`ranked_rows`: recency, count, total), where the
    hand-written query sorts ``3 * (k - 1)`` times; on PostgreSQL ``percentile_disc``.
    """
    n = filled_count(conn, s)
    positions = [ceil_ratio(n, j, k) for j in range(1, k)]
    filled = s.c.currency.is_not(None)
    if conn.dialect.name == "postgresql":
        plain = percentiles_disc(conn, s, n, positions, filled)
    else:
        order = (s.c.recency.desc(),)
        recency = ranked_rows(conn, s, ("recency",), order, positions, filled, "crm_recency")
        frequency = ranked_rows(
            conn, s, ("purchases",), (s.c.purchases,), positions, filled, "crm_frequency"
        )
        plain = [
            *(at_rank(recency, "recency", p) for p in positions),
            *(at_rank(frequency, "purchases", p) for p in positions),
        ]
    # Equal totals sort by customer id, as Python's stable sort of the summaries does,
    # so the cut point is the same summary's total, decimal places included.
    return cut_table(conn, s, plain, (n, positions, False, filled), "total_places")


def _windowed_cuts(s: Any, k: int) -> tuple[Any, list[Any], list[Any]]:
    """MariaDB: the summaries with RFM's ``4 * (k - 1)`` cut points as columns (:func:`windowed`).

    Returns the derived table, the cut points on its first row by recency (``NULL`` on
    the others, for the results) and the cut point columns (for the scores). Positions
    and ties as :func:`_quantile_cuts`: equal totals by customer id.
    """
    part = s.c.currency
    ranked = select(
        *s.c,
        func.count().over(partition_by=part).label("crm_n"),
        func.row_number().over(partition_by=part, order_by=s.c.recency.desc()).label("crm_r"),
        func.row_number().over(partition_by=part, order_by=s.c.purchases).label("crm_f"),
        func.row_number()
        .over(partition_by=part, order_by=(s.c.total, s.c.customer_id))
        .label("crm_m"),
    ).subquery("crm_ranked")
    r = ranked.c
    positions = [
        IntDiv(r.crm_n * number_literal(j) + number_literal(k - 1), number_literal(k))
        for j in range(1, k)
    ]
    ranks = [(r.crm_r, r.recency), (r.crm_f, r.purchases), (r.crm_m, r.total)]
    ranks.append((r.crm_m, r.total_places))
    cuts = [window_cut(rank, v, p, r.currency) for rank, v in ranks for p in positions]
    table = select(
        *(r[name] for name in _segment_rows.RFM_COLUMNS),
        r.crm_r,
        *(c.label(f"cut_{i}") for i, c in enumerate(cuts)),
    ).subquery("crm_cut_rows")
    columns = [table.c[f"cut_{i}"] for i in range(len(cuts))]
    first = [case((table.c.crm_r == 1, c), else_=None).label(c.name) for c in columns]
    return table, first, columns


def first_with_cuts(rows: Sequence[Any], start: int) -> Sequence[Any]:
    """The cut point values of the row holding them (the first one, or on MariaDB, one)."""
    for row in rows:
        if row[start] is not None:
            return cast(Sequence[Any], row[start:])
    return cast(Sequence[Any], rows[0][start:])


def _count_of(conditions: Sequence[Any]) -> Any:
    parts: list[Any] = [literal(1)]
    parts += [case((condition, 1), else_=0) for condition in conditions]
    return sum(parts[1:], parts[0])


@overflow_falls_back
def rfm(conn: Connection, spec: RfmSpec, *, as_of: dt.datetime) -> RfmResult | None:
    """RFM scored in one statement; ``None`` for a mean monetary basis (use the rule).

    The summaries are a materialised common table expression; quantile cut points are
    scalar subqueries over it (the summary at position ``ceil(j * n / k)``, see
    :func:`_quantile_cuts`) in a one-row table joined to every summary, whose scores
    are ``CASE`` sums against them.
    """
    if spec.monetary is not MonetaryBasis.TOTAL:
        return None
    currency = spec.currency or chosen_currency(conn, as_of, spec.kind)
    if currency is None:
        return None  # the backfill has not reached every row yet
    thresholds = spec.method is ScoreMethod.THRESHOLDS
    s = summary_cte(conn, _rfm_select(as_of, currency), "crm_summary", materialized=not thresholds)
    k = spec.scores
    limit = INT64 if conn.dialect.name == "sqlite" else 10**40
    if spec.method is ScoreMethod.THRESHOLDS:
        cut_columns: list[Any] = []
        first_cuts: list[Any] = []
        recency = [
            s.c.recency < literal(min(_DAYS, max(-_DAYS, math.ceil(c))))
            for c in spec.recency_cut_points
        ]
        frequency = _ascending_score(
            s.c.purchases, spec.frequency_cut_points, money=False, limit=limit
        )
        monetary = _ascending_score(s.c.total, spec.monetary_cut_points, money=True, limit=limit)
        source: Any = s
    elif windowed(conn):
        s, first_cuts, cut_columns = _windowed_cuts(s, k)
        w = k - 1
        recency = [s.c.recency < c for c in cut_columns[:w]]
        frequency = _count_of([s.c.purchases > c for c in cut_columns[w : 2 * w]])
        monetary = _count_of([s.c.total > c for c in cut_columns[2 * w : 3 * w]])
        source = s
    else:
        cuts = _quantile_cuts(conn, s, k)
        cut_columns = list(cuts.c)
        w = k - 1
        recency = [s.c.recency < c for c in cut_columns[:w]]
        frequency = _count_of([s.c.purchases > c for c in cut_columns[w : 2 * w]])
        monetary = _count_of([s.c.total > c for c in cut_columns[2 * w : 3 * w]])
        source = s.join(cuts, true())
        first_cuts = on_first_row(conn, s, cut_columns)
    leading = [s.c[name] for name in _segment_rows.RFM_COLUMNS]
    statement = (
        select(*leading, *first_cuts, _count_of(recency), frequency, monetary)
        .select_from(source)
        .order_by(s.c.customer_id)
    )
    rows = covered_rows(conn, statement)
    if any(row[1] is None for row in rows):
        return None  # the backfill has not reached every row yet
    if spec.method is ScoreMethod.THRESHOLDS:
        rfm_cuts = RfmCutPoints(
            currency=currency,
            recency=spec.recency_cut_points,
            frequency=spec.frequency_cut_points,
            monetary=spec.monetary_cut_points,
        )
    elif rows:
        w, first = k - 1, first_with_cuts(rows, len(_segment_rows.RFM_COLUMNS))
        rfm_cuts = RfmCutPoints(
            currency=currency,
            recency=tuple(sorted(Decimal(int(v)) for v in first[:w])),
            frequency=tuple(Decimal(int(v)) for v in first[w : 2 * w]),
            monetary=tuple(
                from_micros(int(v), int(places))
                for v, places in zip(first[2 * w : 3 * w], first[3 * w : 4 * w], strict=True)
            ),
        )
    else:
        rfm_cuts = RfmCutPoints(currency=currency, recency=(), frequency=(), monetary=())
    scores = _segment_rows.rfm_scores(rows, spec, rfm_cuts, rfm_verdicts(spec))
    return RfmResult(cut_points=rfm_cuts, scores=tuple(scores))
