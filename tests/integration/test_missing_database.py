"""A server URL naming a database or schema that does not exist: ``storage.invalid_url``.

Against the real PostgreSQL and MariaDB servers, with and without migrating on open.
"""

from __future__ import annotations

import uuid

import pytest
from tests.conftest import ServerSpace

from crmcore.errors import InvalidStorageURL, TransientStorageError
from crmcore.storage import connect
from crmcore.storage.sqlalchemy import upgrade


def _absent() -> str:
    return f"crmcore_absent_{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    "dialect",
    [
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
@pytest.mark.parametrize("migrate", [True, False])
def test_a_database_that_does_not_exist_is_an_invalid_url(
    request: pytest.FixtureRequest, dialect: str, migrate: bool
) -> None:
    """Connecting names the missing database, coded, never transient (nothing to retry)."""
    space: ServerSpace = request.getfixturevalue(f"{dialect}_space")
    name = _absent()
    url = space.base.set(database=name).render_as_string(hide_password=False)
    with pytest.raises(InvalidStorageURL) as raised:
        connect(url, migrate=migrate).close()
    assert raised.value.code == "storage.invalid_url"
    assert not isinstance(raised.value, TransientStorageError)
    assert f"database {name!r} does not exist" in str(raised.value)


@pytest.mark.postgres
def test_a_postgresql_schema_that_does_not_exist_is_an_invalid_url(
    postgresql_space: ServerSpace,
) -> None:
    """A search_path naming no schema: coded, naming the schema, not "no schema selected"."""
    name = _absent()
    url = postgresql_space.base.update_query_dict({"options": f"-csearch_path={name}"})
    text = url.render_as_string(hide_password=False)

    def opened() -> None:
        connect(text).close()

    def upgraded() -> None:
        upgrade(text)

    for attempt in (opened, upgraded):
        with pytest.raises(InvalidStorageURL) as raised:
            attempt()
        message = str(raised.value)
        assert f"schema {name!r} does not exist" in message
        assert "no schema has been selected" not in message
