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
  the value at position ``ceil(j * n / k)``, a scalar subquery ``ORDER BY ... LIMIT 1
  OFFSET``; ``n`` counted first), then every customer's three scores in one statement
  with ``CASE`` sums, exactly :func:`~crmcore.rules.segmentation.ascending_score` and
  ``descending_score``: recency needs no date arithmetic in SQL, since ``floor(days) <
  c`` is ``last purchase > as_of - ceil(c) days``, a comparison of UTC texts.

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
    exists,
    func,
    literal,
    literal_column,
    select,
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
from crmcore.rules.segmentation.rfm import pick_currency, rfm_score, rfm_verdicts
from crmcore.storage.sqlalchemy._money import from_micros
from crmcore.storage.sqlalchemy._schema import TABLES, utc_key

__all__ = ["currency_summaries", "repeat_summaries", "rfm"]

_ZERO = Decimal(0)
_UTC_NAMES = ("UTC", "Etc/UTC")


def _purchases() -> Any:
    return TABLES["purchase"]


F = TypeVar("F", bound=Callable[..., Any])


def _overflow_falls_back(function: F) -> F:
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


def _backfilled(conn: Connection) -> bool:
    """False while some purchase row has no typed columns yet (the backfill is running)."""
    p = _purchases()
    return not conn.execute(select(exists().where(p.c.amount_micros.is_(None)))).scalar()


