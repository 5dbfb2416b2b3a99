"""Revisions 0009, 0011, 0013 and 0014 recompute the ``@dedupe`` blocking keys a database holds.

A database indexed with the keys of before (``name:wei zhang``, no birth year or
postal code) is upgraded: its entries become exactly the keys of today, so blocking
inside the database again equals the pure rule (SQLite, PostgreSQL, MariaDB).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import delete, insert, select, text
from tests.conftest import SQL_DIALECTS
from tests.unit.dedupe._synthetic import generate

from crmcore.models import Customer, Identifier, IdentifierKind, PostalAddress
from crmcore.rules import dedupe as rules
from crmcore.storage import connect, dedupe
from crmcore.storage.sqlalchemy import make_engine, upgrade
from crmcore.storage.sqlalchemy._migrate import VERSION_TABLE
from crmcore.storage.sqlalchemy._schema import INDEX


def _to_old_name_keys(url: str) -> int:
    """Rewrite the ``@dedupe.name`` entries as revision 0008 wrote them; set the revision.

    The tables of later revisions (0010's decisions and merged ids) are dropped, so the
    database is what revision 0008 left.
    """
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            rows = [
                dict(r._mapping)
                for r in connection.execute(select(INDEX).where(INDEX.c.path == "@dedupe.name"))
            ]
            connection.execute(delete(INDEX).where(INDEX.c.path == "@dedupe.name"))
            changed = 0
            for row in rows:
                old = str(row["text_value"]).split("|", 1)[0]
                changed += old != row["text_value"]
                row["text_value"] = old
                row["text_full"] = None
            seen: set[tuple[str, str]] = set()
            kept = []
            for row in rows:  # two contexts of one name were one key before
                if (row["customer_id"], row["text_value"]) not in seen:
                    seen.add((row["customer_id"], row["text_value"]))
                    kept.append(row)
            connection.execute(insert(INDEX), kept)
            connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0008'"))
            connection.execute(text("DROP TABLE crm_merged_id"))
            connection.execute(text("DROP TABLE crm_not_duplicate"))
        return changed
    finally:
        engine.dispose()


def _entries(url: str, blocking_pass: str) -> set[tuple[str, str]]:
    """The ``(customer id, key)`` entries of one blocking pass a database holds."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(INDEX.c.customer_id, INDEX.c.text_value).where(
                    INDEX.c.path == f"@dedupe.{blocking_pass}"
                )
            )
            return {(str(a), str(b)) for a, b in rows}
    finally:
        engine.dispose()


