"""Benchmark: crmcore queries at scale against hand-written SQL over a hand-designed schema.

Run on demand (not collected by pytest)::

    PYTHONPATH=src python bench/bench_queries.py --customers 20000 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test \
        --mysql mysql+pymysql://root@127.0.0.1:3306/test

Per backend (a fresh SQLite file, PostgreSQL schema or MariaDB database, dropped after),
``--customers`` deterministic customers (persons and organisations, Chinese and Latin
names, one to three E.164 phones, emails, skewed tags, addresses in China, the EU and
the US, birthdays, key dates, profile facts, consents with later withdrawals,
identifiers) are loaded twice into the same database: into crmcore's store with
``Store.import_customers`` (normaliser and history off; its rate is reported), and into
a hand-designed schema (``bench_customer`` plus one indexed side table per multi-valued
part) at the driver's speed (``COPY``, driver ``executemany``). Then, for every query
kind, the crmcore query through the Store API and the hand-written SQL are run, their
answers compared (ids in order, or the count), and each timed as the median of
``--repeat`` runs (``--stream-only``: no query kinds, only the streaming). A crmcore run
is stopped after ``--timeout-seconds`` (reported ``> T s``) or when the process grows past
``--max-rss-mb``. Filters are timed as their first page (20 records ordered by id, as
``find`` returns them) and as their ``count``.
Streaming all customers is compared with a Core ``select`` of crmcore's own rows (raw
tuples) and of the hand schema's customer rows (as dicts). Peak memory is the growth of
the process's peak RSS (``VmHWM``, reset after ``malloc_trim`` before each phase and
each query kind); run two sizes to see whether it is flat in the number of customers. On
SQLite it includes SQLite's page cache (crmcore asks for 64 MiB per connection), which
fills with the database until that cap: compare sizes past it, or on PostgreSQL. The
crmcore runs stop after ``--timeout-seconds`` with ``SIGALRM`` (Linux/Unix, main
thread).

Filters that need API not every crmcore has are built by adapters (:func:`birthday_window`,
:func:`reachable`): missing API reports ``n/a (not supported)``; a backend refusing a
query with a coded error reports ``n/a (<code>)``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import os
import signal
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import sqlalchemy as sa
from _bench_queries_data import BIRTH_YEARS, Probe, customer_at, find_probe, hand_rows, hand_schema
from sqlalchemy import MetaData, Select, Table, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.selectable import CompoundSelect

import crmcore.query
from crmcore.errors import CrmError
from crmcore.query import AnyFilter, Field, Or, Query, Search
from crmcore.storage import Store
from crmcore.storage.sqlalchemy import SqlBackend, create_backend, make_engine

__all__ = ["birthday_window", "main", "reachable"]

# ------------------------------------------------------------------ adapters (new API)

WINDOW = ("12-25", "01-07")
"""The birthday window: the next 14 days from 25 December, wrapping the year end."""


def birthday_window(start: str, end: str) -> AnyFilter | None:
    """Birthdays between month-days ``start`` and ``end`` (wrapping the year end).

    ``Field.month_day_between`` when crmcore has it; otherwise an ``Or`` of date
    ranges over every birth year the data holds (the same answer on this data).
    """
    method = getattr(Field("person.birthday"), "month_day_between", None)
    if callable(method):
        built: AnyFilter = method(start, end)
        return built
    field = Field("person.birthday")
    wraps = int(end < start)
    years = range(BIRTH_YEARS.start - 1, BIRTH_YEARS.stop)
    ranges = [(field >= f"{y}-{start}") & (field <= f"{y + wraps}-{end}") for y in years]
    return Or(filters=tuple(ranges))


def reachable(channel: str, purpose: str) -> AnyFilter | None:
    """``crmcore.query.Reachable(channel=..., purpose=...)``, or ``None`` when missing."""
    factory = getattr(crmcore.query, "Reachable", None)
    if factory is None:
        return None
    built: AnyFilter = factory(channel=channel, purpose=purpose)
    return built


# ------------------------------------------------------------------ databases


@contextlib.contextmanager
def fresh_database(dialect: str, server_url: str | None) -> Iterator[str]:
    """A new SQLite file, PostgreSQL schema or MariaDB database; removed afterwards."""
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="crmcore-benchq-") as directory:
            yield f"sqlite:///{directory}/bench.db"
        return
    assert server_url is not None
    name = f"crmcore_benchq_{uuid.uuid4().hex[:10]}"
    quoted = f'"{name}"' if dialect == "postgresql" else f"`{name}`"
    admin = sa.create_engine(make_engine(server_url).url, isolation_level="AUTOCOMMIT")
    create = "SCHEMA" if dialect == "postgresql" else "DATABASE"
    charset = "" if dialect == "postgresql" else " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE {create} {quoted}{charset}"))
    try:
        url = make_engine(server_url).url
        if dialect == "postgresql":
            url = url.update_query_dict({"options": f"-csearch_path={name}"})
        else:
            url = url.set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        cascade = " CASCADE" if dialect == "postgresql" else ""
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP {create} IF EXISTS {quoted}{cascade}"))
        admin.dispose()


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics of every table of this database (crmcore's and ours).

    On PostgreSQL each table is also vacuumed (``VACUUM ANALYZE``), as autovacuum would
    soon do, so that index-only scans of either schema do not depend on whether
    autovacuum happened to reach its table during the run.
    """
    dialect = engine.dialect.name
    with engine.connect() as connection:
        if dialect == "sqlite":
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
            return
        tables = sa.inspect(connection).get_table_names()
        connection.commit()
    quote = engine.dialect.identifier_preparer.quote
    statement = "VACUUM ANALYZE" if dialect == "postgresql" else "ANALYZE TABLE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            connection.exec_driver_sql(f"{statement} {quote(table)}")


