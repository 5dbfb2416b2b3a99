"""Behaviour of the crmcore command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmcore.cli import main
from crmcore.cli._demo_data import demo_data
from crmcore.cli.demo import run_demo
from crmcore.models import Customer, Money, Purchase
from crmcore.storage import connect

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def test_demo_loads_everything_and_rejects_the_broken_record_whole() -> None:
    """The demo imports its customers, rejects the malformed one whole, and reads back."""
    with connect("memory://") as store:
        result = run_demo(store, now=NOW)
        data = demo_data(NOW)
        assert result.report.created == len(data.customers) - 1
        (rejected,) = result.report.rejections()
        assert rejected.id == "demo-c11"
        assert {p.path for p in rejected.problems} == {"$.display_name", "$.person.birthday"}
        assert result.summary.customers == len(data.customers) - 1
        assert result.activity == {
            "purchases": len(data.purchases),
            "interactions": len(data.interactions),
            "complaints": len(data.complaints),
        }
        with store.unit_of_work() as uow, pytest.raises(LookupError):
            uow.customers.get("demo-c11")


def test_demo_search_and_history_work_on_real_data() -> None:
    """Phone digits and Chinese characters find their customers; the update is in the history."""
    with connect("memory://") as store:
        result = run_demo(store, now=NOW)
    searches = dict(result.searches)
    assert searches["138 0013 8000"] == ("张伟",)
    assert searches["大文"] == ("陈大文",)
    assert [h.operation.value for h in result.history] == ["created", "updated"]
    assert {c.path for c in result.history[-1].changes} >= {"$.owner"}


def test_demo_command_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """`crmcore demo --database memory://` exits 0 and prints the summary sections."""
    assert main(["demo", "--database", "memory://"]) == 0
    out = capsys.readouterr().out
    for expected in (
        "Imported 11 customer records: 10 created",
        "rejected record 11 of 11 (demo-c11):",  # counted from 1, as people count
        "[value.blank]",
        "Customer roster",
        "Ranking by purchase amount",
        "Open complaints",
        "陈大文",
    ):
        assert expected in out


def test_unknown_storage_url_is_a_clean_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A URL no backend handles gives a one-line error and exit code 1, not a traceback."""
    assert main(["demo", "--database", "nosuch://x"]) == 1
    err = capsys.readouterr().err
    assert "storage.unknown_backend" in err
    assert "Traceback" not in err


def test_db_upgrade_creates_then_reports_nothing_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`crmcore db upgrade` creates the schema once; `db status` then says it is current."""
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    assert main(["db", "status", url]) == 0
    assert "no database file" in capsys.readouterr().out
    assert not (tmp_path / "crm.db").exists(), "status must not create the file"
    assert main(["db", "upgrade", url]) == 0
    assert "upgraded from an empty database" in capsys.readouterr().out
    assert main(["db", "upgrade", url]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["db", "status", url]) == 0
    assert "up to date" in capsys.readouterr().out


def test_a_missing_directory_is_named_by_status_and_refused_by_upgrade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite makes a file, never its directory: both commands say which directory is missing."""
    url = f"sqlite:///{tmp_path / 'absent' / 'crm.db'}"
    assert main(["db", "status", url]) == 0
    assert f"no directory {tmp_path / 'absent'}" in capsys.readouterr().out
    assert main(["db", "upgrade", url]) != 0
    err = capsys.readouterr().err
    assert "storage.invalid_url" in err
    assert "does not exist" in err
    assert not (tmp_path / "absent").exists()


def test_demo_default_builds_a_fresh_sqlite_file_each_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plain `crmcore demo` writes ./crmcore-demo.db, and a second run starts afresh."""
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert main(["demo"]) == 0
        out = capsys.readouterr().out
        assert "10 created, 0 updated" in out
        assert "+8613800138000" in out
    assert (tmp_path / "crmcore-demo.db").exists()


def _one_purchase_of_my_own(url: str) -> None:
    with connect(url) as store, store.unit_of_work() as uow:
        mine = uow.customers.add(Customer.person_named(family="林", given="月"))
        uow.purchases.add(
            Purchase(
                customer_id=mine.id,
                purchased_at=NOW,
                product="普洱茶",
                amount=Money.of("388.00", "CNY"),
            )
        )
        uow.commit()


def test_a_demo_on_a_database_in_use_says_what_it_recorded_and_what_it_holds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """On a database that is not empty, "Recorded" counts the demo's own records."""
    data = demo_data(NOW)
    first, second = (f"sqlite:///{tmp_path / name}" for name in ("first.db", "second.db"))
    _one_purchase_of_my_own(first)
    with connect(first) as store:
        result = run_demo(store, now=NOW)
    assert result.activity["purchases"] == len(data.purchases)
    assert result.held["purchases"] == len(data.purchases) + 1
    assert main(["demo", "--database", "memory://"]) == 0
    assert "was not empty" not in capsys.readouterr().out
    _one_purchase_of_my_own(second)
    assert main(["demo", "--database", second]) == 0
    out = capsys.readouterr().out
    assert f"Recorded {len(data.purchases)} purchases" in out
    assert f"it now holds {len(data.purchases) + 1} purchases" in out