def _number(text: int) -> Any:
    """A literal integer rendered inline, so a grouped expression is the same text twice."""
    return literal_column(str(int(text)), Integer())


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _summary_select(as_of: dt.datetime, currency: str | None) -> Select[Any]:
    p = _purchases()
    costed = p.c.cost_micros.is_not(None)
    margin = func.sum(case((costed, p.c.amount_micros - p.c.cost_micros), else_=None))
    wider = case((p.c.amount_places >= p.c.cost_places, p.c.amount_places), else_=p.c.cost_places)
    statement = (
        select(
            p.c.customer_id.label("customer_id"),
            p.c.currency.label("currency"),
            func.min(p.c.purchased_at).label("first"),
            func.max(p.c.purchased_at).label("last"),
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
        statement = statement.where(p.c.currency == currency)
    return statement


def _to_summary(row: Sequence[Any], as_of: dt.datetime) -> CurrencySummary:
    customer_id, currency, first, last, count, total, margin, costed = row[:8]
    total_places, margin_places = row[8], row[9]
    total_amount = from_micros(int(total), int(total_places))
    last_at = _utc(last)
    return CurrencySummary(
        customer_id=customer_id,
        currency=currency,
        first_purchase=_utc(first),
        last_purchase=last_at,
        recency_days=(as_of - last_at).days,
        purchases=int(count),
        total=total_amount,
        mean=divide(total_amount, int(count)),
        margin=from_micros(int(margin), int(margin_places)) if int(costed) else None,
        costed_purchases=int(costed),
    )


@_overflow_falls_back
def currency_summaries(
    conn: Connection, *, as_of: dt.datetime
) -> tuple[CurrencySummary, ...] | None:
    """Every customer's :class:`CurrencySummary` up to ``as_of``, by customer and currency."""
    if not _backfilled(conn):
        return None
    statement = _summary_select(as_of, None)
    statement = statement.order_by(statement.selected_columns[0], statement.selected_columns[1])
    return tuple(_to_summary(row, as_of) for row in conn.execute(statement))


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
        return func.substr(column, _number(1), _number(10))
    if period is Period.MONTH:
        return func.substr(column, _number(1), _number(7))
    return _WeekStart(column)


def _period_date(key: str, period: Period) -> dt.date:
    if period is Period.MONTH:
        return dt.date(int(key[:4]), int(key[5:7]), 1)
    return dt.date.fromisoformat(key)


@_overflow_falls_back
def repeat_summaries(
    conn: Connection, *, as_of: dt.datetime, period: Period, tz: str
) -> tuple[RepeatSummary, ...] | None:
    """The repeat-purchase summaries in UTC; ``None`` for another zone (use the rule)."""
    if tz not in _UTC_NAMES or not _backfilled(conn):
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
    out: list[RepeatSummary] = []
    for customer_id, currency, count, first, last, repeat_total, places in conn.execute(statement):
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


def _currencies(conn: Connection, as_of: dt.datetime) -> list[str]:
    p = _purchases()
    statement = select(p.c.currency).where(p.c.purchased_at <= utc_key(as_of)).distinct()
    return [row[0] for row in conn.execute(statement)]


def _quantile_cuts(
    conn: Connection, summary: Any, spec: RfmSpec, as_of: dt.datetime
) -> RfmCutPoints | None:
    """The quantile cut points, read in one statement (``None``: nobody to score)."""
    n = int(conn.execute(select(func.count()).select_from(summary)).scalar_one())
    k = spec.scores
    if n == 0:
        return None
    positions = [-(-j * n // k) for j in range(1, k)]

    def at(column: Any, position: int, order: Any = None) -> Any:
        ordered = select(column).order_by(*(order or (column,)))
        return ordered.limit(1).offset(position - 1).scalar_subquery()

    # Equal totals sort by customer id, as Python's stable sort of the summaries does,
    # so the cut point is the same summary's total, decimal places included.
    money_order = (summary.c.total, summary.c.customer_id)
    columns = [
        *(at(summary.c.last, p) for p in positions),
        *(at(summary.c.purchases, p) for p in positions),
        *(at(summary.c.total, p) for p in positions),
        *(at(summary.c.total_places, p, money_order) for p in positions),
    ]
    # Labelled: equal positions give equal subqueries, which select() would merge.
    row = conn.execute(select(*(c.label(f"cut_{i}") for i, c in enumerate(columns)))).one()
    width = len(positions)
    # Ascending last purchase is descending recency: the same positions give the
    # recency cut points of the rule, which are then sorted ascending.
    recency = sorted(Decimal((as_of - _utc(text)).days) for text in row[:width])
    return RfmCutPoints(
        currency=spec.currency or "",
        recency=tuple(recency),
        frequency=tuple(Decimal(int(v)) for v in row[width : 2 * width]),
        monetary=tuple(
            from_micros(int(v), int(places))
            for v, places in zip(row[2 * width : 3 * width], row[3 * width :], strict=True)
        ),
    )


def _days_before(as_of: dt.datetime, days: int) -> str | None:
    """``utc_key(as_of - days)``, or ``None`` when that is before the first representable day."""
    try:
        return utc_key(as_of - dt.timedelta(days=days))
    except OverflowError:
        return None


def _recency_score(last: Any, cuts: Sequence[Decimal], as_of: dt.datetime) -> Any:
    """``1 + number of cut points strictly above floor((as_of - last) / 1 day)``."""
    parts: list[Any] = [literal(1)]
    for cut in cuts:
        # floor(days) < cut  <=>  days < ceil(cut)  <=>  last > as_of - ceil(cut) days.
        whole = math.ceil(cut)
        if whole <= 0:
            continue
        bound = _days_before(as_of, whole)
        parts.append(literal(1) if bound is None else case((last > bound, 1), else_=0))
    return sum(parts[1:], parts[0])


_FLOOR = decimal.Context(
    prec=200, rounding=decimal.ROUND_FLOOR, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN
)


_INT64 = 2**63 - 1
_WIDE = Numeric(precision=60, scale=0)


def _floor_bound(cut: Decimal, places: int, limit: int) -> int:
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
        bound = _floor_bound(cut, MONEY_PLACES if money else 0, limit)
        # Sums of BIGINT are exact decimals on PostgreSQL and MariaDB: compare them as such.
        operand = literal(bound, _WIDE) if limit > _INT64 else literal(bound, BigInteger())
        parts.append(case((column > operand, 1), else_=0))
    return sum(parts[1:], parts[0])


@_overflow_falls_back
def rfm(conn: Connection, spec: RfmSpec, *, as_of: dt.datetime) -> RfmResult | None:
    """RFM scored in SQL; ``None`` for a mean monetary basis (the caller uses the rule)."""
    if spec.monetary is not MonetaryBasis.TOTAL or not _backfilled(conn):
        return None
    currency = pick_currency(_currencies(conn, as_of), spec.currency, spec.kind)
    summary = _summary_select(as_of, currency).subquery("crm_summary")
    if spec.method is ScoreMethod.THRESHOLDS:
        cuts: RfmCutPoints | None = RfmCutPoints(
            currency=currency,
            recency=spec.recency_cut_points,
            frequency=spec.frequency_cut_points,
            monetary=spec.monetary_cut_points,
        )
    else:
        cuts = _quantile_cuts(conn, summary, spec, as_of)
    if cuts is None:
        return RfmResult(
            cut_points=RfmCutPoints(currency=currency, recency=(), frequency=(), monetary=()),
            scores=(),
        )
    cuts = RfmCutPoints(
        currency=currency, recency=cuts.recency, frequency=cuts.frequency, monetary=cuts.monetary
    )
    limit = _INT64 if conn.dialect.name == "sqlite" else 10**40
    statement = select(
        *summary.c,
        _recency_score(summary.c.last, cuts.recency, as_of).label("r"),
        _ascending_score(summary.c.purchases, cuts.frequency, money=False, limit=limit).label("f"),
        _ascending_score(summary.c.total, cuts.monetary, money=True, limit=limit).label("m"),
    ).order_by(summary.c.customer_id)
    verdicts = rfm_verdicts(spec)
    scores = tuple(
        rfm_score(
            spec,
            cuts,
            verdicts,
            _to_summary(row, as_of),
            (int(row[10]), int(row[11]), int(row[12])),
        )
        for row in conn.execute(statement)
    )
    return RfmResult(cut_points=cuts, scores=scores)
