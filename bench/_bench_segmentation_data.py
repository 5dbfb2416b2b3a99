"""The data of bench/bench_segmentation.py: generated purchases and the hand-written SQL.

:func:`build` makes the purchases (deterministic for a seed): customers with a skewed
number of purchases (half of them buy once or a few times), CNY, EUR and USD (a few
customers buy in two currencies), prices from a price list (ties of amount) and from
a long tail, amounts written with 0 or 2 decimal places, refunds (negative amounts),
costs on some purchases, several purchases on one day and some at the very same
second (ties of time).

:func:`hand_schema` is the table a developer would design by hand for these
aggregations (typed columns only, a covering index on customer, currency, time,
amount and cost), :func:`hand_rows` the rows of the purchases in it, and
:class:`HandQueries` the same aggregations hand-written in SQL (summaries, repeat
summaries, RFM, the value pyramid and Pareto analysis), returning plain
tuples (customer, currency and integer micro-units), so they can be compared with
crmcore's results.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table
from sqlalchemy.engine import Connection

from crmcore.models import Money, Purchase

__all__ = ["AS_OF", "CUTS", "HandQueries", "build", "hand_rows", "hand_schema", "micros"]

START = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
AS_OF = dt.datetime(2026, 5, 31, 23, 59, 59, tzinfo=dt.UTC)
SPAN_SECONDS = int((AS_OF - START).total_seconds())
CREATED = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
PRICES = [
    Decimal(p)
    for p in ["9.90", "19.90", "58", "99", "128.00", "199", "388.00", "588", "1288.00", "4820"]
]
CURRENCIES = ["CNY"] * 7 + ["EUR"] * 2 + ["USD"]
CUTS = 5


def build(count: int, customers: int, seed: int = 11) -> list[Purchase]:
    """``count`` purchases over ``customers`` customers (ids ``c000000`` ...)."""
    rng = random.Random(seed)
    weights = [1.0 if i % 2 else 12.0 for i in range(customers)]
    names = [f"c{i:06}" for i in range(customers)]
    home = [rng.choice(CURRENCIES) for _ in range(customers)]
    picks = rng.choices(range(customers), weights=weights, k=count)
    out: list[Purchase] = []
    previous: dt.datetime | None = None
    for index, who in enumerate(picks):
        currency = home[who] if rng.random() > 0.03 else "EUR"
        if rng.random() < 0.5:
            amount = rng.choice(PRICES)
        else:
            amount = Decimal(int(rng.lognormvariate(9, 1.2)) + 1).scaleb(-2)
        cost = None
        if rng.random() < 0.4:
            cost = Money(
                amount=(amount * Decimal("0.6")).quantize(Decimal("0.01")), currency=currency
            )
        if rng.random() < 0.03:
            amount, cost = -amount, None
        if previous is not None and rng.random() < 0.02:
            at = previous  # the very same second as the purchase before
        else:
            at = START + dt.timedelta(seconds=rng.randrange(SPAN_SECONDS))
        previous = at
        out.append(
            Purchase(
                id=f"p{index:07}",
                customer_id=names[who],
                purchased_at=at,
                amount=Money(amount=amount, currency=currency),
                cost=cost,
                product="tea",
                created_at=CREATED,
            )
        )
    return out


def micros(value: Decimal) -> int:
    """An exact amount as integer millionths."""
    return int(value.scaleb(6))


def hand_schema(metadata: MetaData, dialect: str) -> Table:
    """The hand-designed purchase table: typed columns and one covering index."""
    at: Any = sa.DateTime(timezone=True) if dialect == "postgresql" else String(26)
    return Table(
        "bench_purchase",
        metadata,
        Column("id", String(16), primary_key=True),
        Column("customer_id", String(16), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("purchased_at", at, nullable=False),
        Column("amount_micros", BigInteger, nullable=False),
        Column("cost_micros", BigInteger, nullable=True),
        Index(
            "ix_bench_purchase_cover",
            "customer_id",
            "currency",
            "purchased_at",
            "amount_micros",
            "cost_micros",
        ),
    )


def hand_rows(purchases: Sequence[Purchase], dialect: str) -> Iterator[dict[str, Any]]:
    """The rows of ``purchases`` in the hand schema (UTC text on SQLite)."""
    for p in purchases:
        at: Any = p.purchased_at
        if dialect != "postgresql":
            at = at.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
        yield {
            "id": p.id,
            "customer_id": p.customer_id,
            "currency": p.amount.currency,
            "purchased_at": at,
            "amount_micros": micros(p.amount.amount),
            "cost_micros": None if p.cost is None else micros(p.cost.amount),
        }


class HandQueries:
    """Summaries, repeat summaries (by day, UTC) and RFM, hand-written for one dialect."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"
        self.my = dialect in ("mysql", "mariadb")  # UTC text as on SQLite, MariaDB's dates
        self.as_of: Any = (
            AS_OF if self.pg else AS_OF.replace(tzinfo=None).isoformat(timespec="microseconds")
        )

    def summaries(self, conn: Connection) -> list[tuple[Any, ...]]:
        """customer, currency, first, last, count, total, margin, costed (micro-units)."""
        sql = """
            SELECT customer_id, currency, min(purchased_at), max(purchased_at), count(*),
                   sum(amount_micros), sum(amount_micros - cost_micros), count(cost_micros)
            FROM bench_purchase WHERE purchased_at <= :as_of
            GROUP BY customer_id, currency ORDER BY customer_id, currency"""
        return [tuple(r) for r in conn.execute(sa.text(sql), {"as_of": self.as_of})]

    def repeat(self, conn: Connection) -> list[tuple[Any, ...]]:
        """customer, currency, frequency, recency days, T days, repeat total (micro-units)."""
        day = (
            "(purchased_at AT TIME ZONE 'UTC')::date" if self.pg else "substr(purchased_at, 1, 10)"
        )
        end = "DATE '2026-05-31'" if self.pg else "julianday('2026-05-31')"
        diff = "{} - {}" if self.pg else "CAST(julianday({}) - julianday({}) AS INTEGER)"
        if self.my:
            end, diff = "'2026-05-31'", "DATEDIFF({}, {})"
        sql = f"""
            WITH days AS (
                SELECT customer_id AS c, currency AS cur, {day} AS d, sum(amount_micros) AS v
                FROM bench_purchase WHERE purchased_at <= :as_of GROUP BY 1, 2, 3),
            firsts AS (SELECT c, cur, min(d) AS first FROM days GROUP BY c, cur)
            SELECT days.c, days.cur, count(*) - 1, {diff.format("max(d)", "firsts.first")},
                   {
            diff.format(end, "firsts.first")
            if self.pg
            else diff.format(end, "firsts.first")
            if self.my
            else f"CAST({end} - julianday(firsts.first) AS INTEGER)"
        },
                   sum(CASE WHEN d = firsts.first THEN 0 ELSE v END)
            FROM days JOIN firsts ON days.c = firsts.c AND days.cur = firsts.cur
            GROUP BY days.c, days.cur, firsts.first ORDER BY days.c, days.cur"""
        return [tuple(r) for r in conn.execute(sa.text(sql), {"as_of": self.as_of})]

    def rfm(self, conn: Connection, currency: str) -> list[tuple[Any, ...]]:
        """customer, recency, count, total, R, F, M in ``currency`` (crmcore's tie rule).

        Recency is whole days from the last purchase's date to ``AS_OF``'s (23:59:59, so
        equal to the whole days between the instants for purchases at whole seconds).
        """
        if self.pg:
            rec = "DATE '2026-05-31' - (max(purchased_at) AT TIME ZONE 'UTC')::date"
        elif self.my:
            rec = "DATEDIFF('2026-05-31', substr(max(purchased_at), 1, 10))"
        else:
            last = "julianday(substr(max(purchased_at), 1, 10))"
            rec = f"CAST(julianday('2026-05-31') - {last} AS INTEGER)"
        summary = f"""
            SELECT customer_id AS c, {rec} AS rec, count(*) AS n, sum(amount_micros) AS total
            FROM bench_purchase WHERE purchased_at <= :as_of AND currency = :cur
            GROUP BY customer_id"""
        params: dict[str, Any] = {"as_of": self.as_of, "cur": currency}
        k = CUTS
        orders = (("rec", "DESC"), ("n", "ASC"), ("total", "ASC"))
        if self.pg:
            shares = ", ".join(f"{j / k}" for j in range(1, k))
            aggregates = ", ".join(
                f"percentile_disc(ARRAY[{shares}]) WITHIN GROUP (ORDER BY {col} {way})"
                for col, way in orders
            )
            cuts = conn.execute(
                sa.text(f"WITH s AS ({summary}) SELECT {aggregates} FROM s"), params
            )
            rec_cuts, n_cuts, total_cuts = cuts.one()
            source = f"({summary}) AS s"
        else:
            if self.my:  # a temporary table cannot be read twice in one MariaDB statement
                conn.exec_driver_sql("DROP TABLE IF EXISTS bench_summary")
                create = "CREATE TABLE"
            else:
                conn.exec_driver_sql("DROP TABLE IF EXISTS temp.bench_summary")
                create = "CREATE TEMP TABLE"
            conn.execute(sa.text(f"{create} bench_summary AS {summary}"), params)
            (count,) = conn.exec_driver_sql("SELECT count(*) FROM bench_summary").one()
            positions = [-(-j * count // k) - 1 for j in range(1, k)]
            columns = ", ".join(
                f"(SELECT {col} FROM bench_summary ORDER BY {col} {way} LIMIT 1 OFFSET {p})"
                for col, way in orders
                for p in positions
            )
            row = conn.exec_driver_sql(f"SELECT {columns}").one()
            rec_cuts, n_cuts, total_cuts = row[: k - 1], row[k - 1 : 2 * k - 2], row[2 * k - 2 :]
            source = "bench_summary"
        r = " + ".join(f"CASE WHEN rec < :r{i} THEN 1 ELSE 0 END" for i in range(k - 1))
        f = " + ".join(f"CASE WHEN n > :n{i} THEN 1 ELSE 0 END" for i in range(k - 1))
        m = " + ".join(f"CASE WHEN total > :t{i} THEN 1 ELSE 0 END" for i in range(k - 1))
        # The same information as crmcore's scores: the values scored, then the scores.
        sql = f"SELECT c, rec, n, total, 1 + {r}, 1 + {f}, 1 + {m} FROM {source} ORDER BY c"
        params |= {f"r{i}": v for i, v in enumerate(rec_cuts)}
        params |= {f"n{i}": v for i, v in enumerate(n_cuts)}
        params |= {f"t{i}": v for i, v in enumerate(total_cuts)}
        return [tuple(row) for row in conn.execute(sa.text(sql), params)]

    def pyramid(self, conn: Connection, currency: str) -> list[tuple[Any, ...]]:
        """customer, total (micro-units), tier: the brief's thresholds, as ``BRIEF_TIERS``.

        VIP above 58,900, large from 19,000, medium from 4,820, small below (in units).
        """
        total = "sum(amount_micros)"
        sql = f"""
            SELECT customer_id, {total},
                   CASE WHEN {total} > 58900000000 THEN 'VIP'
                        WHEN {total} >= 19000000000 THEN 'large'
                        WHEN {total} >= 4820000000 THEN 'medium' ELSE 'small' END
            FROM bench_purchase WHERE purchased_at <= :as_of AND currency = :cur
            GROUP BY customer_id ORDER BY customer_id"""
        params = {"as_of": self.as_of, "cur": currency}
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]

    def pareto(self, conn: Connection) -> list[tuple[Any, ...]]:
        """Per currency: customers, revenue, revenue of the top 20%, customers for 80%.

        The top ``ceil(0.2 * n)`` customers' revenue and the fewest top customers whose
        revenue reaches 80% (``running * 5 < revenue * 4`` counts those before), as
        ``ParetoSpec()`` defines them, from a running total over per-customer totals.
        """
        fifth = "(g.n + 4) DIV 5" if self.my else "(g.n + 4) / 5"
        sql = f"""
            WITH t AS (
                SELECT currency AS cur, customer_id AS c, sum(amount_micros) AS total
                FROM bench_purchase WHERE purchased_at <= :as_of GROUP BY currency, customer_id),
            r AS (
                SELECT cur, row_number() OVER w AS pos,
                       sum(total) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                           AS running
                FROM t WINDOW w AS (PARTITION BY cur ORDER BY total DESC, c)),
            g AS (SELECT cur, count(*) AS n, sum(total) AS revenue FROM t GROUP BY cur)
            SELECT g.cur, g.n, g.revenue,
                   (SELECT running FROM r WHERE r.cur = g.cur AND r.pos = {fifth}),
                   1 + (SELECT count(*) FROM r
                        WHERE r.cur = g.cur AND r.running * 5 < g.revenue * 4)
            FROM g ORDER BY g.cur"""
        return [tuple(r) for r in conn.execute(sa.text(sql), {"as_of": self.as_of})]
