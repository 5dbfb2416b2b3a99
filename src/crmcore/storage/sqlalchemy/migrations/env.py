"""Alembic environment for crmcore's schema.

crmcore runs it programmatically (:func:`crmcore.storage.sqlalchemy.upgrade`), handing
over an open connection in ``config.attributes["connection"]``. It also works from the
``alembic`` command line with ``-x url=...`` or ``sqlalchemy.url`` set.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from crmcore.storage.sqlalchemy._schema import metadata

VERSION_TABLE = "crmcore_alembic_version"

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("crmcore migrations need a database URL (-x url=...)")
    return url


if context.is_offline_mode():
    context.configure(
        url=_url(),
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    given = config.attributes.get("connection")
    if given is not None:
        _configure(given)
    else:
        engine = create_engine(_url())
        try:
            with engine.begin() as connection:
                _configure(connection)
        finally:
            engine.dispose()
