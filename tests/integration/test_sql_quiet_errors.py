"""Quiet, true errors from the SQL backend: the real cause, checked connections, no lost text."""

from __future__ import annotations

import logging
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, make_url, text

from crmcore.errors import StorageError
from crmcore.models import Customer, CustomerKind, PersonName, PersonProfile
from crmcore.storage import Store, connect
from crmcore.storage.sqlalchemy import SqlBackend, make_engine, normalise_url


def _customer(number: int, name: str = "李") -> Customer:
    return Customer(
        id=f"c{number}",
        kind=CustomerKind.PERSON,
        display_name=name,
        notes="x" * 3000,
        person=PersonProfile(name=PersonName(given=name)),
    )


def _small_sqlite(tmp_path: Path) -> Store:
    """A SQLite store whose file cannot grow past 60 pages (``PRAGMA max_page_count``)."""
    store = connect(f"sqlite:///{tmp_path / 'crm.db'}")
    backend = store.backend
    assert isinstance(backend, SqlBackend)
    engine = backend.engine

    @event.listens_for(engine, "connect")
    def _small(dbapi_connection: Any, _: object) -> None:
        dbapi_connection.execute("PRAGMA max_page_count=60")

    engine.dispose()
    return store


def _causes(error: BaseException) -> str:
    texts = []
    while error is not None:
        texts.append(str(error))
        error = error.__cause__  # type: ignore[assignment]
    return " | ".join(texts)


def test_a_full_sqlite_database_reports_that_it_is_full(tmp_path: Path) -> None:
    """A write into a full SQLite file says "database or disk is full", not a lost savepoint."""
    store = _small_sqlite(tmp_path)

    def write() -> None:
        with store.unit_of_work() as uow:
            for number in range(200):
                uow.customers.add(_customer(number))
            uow.commit()

    with pytest.raises(StorageError) as error:
        write()
    assert "database or disk is full" in str(error.value)
    assert "savepoint" not in _causes(error.value)


def test_a_full_sqlite_database_fails_an_import_with_its_cause(tmp_path: Path) -> None:
    """A bulk import into a full SQLite file fails with "database or disk is full"."""
    store = _small_sqlite(tmp_path)
    with pytest.raises(StorageError) as error:
        store.import_customers([_customer(number) for number in range(200)])
    assert "database or disk is full" in str(error.value)
    assert "savepoint" not in _causes(error.value)


@pytest.mark.parametrize("charset", ["utf8", "utf8mb3", "UTF8"])
def test_a_three_byte_utf8_charset_is_upgraded_to_utf8mb4(charset: str) -> None:
    """A MariaDB/MySQL URL asking for 3-byte utf8 connects with utf8mb4 instead."""
    url = normalise_url(f"mysql+pymysql://root@127.0.0.1:3306/crm?charset={charset}")
    assert url.query["charset"] == "utf8mb4"


@pytest.mark.mysql
def test_a_utf8_url_stores_four_byte_characters(sql_database: Callable[[str], str]) -> None:
    """With ?charset=utf8 an emoji and a rare CJK character are stored, never as ????."""
    url = make_url(sql_database("mysql")).update_query_dict({"charset": "utf8"})
    name = "李😀𠮷"
    with connect(url.render_as_string(hide_password=False)) as store:
        with store.unit_of_work() as uow:
            uow.customers.add(_customer(1, name))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.get("c1").display_name == name


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://u@127.0.0.1/crm", "mysql+pymysql://u@127.0.0.1/crm"]
)
def test_every_server_dialect_checks_pooled_connections(url: str) -> None:
    """Engines for PostgreSQL and MariaDB ping a pooled connection before handing it out."""
    engine = make_engine(url)
    try:
        assert engine.pool._pre_ping
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_first_unit_of_work_after_a_dropped_connection_succeeds(
    sql_database: Callable[[str], str],
) -> None:
    """A pooled PostgreSQL connection the server ended is replaced, not handed out."""
    tag = f"crmcore_edges_{uuid.uuid4().hex[:12]}"
    url = make_url(sql_database("postgresql")).update_query_dict({"application_name": tag})
    admin = create_engine(url.difference_update_query(["application_name", "options"]))
    with connect(url.render_as_string(hide_password=False)) as store:
        with store.unit_of_work() as uow:
            uow.customers.add(_customer(1))
            uow.commit()
        with admin.connect() as connection:  # only this test's own connections
            ended = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :tag"
                ),
                {"tag": tag},
            ).scalar()
        assert ended
        with store.unit_of_work() as uow:
            assert uow.customers.get("c1").display_name == "李"
    admin.dispose()


@pytest.mark.postgres
def test_a_small_re_import_logs_and_warns_nothing(
    sql_database: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    """Re-importing the same few customers into PostgreSQL gives no psycopg "pipeline aborted"."""
    with connect(sql_database("postgresql")) as store:
        store.import_customers([_customer(n) for n in range(3)])
        with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG):
            warnings.simplefilter("always")
            for _ in range(3):
                report = store.import_customers([_customer(n) for n in range(3)], upsert=True)
                assert report.ok
        messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
        assert not [m for m in messages if "pipeline" in m], messages