# ------------------------------------------------------------------ memory and budgets


def rss_mb() -> float:
    """Resident set size of this process now, in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    """Peak resident set size of this process (``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def peak_growth(into: dict[str, float], phase: str) -> Iterator[None]:
    """Record how far the peak RSS rose above the RSS at the start of ``phase``.

    Freed memory is first handed back to the system (``malloc_trim``), so what an
    earlier phase left behind does not hide this phase's growth.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    base = rss_mb()
    try:
        yield
    finally:
        into[phase] = max(into.get(phase, 0.0), peak_mb() - base)


class OverBudget(BaseException):
    """A crmcore run took longer than its time budget or grew past the memory cap.

    A ``BaseException``, as ``KeyboardInterrupt`` is, so no ``except Exception`` in
    the code under test swallows or translates it.
    """


@contextlib.contextmanager
def budget(seconds: float, max_rss: float) -> Iterator[None]:
    """Raise :class:`OverBudget` in this (the main) thread past ``seconds`` or ``max_rss`` MB."""
    deadline = time.perf_counter() + seconds

    def tick(signum: int, frame: FrameType | None) -> None:
        if time.perf_counter() > deadline:
            raise OverBudget(f"> {seconds:g} s")
        if rss_mb() > max_rss:
            raise OverBudget(f"> {max_rss:g} MB")

    previous = signal.signal(signal.SIGALRM, tick)
    signal.setitimer(signal.ITIMER_REAL, 0.2, 0.2)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------ loading


def hand_insert(
    connection: Connection, tables: dict[str, Table], rows: dict[str, list[Any]]
) -> None:
    """Insert the hand schema's rows at the driver's speed, as a hand-written loader would.

    PostgreSQL: ``COPY``; SQLite and MariaDB: the driver's ``executemany`` of one
    positional ``INSERT`` per table (pymysql folds it into multi-row ``INSERT`` s).
    SQLAlchemy's per-row parameter processing would otherwise be most of the load time.
    """
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    driver = connection.connection.driver_connection
    assert driver is not None
    for name, table in tables.items():
        if not rows[name]:
            continue
        names = [c.name for c in table.columns]
        tuples = [tuple(row.get(column) for column in names) for row in rows[name]]
        columns = ", ".join(quote(column) for column in names)
        target = dialect.identifier_preparer.format_table(table)
        if dialect.name == "postgresql":
            copy_sql = f"COPY {target} ({columns}) FROM STDIN"
            with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in tuples:
                    copy.write_row(row)
            continue
        if dialect.name == "sqlite":  # as SQLAlchemy stores them there
            tuples = [
                tuple(v.isoformat() if isinstance(v, dt.date) else v for v in row) for row in tuples
            ]
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        statement = f"INSERT INTO {target} ({columns}) VALUES ({', '.join([marker] * len(names))})"
        cursor = driver.cursor()
        try:
            cursor.executemany(statement, tuples)
        finally:
            cursor.close()


def load(
    store: Store, engine: Engine, tables: dict[str, Table], count: int, chunk: int
) -> tuple[float, float]:
    """Load ``count`` customers into crmcore's store and the hand schema; seconds of each."""
    crm_seconds = hand_seconds = 0.0
    for first in range(0, count, chunk):
        batch = [customer_at(i) for i in range(first, min(count, first + chunk))]
        gc.collect()
        start = time.perf_counter()
        report = store.import_customers(batch, batch_size=1000, on_outcome=lambda _: None)
        crm_seconds += time.perf_counter() - start
        assert report.created == len(batch), report
        start = time.perf_counter()
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
        for customer in batch:
            for name, table_rows in hand_rows(customer).items():
                rows[name] += table_rows
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:  # hand_insert works on the driver: commit() must know a transaction is open
                connection.begin()
            hand_insert(connection, tables, rows)
            connection.commit()
        hand_seconds += time.perf_counter() - start
        if (first // chunk) % 20 == 19:
            print(f"    ... {first + len(batch):,} loaded", flush=True)
    return crm_seconds, hand_seconds


# ------------------------------------------------------------------ query kinds


@dataclass(frozen=True)
class FilterKind:
    """A filter, in crmcore's query language and as a hand-written select of customer ids."""

    name: str
    where: AnyFilter | None
    """``None``: this crmcore has no API for it (reported ``n/a (not supported)``)."""
    ids: Select[Any] | CompoundSelect[Any]
    unique: bool = False
    """The hand select yields each customer id at most once (no ``DISTINCT`` needed)."""


def filter_kinds(t: dict[str, Table], probe: Probe) -> list[FilterKind]:
    """Every filter kind the docs show, each with its hand-written SQL."""
    digits, (start, end) = probe.phone[-8:], WINDOW
    phone, search, birthday, consent = t["phone"], t["search"], t["birthday"], t["consent"]

    def ids(table: Table, *where: Any) -> Select[Any]:
        return select(table.c.customer_id).where(*where)

    def eq(name: str, path: str, table: str, column: str, value: str) -> FilterKind:
        return FilterKind(name, Field(path) == value, ids(t[table], t[table].c[column] == value))

    audience = (consent.c.channel == "sms", consent.c.purpose == "marketing")
    by_number = ids(phone, phone.c.digits.like(f"%{digits}%"))
    return [
        eq("phone =", "phones.number", "phone", "e164", probe.phone),
        eq("email =", "emails.address", "email", "address", probe.email),
        eq("identifier =", "identifiers.value", "identifier", "value", probe.card),
        FilterKind(
            "tag contains",
            Field("tags").contains("vip"),
            ids(t["tag"], t["tag"].c.tag == "vip"),
            True,
        ),
        eq("region", "addresses.region", "address", "region", "广东省"),
        FilterKind(
            "birthday window",
            birthday_window(start, end),
            ids(birthday, sa.or_(birthday.c.month_day >= start, birthday.c.month_day <= end)),
            True,
        ),
        FilterKind(
            "lifecycle stage",
            Field("lifecycle_stage") == "member",
            select(t["customer"].c.id).where(t["customer"].c.lifecycle_stage == "member"),
            True,
        ),
        eq("fact key", "facts.key", "fact", "key", "wine"),
        FilterKind(
            "consent audience",
            reachable("sms", "marketing"),
            ids(consent, *audience, consent.c.granted_latest.is_(True)),
        ),
        FilterKind(
            "search name", Search(text="Schmidt"), ids(search, search.c.text.like("%schmidt%"))
        ),
        FilterKind(
            "search name (CJK)", Search(text="王芳"), ids(search, search.c.text.like("%王%芳%"))
        ),
        FilterKind(
            "search number",
            Search(text=digits),
            # a number is looked for among the texts too (Search's definition)
            by_number.union(ids(search, search.c.text.like(f"%{digits}%"))),
            True,
        ),
    ]


# ------------------------------------------------------------------ measuring


@dataclass
class Result:
    """One row of the report."""

    kind: str
    backend: str
    crm_ms: float | None
    crm_note: str
    hand_ms: float
    rows: int
    answer: str


class Bench:
    """Runs and times each query kind on one loaded database."""

    def __init__(
        self, url: str, store: Store, tables: dict[str, Table], args: argparse.Namespace
    ) -> None:
        self.url, self.store, self.tables, self.args = url, store, tables, args
        self.backend = (
            store.backend.engine.dialect.name if isinstance(store.backend, SqlBackend) else "?"
        )
        self.results: list[Result] = []
        self.memory: dict[str, float] = {}
        """Peak RSS growth of each crmcore query kind's runs, in MB."""

    @property
    def engine(self) -> Engine:
        """The store's engine, shared by the hand-written SQL (same pool, same settings)."""
        assert isinstance(self.store.backend, SqlBackend)
        return self.store.backend.engine

    def reopen(self) -> None:
        """A fresh store after a run was stopped mid-query (its connection may be unusable)."""
        with contextlib.suppress(Exception):
            self.store.close()
        self.store = Store(create_backend(self.url, migrate=False), normaliser=None, history=False)

    def crm(self, work: Callable[[Store], Any]) -> tuple[float | None, Any, str]:
        """Median milliseconds, answer and note of a crmcore run, within the budget."""
        limit, cap = self.args.timeout_seconds, self.args.max_rss_mb
        times: list[float] = []
        answer: Any = None
        try:
            while len(times) < self.args.repeat + 1 and (not times or sum(times) < limit):
                gc.collect()
                start = time.perf_counter()
                with budget(limit, cap):
                    answer = work(self.store)
                times.append(time.perf_counter() - start)
        except OverBudget as stop:
            self.reopen()
            if not times:
                return None, None, str(stop)
        except CrmError as error:  # a backend refusing what it cannot express, with its code
            problems = getattr(error, "problems", ())
            return None, None, f"n/a ({problems[0].code if problems else error.code})"
        timed = times[1:] or times  # the first run warms up (and gives the answer)
        return statistics.median(timed) * 1000, answer, ""

    def hand(self, work: Callable[[Connection], Any]) -> tuple[float, Any]:
        """Median milliseconds and answer of the hand-written SQL (one warm-up run first)."""
        times: list[float] = []
        answer: Any = None
        for _ in range(self.args.repeat + 1):
            gc.collect()
            start = time.perf_counter()
            with self.engine.connect() as connection:
                answer = work(connection)
            times.append(time.perf_counter() - start)
        return statistics.median(times[1:]) * 1000, answer

    def compare(
        self,
        kind: str,
        crm_work: Callable[[Store], Any] | None,
        hand_work: Callable[[Connection], Any],
    ) -> None:
        """Time both, check they answer the same, and add the row."""
        hand_ms, hand_answer = self.hand(hand_work)
        rows = hand_answer if isinstance(hand_answer, int) else len(hand_answer)
        if crm_work is None:
            self.results.append(
                Result(kind, self.backend, None, "n/a (not supported)", hand_ms, rows, "-")
            )
            return
        with peak_growth(self.memory, kind):
            crm_ms, crm_answer, note = self.crm(crm_work)
        if crm_ms is None:
            answer = "not checked"
        elif crm_answer == hand_answer:
            answer = "same"
        else:
            answer = f"DIFFERENT ({_size(crm_answer)} vs {_size(hand_answer)})"
        self.results.append(Result(kind, self.backend, crm_ms, note, hand_ms, rows, answer))
        print(f"    {kind:<28} {_ms(crm_ms, note):>12} {hand_ms:>10.2f} ms  {answer}", flush=True)

    def filters(self, kinds: Sequence[FilterKind]) -> None:
        """Each filter as its first page (by id) and as its count."""
        c = self.tables["customer"]
        size = self.args.page_size
        for kind in kinds:
            query = None if kind.where is None else Query(where=kind.where, limit=size)
            distinct_ids = kind.ids
            if not kind.unique and isinstance(kind.ids, Select):
                distinct_ids = kind.ids.distinct()
            if isinstance(kind.ids, Select):
                page = select(c).where(c.c.id.in_(kind.ids))
            else:  # MariaDB runs IN (... UNION ...) once per row: join the ids instead
                found = distinct_ids.subquery()
                page = select(c).join(found, c.c.id == found.c.customer_id)
            page = page.order_by(c.c.id).limit(size)
            count = select(func.count()).select_from(distinct_ids.subquery())
            self.compare(f"{kind.name}: page", _crm(query), _hand(page))
            self.compare(f"{kind.name}: count", _crm(query, count=True), _hand(count, count=True))

    def pages(self) -> None:
        """First and deep keyset pages by display name and by a nested field (family name)."""
        c = self.tables["customer"]
        size, deep = self.args.page_size, self.args.deep_page
        persons = (Field("kind") == "person", c.c.kind == "person")
        for order, column, (where, hand_where) in (
            ("display_name", c.c.display_name, (None, None)),
            ("person.name.family", c.c.family_name, persons),
        ):
            label = order.replace("_", " ")
            query = Query(where=where, order_by=(order,), limit=size)
            ordered = select(c).order_by(column, c.c.id).limit(size)
            if hand_where is not None:
                ordered = ordered.where(hand_where)
            self.compare(f"page 1 by {label}", _crm(query), _hand(ordered))
            position = (deep - 1) * size - 1
            with self.engine.connect() as connection:
                last = connection.execute(
                    ordered.with_only_columns(column, c.c.id).limit(1).offset(position)
                ).first()
            if last is None:
                continue
            with self.store.unit_of_work() as uow:
                cursor = query.cursor_for(uow.customers.get(last[1]))
            after = sa.or_(column > last[0], sa.and_(column == last[0], c.c.id > last[1]))
            self.compare(
                f"page {deep} by {label}",
                _crm(Query(where=where, order_by=(order,), limit=size, after=cursor)),
                _hand(ordered.where(after)),
            )


def _size(answer: Any) -> str:
    return str(answer) if isinstance(answer, int) else f"{len(answer)} ids"


def _ms(ms: float | None, note: str) -> str:
    return note if ms is None else f"{ms:,.2f} ms"


def _crm(query: Query | None, *, count: bool = False) -> Callable[[Store], Any] | None:
    """A crmcore run through the Store API: the ids of ``find``, or ``count`` (``None``: n/a)."""

    def run(store: Store) -> list[str] | int:
        assert query is not None
        with store.unit_of_work() as uow:
            return (
                uow.customers.count(query) if count else [c.id for c in uow.customers.find(query)]
            )

    return None if query is None else run


def _hand(statement: Select[Any], *, count: bool = False) -> Callable[[Connection], Any]:
    """A hand-written SQL run: the ids of the rows, or the count."""

    def run(connection: Connection) -> list[str] | int:
        if count:
            return int(connection.execute(statement).scalar_one())
        return [row[0] for row in connection.execute(statement).all()]

    return run


# ------------------------------------------------------------------ streaming


def keyset_rows(connection: Connection, table: Table, batch: int) -> Iterator[Any]:
    """Every row of ``table`` by id, ``batch`` at a time (as crmcore's scan reads)."""
    first = select(table).order_by(table.c.id).limit(batch)
    last: str | None = None
    while True:
        statement = first if last is None else first.where(table.c.id > last)
        rows = connection.execute(statement).all()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].id


def stream(bench: Bench, count: int, memory: dict[str, float]) -> list[str]:
    """Stream every customer: crmcore's store against Core selects; the report lines."""
    from crmcore.storage.sqlalchemy import TABLES

    batch = 1000

    def crm() -> int:
        return sum(1 for _ in bench.store.stream_customers(batch_size=batch))

    def core_crm_rows() -> int:
        with bench.engine.connect() as connection:
            return sum(1 for _ in keyset_rows(connection, TABLES["customer"], batch))

    def core_hand_dicts() -> int:
        with bench.engine.connect() as connection:
            rows = keyset_rows(connection, bench.tables["customer"], batch)
            return sum(1 for _ in (dict(row._mapping) for row in rows))

    rates: dict[str, float] = {}
    for label, work in (
        ("crmcore Store.stream_customers", crm),
        ("Core select of crm_customer rows (tuples)", core_crm_rows),
        ("Core select of bench_customer rows (dicts)", core_hand_dicts),
    ):
        with peak_growth(memory, f"stream: {label.split(' (')[0]}"):
            start = time.perf_counter()
            streamed = work()
            rates[label] = streamed / (time.perf_counter() - start)
        assert streamed == count, (label, streamed)
    crm_rate, *floors = rates.values()
    lines = [f"{label}: {rate:,.0f} rows/s" for label, rate in rates.items()]
    lines.append(
        "streaming ratio (crmcore / Core): "
        + ", ".join(
            f"{crm_rate / rate:.2f}x {name.split(' of ')[1]}"
            for name, rate in zip(list(rates)[1:], floors, strict=True)
        )
    )
    return lines


# ------------------------------------------------------------------ one backend


def run_backend(
    dialect: str, server_url: str | None, args: argparse.Namespace
) -> tuple[list[Result], list[str]]:
    """Load, query and stream on one fresh database; the rows and the report lines."""
    n = args.customers
    memory: dict[str, float] = {}
    notes: list[str] = []
    with fresh_database(dialect, server_url) as url:
        store = Store(create_backend(url), normaliser=None, history=False)
        assert isinstance(store.backend, SqlBackend)
        metadata = MetaData()
        tables = hand_schema(metadata)
        metadata.create_all(store.backend.engine)
        print(f"  {dialect}: loading {n:,} customers ...", flush=True)
        with peak_growth(memory, "load (both)"):
            crm_s, hand_s = load(store, store.backend.engine, tables, n, args.chunk)
        analyze(store.backend.engine)
        notes.append(
            f"import: crmcore Store.import_customers (normaliser and history off) "
            f"{n / crm_s:,.0f} customers/s ({crm_s:.1f} s); hand schema driver insert "
            f"{n / hand_s:,.0f} customers/s ({hand_s:.1f} s)"
        )
        print(f"    {notes[-1]}", flush=True)
        bench = Bench(url, store, tables, args)
        if not args.stream_only:
            bench.filters(filter_kinds(tables, find_probe(n)))
            bench.pages()
        notes += stream(bench, n, memory)
        top = sorted(bench.memory.items(), key=lambda item: -item[1])[:3]
        memory |= {f"crmcore {kind}": mb for kind, mb in top}
        notes.append(
            "peak RSS growth (VmHWM over the RSS at the start of each; for queries the three "
            "largest): " + ", ".join(f"{phase} {mb:+.1f} MB" for phase, mb in memory.items())
        )
        bench.store.close()
    for line in notes[1:]:
        print(f"    {line}", flush=True)
    return bench.results, [f"{dialect}: {line}" for line in notes]


# ------------------------------------------------------------------ report


def markdown(results: Sequence[Result], timeout: float) -> str:
    """The report table: kind | backend | crmcore ms | hand SQL ms | ratio | rows | answer."""
    lines = [
        "| kind | backend | crmcore ms | hand SQL ms | ratio | rows | same answer |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for r in results:
        if r.crm_ms is not None:
            crm, ratio = f"{r.crm_ms:,.2f}", f"{r.crm_ms / r.hand_ms:,.1f}x"
        elif r.crm_note.startswith(">"):
            crm, ratio = r.crm_note, f"> {timeout * 1000 / r.hand_ms:,.0f}x"
        else:
            crm, ratio = r.crm_note, "-"
        lines.append(
            f"| {r.kind} | {r.backend} | {crm} | {r.hand_ms:,.2f} | {ratio} | {r.rows:,} "
            f"| {r.answer} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the arguments, run every backend asked for, print the Markdown report."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per query (median)")
    parser.add_argument("--timeout-seconds", type=float, default=10.0, help="cap per crmcore query")
    parser.add_argument(
        "--max-rss-mb", type=float, default=4096.0, help="stop a crmcore query past this RSS"
    )
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--deep-page", type=int, default=50)
    parser.add_argument("--chunk", type=int, default=5_000, help="customers per load batch")
    parser.add_argument("--postgres", help="PostgreSQL URL (a fresh schema is made and dropped)")
    parser.add_argument("--mysql", help="MariaDB/MySQL URL (a fresh database is made and dropped)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite file")
    parser.add_argument(
        "--stream-only", action="store_true", help="load, then time only the streaming"
    )
    args = parser.parse_args()
    if args.customers < args.page_size * args.deep_page:
        parser.error("--customers must be at least --page-size x --deep-page")
    backends = [("sqlite", None)] if not args.no_sqlite else []
    backends += [(d, u) for d, u in (("postgresql", args.postgres), ("mysql", args.mysql)) if u]
    results: list[Result] = []
    notes: list[str] = []
    for dialect, url in backends:
        rows, lines = run_backend(dialect, url, args)
        results += rows
        notes += lines
    window = birthday_window(*WINDOW)
    print(
        f"\n{args.customers:,} customers; median of {args.repeat} runs after a warm-up; "
        f"crmcore capped at {args.timeout_seconds:g} s per query; birthday window as "
        + (
            f"an Or of {len(window.filters)} date ranges"
            if isinstance(window, Or)
            else "one filter"
        )
        + "; consent audience "
        + ("by Reachable" if reachable("sms", "marketing") else "not supported by this crmcore")
        + "\n"
    )
    print(markdown(results, args.timeout_seconds))
    print()
    for line in notes:
        print(f"- {line}")


if __name__ == "__main__":
    main()
