"""CLI errors are one line, whatever the driver's message looks like."""

from __future__ import annotations

import pytest

from crmcore.cli import main
from crmcore.errors import StorageError, ValidationError
from crmcore.models import Customer
from crmcore.serialization import from_dict


def _error_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_a_refused_server_connection_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A PostgreSQL server that refuses the connection gives one line with the code, exit 1."""
    assert main(["db", "status", "postgresql+psycopg://u@127.0.0.1:1/crm"]) == 1
    lines = _error_lines(capsys)
    assert len(lines) == 1, lines
    assert "[storage.transient]" in lines[0]  # a refused connection is worth retrying
    assert "Connection refused" in lines[0]
    assert "sqlalche.me" not in lines[0]


def _validation_error() -> ValidationError:
    try:
        from_dict({"kind": "robot", "display_name": 7}, Customer)
    except ValidationError as error:
        return error
    raise AssertionError("from_dict accepted a robot")


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            StorageError("first line\n\tsecond line\n(Background on this error at: x)"),
            "Error: StorageError [storage.error]: first line; second line",
        ),
        (
            _validation_error(),
            "Error: ValidationError [validation.failed]: Customer: 2 problems; "
            "$.kind: 'robot' is not one of 'person', 'organisation' [value.not_allowed]; "
            "$.display_name: expected a string, got int [type.invalid]",
        ),
    ],
    ids=["driver", "problems"],
)
def test_a_multi_line_message_is_one_line(
    error: Exception,
    line: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A message of several lines is folded into one; SQLAlchemy's background link is dropped."""
    import crmcore.storage.sqlalchemy as sql

    def fail(url: str, **options: object) -> None:
        raise error

    monkeypatch.setattr(sql, "upgrade", fail)
    monkeypatch.setattr(sql, "current_revision", lambda url: None)
    assert main(["db", "upgrade", "sqlite://"]) == 1
    assert _error_lines(capsys) == [line]