def _upgrade_restores_the_keys(
    url: str, customers: list[Customer], blocking_pass: str, make_old: Callable[[str], int]
) -> None:
    """Stored today, made old by ``make_old``, upgraded: the pass's entries and the SQL
    blocking equal the pure rule's again."""
    with connect(url, normaliser=None, indexes=["@dedupe"]) as store:
        assert store.import_customers(customers).rejected == 0
    today = {
        (c.id, key.split(":", 1)[1])
        for c in customers
        for key in rules.blocking_keys(c)
        if key.startswith(f"{blocking_pass}:")
    }
    assert _entries(url, blocking_pass) == today
    assert make_old(url) > 10
    assert _entries(url, blocking_pass) != today
    upgrade(url)
    assert _entries(url, blocking_pass) == today
    with connect(url, normaliser=None, migrate=False) as store:
        found = dedupe.candidates(store)
    expected = rules.candidate_pairs(
        [(c.id, rules.blocking_keys(c)) for c in customers], max_block_size=100
    )
    assert found.pairs == expected.pairs
    assert found.report == expected.report


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_upgrading_recomputes_the_old_name_keys(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    customers = list(generate(120, seed=3, hard=True).customers)
    _upgrade_restores_the_keys(sql_database(dialect), customers, "name", _to_old_name_keys)


_NEW_PASSES = ("@dedupe.identifier_near", "@dedupe.email_local")


def _without_passes(url: str, paths: tuple[str, ...], revision: str) -> int:
    """Drop the entries of the passes at ``paths`` and set the revision: what the revision
    before the one that added them left. The entries dropped."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            dropped = connection.execute(delete(INDEX).where(INDEX.c.path.in_(paths)))
            connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '{revision}'"))
        return int(dropped.rowcount)
    finally:
        engine.dispose()


def _to_revision_0010(url: str) -> int:
    """Drop the entries of the passes revision 0011 added, as revision 0010 left them."""
    return _without_passes(url, _NEW_PASSES, "0010")


def _near_customers() -> list[Customer]:
    """Synthetic customers plus people whose ids are one typo apart (FEBRL's damage)."""
    customers = list(generate(60, seed=5, hard=True).customers)
    for i, value in enumerate(("4178304", "4173804", "6646723", "6646273")):
        customers.append(
            Customer.person_named(
                family=("Cupo", "Dolan", "Wilde", "Wilde")[i], given="Joshua", id=f"n{i}",
                identifiers=(Identifier(kind=IdentifierKind.NATIONAL_ID, value=value),),
            )
        )  # fmt: skip
    return customers


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_upgrading_adds_the_identifier_near_and_email_local_keys(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    """Revision 0011 backfills the new passes' keys: blocking in SQL equals the pure rule again."""
    customers = _near_customers()
    url = sql_database(dialect)
    with connect(url, normaliser=None, indexes=["@dedupe"]) as store:
        assert store.import_customers(customers).rejected == 0
    expected = rules.candidate_pairs(
        [(c.id, rules.blocking_keys(c)) for c in customers], max_block_size=100
    )
    assert ("n0", "n1") in {(p.left, p.right) for p in expected.pairs}
    assert _to_revision_0010(url) > 10
    upgrade(url)
    with connect(url, normaliser=None, migrate=False) as store:
        found = dedupe.candidates(store)
    assert found.pairs == expected.pairs
    assert found.report == expected.report


def _to_old_address_keys(url: str) -> int:
    """Cut the house numbers off the ``@dedupe.address`` keys, as revision 0012 left them.

    The old key was the postal code and the street's first eight letters and digits:
    every customer of one street and postal code shared it, whatever the number.
    """
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            rows = [
                dict(r._mapping)
                for r in connection.execute(select(INDEX).where(INDEX.c.path == "@dedupe.address"))
            ]
            connection.execute(delete(INDEX).where(INDEX.c.path == "@dedupe.address"))
            kept: dict[tuple[str, str], dict[str, object]] = {}
            for row in rows:
                row["text_value"] = str(row["text_value"]).rsplit("|", 1)[0]
                row["text_full"] = None
                kept.setdefault((str(row["customer_id"]), row["text_value"]), row)
            connection.execute(insert(INDEX), list(kept.values()))
            connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0012'"))
        return len(rows)
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_upgrading_puts_the_house_numbers_into_the_address_keys(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    """Revision 0013 recomputes ``@dedupe.address``: blocking in SQL equals the pure rule again."""
    customers = list(generate(150, seed=7, hard=True).customers)
    _upgrade_restores_the_keys(sql_database(dialect), customers, "address", _to_old_address_keys)


def _to_revision_0013(url: str) -> int:
    """Drop the ``@dedupe.address_sorted`` entries, as revision 0013 left the index."""
    return _without_passes(url, ("@dedupe.address_sorted",), "0013")


def _swapped_postcodes() -> list[Customer]:
    """Synthetic customers plus households whose copies have two postcode digits swapped."""
    customers = list(generate(80, seed=11, hard=True).customers)
    for i in range(6):
        customers.append(
            Customer.person_named(
                family=("Gaskin", "Stubbs", "Dixon")[i % 3], given="Kirra", id=f"s{i}",
                addresses=(PostalAddress(country="AU", postal_code=("6085", "6058")[i % 2],
                                         street_lines=(f"Minchin Street {i // 2}",)),),
            )
        )  # fmt: skip
    return customers


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_upgrading_adds_the_address_sorted_keys(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    """Revision 0014 backfills ``@dedupe.address_sorted``: SQL blocking equals the rule again."""
    customers = _swapped_postcodes()
    expected = rules.candidate_pairs(
        [(c.id, rules.blocking_keys(c)) for c in customers], max_block_size=100
    )
    assert ("s0", "s1") in {(p.left, p.right) for p in expected.pairs}
    _upgrade_restores_the_keys(
        sql_database(dialect), customers, "address_sorted", _to_revision_0013
    )


def _to_revision_0013_mid_backfill(url: str) -> int:
    """Revision 0013's index with its ``@dedupe`` backfill part-done by an older release:
    the pending row's ``after_id`` is the last customer, so nothing is left to run."""
    dropped = _to_revision_0013(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            last = connection.execute(text("SELECT MAX(id) FROM crm_customer")).scalar_one()
            connection.execute(
                text("INSERT INTO crm_index_backfill (path, after_id) VALUES ('@dedupe', :last)"),
                {"last": last},
            )
        return dropped
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_a_part_done_dedupe_backfill_starts_over_for_the_address_sorted_keys(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    """A ``@dedupe`` backfill an older release left part-done is run again from the first
    customer by 0014, so no customer is left without its ``address_sorted`` keys."""
    _upgrade_restores_the_keys(
        sql_database(dialect),
        _swapped_postcodes(),
        "address_sorted",
        _to_revision_0013_mid_backfill,
    )


def _scheduled_backfills(url: str, from_revision: str) -> list[str]:
    """The backfill rows the migrations after ``from_revision`` schedule (none run)."""
    from alembic import command

    from crmcore.storage.sqlalchemy._migrate import alembic_config

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # the engine's driver autocommits
            connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '{from_revision}'"))
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            rows = connection.execute(text("SELECT path FROM crm_index_backfill ORDER BY path"))
            found = [str(r[0]) for r in rows]
            connection.rollback()
            return found
    finally:
        engine.dispose()


def test_a_pending_rewrite_of_the_whole_index_covers_the_dedupe_backfill(
    sql_database: Callable[[str], str],
) -> None:
    """From 0011, 0012 schedules the whole index and 0013 and 0014 add nothing; from 0012
    and from 0013 one backfill of ``@dedupe``: each key is written once."""
    url = sql_database("sqlite")
    with connect(url, normaliser=None, indexes=["@dedupe"]) as store:
        assert store.import_customers(list(generate(10, seed=2).customers)).rejected == 0
    assert _scheduled_backfills(url, "0011") == ["*"]
    assert _scheduled_backfills(url, "0012") == ["@dedupe"]
    assert _scheduled_backfills(url, "0013") == ["@dedupe"]


def test_without_declared_dedupe_keys_only_the_whole_index_is_scheduled(
    sql_database: Callable[[str], str],
) -> None:
    url = sql_database("sqlite")
    with connect(url, normaliser=None) as store:
        assert store.import_customers(list(generate(10, seed=2).customers)).rejected == 0
    assert _scheduled_backfills(url, "0011") == ["*"]
    assert _scheduled_backfills(url, "0012") == []
    assert _scheduled_backfills(url, "0013") == []


@pytest.mark.parametrize(
    ("start", "scheduled"), [("0011", ["*"]), ("0012", ["@dedupe"]), ("0013", ["@dedupe"])]
)
def test_the_offline_script_schedules_the_same_backfills(
    start: str, scheduled: list[str], sql_database: Callable[[str], str]
) -> None:
    """The SQL a DBA runs (offline mode) schedules what the online upgrade does."""
    import contextlib
    import io
    import sqlite3

    from alembic import command

    from crmcore.storage.sqlalchemy._migrate import alembic_config

    url = sql_database("sqlite")
    with connect(url, normaliser=None, indexes=["@dedupe"]) as store:
        assert store.import_customers(list(generate(10, seed=2).customers)).rejected == 0
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", "sqlite://")
    config.attributes["version_table"] = VERSION_TABLE
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        command.upgrade(config, f"{start}:head", sql=True)
    database = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        database.execute(f"UPDATE {VERSION_TABLE} SET version_num = '{start}'")
        database.executescript(out.getvalue())
        found = [r[0] for r in database.execute("SELECT path FROM crm_index_backfill")]
    finally:
        database.close()
    assert sorted(found) == scheduled
