"""A server that cannot be reached is a transient StorageError that says it could not connect."""

from __future__ import annotations

import pytest

from crmcore.errors import TransientStorageError
from crmcore.storage import connect


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://nobody@127.0.0.1:1/crm", "mysql+pymysql://root@127.0.0.1:1/crm"],
)
def test_a_refused_connection_is_transient_and_says_so(url: str) -> None:
    """Nothing listens on port 1: connect() raises storage.transient, 'could not connect'."""
    with pytest.raises(TransientStorageError) as raised:
        connect(url)
    assert raised.value.code == "storage.transient"
    assert "could not connect to the database" in str(raised.value)
    assert "migrate" not in str(raised.value)
