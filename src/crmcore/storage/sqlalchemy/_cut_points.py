"""Cut points and the dialect-aware SQL pieces the SQL segmentations are built from.

The statements of :mod:`._aggregates` (summaries, RFM) and :mod:`._tiers` (the value
pyramid, Pareto) share these: an exact integer division (:class:`IntDiv`), the
summaries as a common table expression (:func:`summary_cte`), quantile cut points as
one aggregate (:func:`cut_table`, :func:`percentiles_disc` and
:func:`money_percentiles` on PostgreSQL, :func:`window_cut` over the summaries read
once on MariaDB, :func:`windowed`), the cut points on the first row only
(:func:`on_first_row`), the summaries at positions in one sort on SQLite
(:func:`ranked_rows`, :func:`at_rank`) and the read through the covering purchase
index (:func:`covered_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    case,
    func,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


def number_literal(text: int) -> Any:
    """A literal integer rendered inline, so a grouped expression is the same text twice."""
    return literal_column(str(int(text)), Integer())


class IntDiv(FunctionElement[int]):
    """Integer division of two non-negative integers (``DIV`` on MariaDB, exact)."""

    type = Integer()
    inherit_cache = True
    name = "crm_int_div"


@compiles(IntDiv)
def _int_div(element: IntDiv, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(({a}) / ({b}))"


@compiles(IntDiv, "mysql")
@compiles(IntDiv, "mariadb")
def _int_div_mysql(element: IntDiv, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(({a}) DIV ({b}))"


def windowed(conn: Connection) -> bool:
    """Whether cut points are window functions over the summaries read once (MariaDB).

    MariaDB does not compute a common table expression once for all its references:
    each scalar subquery over the summaries was a derived table of its own, an
    aggregation of the purchases each (33 for five RFM scores, EXPLAIN). There the
    statements read the summaries once: ``row_number()`` and ``count()`` windows rank
    them, and each cut point is ``sum(CASE WHEN rank = position ...) OVER`` the
    currency (:func:`window_cut`), one derived table over the other.
    """
    return conn.dialect.name in ("mysql", "mariadb")


def window_cut(rank: Any, column: Any, position: Any, partition: Any) -> Any:
    """The value of ``column`` on the row ranked ``position`` of its partition, on every row.

    A ``sum`` of it and zeros, exact: MariaDB computes ``max() OVER (PARTITION BY ...)``
    again for every row (quadratic; 15 s against 0.1 s for ``sum`` over 21,581
    summaries), a whole-partition ``sum`` once.
    """
    picked = case((rank == position, column), else_=number_literal(0))
    return func.sum(picked).over(partition_by=partition)


def summary_cte(
    conn: Connection, statement: Select[Any], name: str, *, materialized: bool = True
) -> Any:
    """``statement`` as a common table expression, computed once however often it is read.

    SQLite (3.35 on) and PostgreSQL take ``MATERIALIZED``; MariaDB materialises a
    derived table read several times by itself. A summary read once (scores by fixed
    thresholds) is not materialised (``materialized=False``): the planner reads it in
    the index's order straight into the result, with no temporary table.
    """
    cte = statement.cte(name)
    if materialized and conn.dialect.name in ("sqlite", "postgresql"):
        cte = cte.prefix_with("MATERIALIZED")
    return cte


def cut_table(
    conn: Connection,
    s: Any,
    plain: Sequence[Any],
    money: tuple[Any, Sequence[Any], bool, Any],
    places: str,
) -> Any:
    """A one-row table of cut points: the ``plain`` ones, then the money ones by summary.

    A money cut point is a summary's total *and* its decimal places: the summary at a
    1-based position of the totals sorted (``descending`` or not), equal totals by
    customer id. ``money`` is the count of summaries ``n``, the positions, the
    direction and the filter. The summaries at the positions are one ranked table
    (:func:`ranked_rows`: one sort of the totals and customer ids for every cut point),
    each read by two scalar subqueries; on PostgreSQL the totals are instead one
    ``percentile_disc`` sort (:func:`money_percentiles`). Columns ``cut_0 ...``: the
    ``plain`` cut points (scalar subqueries), the totals, then the places (``places``
    names the summary's places column); ``NULL`` without summaries.
    """
    n, positions, descending, where = money
    if conn.dialect.name == "postgresql":
        totals, places_of = money_percentiles(conn, s, n, positions, descending, where, places)
    else:
        order = (s.c.total.desc() if descending else s.c.total, s.c.customer_id)
        ranked = ranked_rows(conn, s, ("total", places), order, positions, where, "crm_money")
        totals = [at_rank(ranked, "total", p) for p in positions]
        places_of = [at_rank(ranked, places, p) for p in positions]
    values = [*plain, *totals, *places_of]
    statement = select(*(c.label(f"cut_{i}") for i, c in enumerate(values)))
    return summary_cte(conn, statement, "crm_cuts")


def ranked_rows(
    conn: Connection,
    s: Any,
    columns: Sequence[str],
    order: Sequence[Any],
    positions: Sequence[Any],
    where: Any,
    name: str,
) -> Any:
    """The summaries at 1-based ``positions`` (ints or SQL) in ``order``: one sort for all.

    A materialised table of ``columns`` and ``crm_rank`` (``row_number()`` over the
    summaries of ``where`` in ``order``), keeping the ranked rows at the positions
    only; :func:`at_rank` reads a value of one. Where each cut point was a query of
    its own (``ORDER BY ... LIMIT 1 OFFSET p - 1``, a sort of the first ``p`` rows),
    the summaries are sorted once per order: on 200,000 purchases (SQLite) the RFM
    statement took 0.127 s of CPU where it took 0.160 s. The window runs over the
    summaries, never over the purchases. A position beyond the summaries has no row
    (a ``NULL`` cut point, as ``OFFSET`` past the end gave).
    """
    rank = func.row_number().over(order_by=list(order)).label("crm_rank")
    ranked = select(*(s.c[c] for c in columns), rank).where(where).subquery(f"{name}_ranked")
    wanted = [p if not isinstance(p, int) else literal(p, Integer()) for p in positions]
    kept = select(*(ranked.c[c] for c in columns), ranked.c.crm_rank)
    return summary_cte(conn, kept.where(ranked.c.crm_rank.in_(wanted)), f"{name}_ranks")


def at_rank(table: Any, column: str, position: Any) -> Any:
    """The value of ``column`` on the :func:`ranked_rows` row at ``position`` (or ``NULL``)."""
    return select(table.c[column]).where(table.c.crm_rank == position).scalar_subquery()


def _fraction(n: Any, position: Any) -> Any:
    """``(2p - 1) / 2n`` in ``float8``: ``percentile_disc`` of it is the value at ``p``.

    ``percentile_disc(f)`` is the value at 1-based position ``ceil(f * n)``; here
    ``f * n = p - 1/2``, far from an integer boundary, so it is exactly position ``p``
    whatever the rounding of a share such as ``j / k``. No summaries: a ``NULL``
    fraction, a ``NULL`` cut point.
    """
    two = number_literal(2)
    count = func.nullif(n, number_literal(0)) * two
    return sql_cast(position * two - number_literal(1), Float()) / sql_cast(count, Float())


def percentiles_disc(
    conn: Connection, s: Any, n: Any, positions: Sequence[Any], where: Any
) -> list[Any]:
    """PostgreSQL: RFM's recency and frequency cut points, one sort per column.

    ``percentile_disc(f) WITHIN GROUP (ORDER BY x)`` at :func:`_fraction`; calls
    with the same ``ORDER BY`` share one sort, as ``percentile_disc(ARRAY[...])`` does
    in the hand-written query. Returns the recency cut points (sorted by recency
    descending), then the frequency ones.
    """
    fractions = [_fraction(n, p) for p in positions]
    columns = [
        *(func.percentile_disc(f).within_group(s.c.recency.desc()) for f in fractions),
        *(func.percentile_disc(f).within_group(s.c.purchases) for f in fractions),
    ]
    statement = select(*(c.label(f"plain_{i}") for i, c in enumerate(columns)))
    table = summary_cte(conn, statement.select_from(s).where(where), "crm_plain_cuts")
    return [select(c).scalar_subquery() for c in table.c]


def money_percentiles(
    conn: Connection,
    s: Any,
    n: Any,
    positions: Sequence[Any],
    descending: bool,
    where: Any,
    places: str,
) -> tuple[list[Any], list[Any]]:
    """PostgreSQL: the money cut points' totals in one sort, then each one's places.

    The total at position ``p`` is ``percentile_disc`` (:func:`_fraction`) of the
    totals; its places are those of the summary at ``p`` among the equal totals by
    customer id: offset ``p - 1`` less the count of totals before it (a scan of the
    summaries with no sort, and a sort of the equal totals only). Returns the totals
    and the places, as scalar subqueries.
    """
    key = s.c.total.desc() if descending else s.c.total
    columns = [func.percentile_disc(_fraction(n, p)).within_group(key) for p in positions]
    statement = select(*(c.label(f"total_{i}") for i, c in enumerate(columns)))
    table = summary_cte(conn, statement.select_from(s).where(where), "crm_money_cuts")
    totals, places_of = [], []
    for position, column in zip(positions, table.c, strict=True):
        cut = select(column).scalar_subquery()
        ahead = s.c.total > cut if descending else s.c.total < cut
        before = select(func.count()).select_from(s).where(where, ahead).scalar_subquery()
        offset = func.greatest(position - number_literal(1) - before, number_literal(0))
        equal = select(s.c[places]).where(where, s.c.total == cut).order_by(s.c.customer_id)
        totals.append(cut)
        places_of.append(equal.limit(1).offset(offset).scalar_subquery())
    return totals, places_of


def on_first_row(conn: Connection, s: Any, columns: Sequence[Any]) -> list[Any]:
    """The cut point ``columns``, their values on the first customer's row only.

    The results read the cut points of the first row; on the others they are ``NULL``
    (a ``CASE`` against the least customer id), so the driver decodes one row of them,
    not one per customer (on PostgreSQL each total is a ``NUMERIC``). The least id is a
    one-row materialised table: each ``CASE`` reads it, where a ``min()`` subquery in
    each was one scan of the summaries per cut point (16 for five RFM scores).
    """
    if not columns:
        return []
    least = summary_cte(conn, select(func.min(s.c.customer_id).label("id")), "crm_first")
    first = select(least.c.id).scalar_subquery()
    return [case((s.c.customer_id == first, c), else_=None).label(c.name) for c in columns]


def covered_rows(conn: Connection, statement: Select[Any]) -> Sequence[Any]:
    """The rows of an aggregate ``statement``, read from the covering purchase index.

    PostgreSQL's planner prices an index-only scan of ``ix_crm_purchase_customer_currency``
    above a sequential scan of ``crm_purchase`` and a hash aggregate once the statement
    keeps one currency (measured on 200,000 purchases: 0.7 s by the table, 0.3 s by the
    index, whose rows are narrower than the table's, which hold the documents). So the
    statement runs with ``enable_seqscan`` off for this transaction only
    (``set_config(..., true)``), then the previous value is set back. A statement that
    fails leaves the transaction to be rolled back, which undoes the setting too. Other
    dialects read the index by themselves.
    """
    if conn.dialect.name != "postgresql":
        return conn.execute(statement).all()
    setting = literal("enable_seqscan", String())
    was = conn.execute(
        select(func.current_setting(setting), func.set_config(setting, "off", true()))
    ).one()[0]
    rows = conn.execute(statement).all()
    conn.execute(select(func.set_config(setting, literal(str(was), String()), true())))
    return rows


def offsets_inline(conn: Connection) -> bool:
    """Whether ``OFFSET`` may be an expression (SQLite, PostgreSQL; not MariaDB/MySQL)."""
    return conn.dialect.name in ("sqlite", "postgresql")


def ceil_ratio(n: Any, numerator: int, denominator: int) -> Any:
    """``ceil(numerator * n / denominator)`` for a count ``n`` (an int or SQL), exactly."""
    if isinstance(n, int):
        return -(-numerator * n // denominator)
    return (n * number_literal(numerator) + number_literal(denominator - 1)) // number_literal(
        denominator
    )
