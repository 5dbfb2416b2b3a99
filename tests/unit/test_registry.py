"""connect(url): backends by URL scheme, entry points, install hints."""

from __future__ import annotations

import sys
import types
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from crmcore.errors import BackendUnavailable, InvalidArgument, UnknownBackend
from crmcore.storage import (
    ENTRY_POINT_GROUP,
    MemoryBackend,
    Store,
    connect,
    create_backend,
    known_schemes,
    register_backend,
    registry,
)


def test_memory_url_gives_a_memory_store() -> None:
    """memory:// opens a Store on a fresh in-memory backend."""
    store = connect("memory://")
    assert isinstance(store, Store)
    assert isinstance(store.backend, MemoryBackend)
    assert connect("memory://").backend is not store.backend


def test_unknown_scheme_lists_the_known_ones() -> None:
    """An unknown scheme raises UnknownBackend naming every known scheme."""
    with pytest.raises(UnknownBackend) as info:
        connect("oracle://scott:tiger@db/orcl")
    message = str(info.value)
    for scheme in ("memory", "sqlite", "postgresql+psycopg", "mysql+pymysql"):
        assert scheme in message
    assert isinstance(info.value, ValueError)


def test_not_a_url_is_an_unknown_backend() -> None:
    """A string without a scheme is refused with UnknownBackend."""
    with pytest.raises(UnknownBackend):
        connect("crm.db")


@pytest.fixture
def fake_sqlalchemy(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Install a stand-in crmcore.storage.sqlalchemy whose create_backend we control."""
    module = types.ModuleType("crmcore.storage.sqlalchemy")
    monkeypatch.setitem(sys.modules, "crmcore.storage.sqlalchemy", module)
    return module


@pytest.mark.parametrize(
    ("url", "driver", "extra"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1/test", "psycopg", "postgres"),
        ("postgresql://postgres@127.0.0.1/test", "psycopg", "postgres"),
        ("mysql+pymysql://root@127.0.0.1/test", "pymysql", "mysql"),
        ("mariadb+pymysql://root@127.0.0.1/test", "pymysql", "mysql"),
    ],
)
def test_missing_driver_gives_an_install_hint(
    fake_sqlalchemy: types.ModuleType, url: str, driver: str, extra: str
) -> None:
    """A missing database driver raises BackendUnavailable with the pip command."""

    def create_backend(url: str, **options: Any) -> Any:
        raise ModuleNotFoundError(f"No module named {driver!r}", name=driver)

    fake_sqlalchemy.create_backend = create_backend  # type: ignore[attr-defined]
    with pytest.raises(BackendUnavailable) as info:
        connect(url)
    assert f"pip install 'crmcore[{extra}]'" in str(info.value)
    assert isinstance(info.value, ImportError)
    assert isinstance(info.value.__cause__, ImportError)


def test_sql_urls_go_to_the_sqlalchemy_adapter(fake_sqlalchemy: types.ModuleType) -> None:
    """sqlite:// and friends call crmcore.storage.sqlalchemy.create_backend with the options."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def create_backend(url: str, **options: Any) -> MemoryBackend:
        calls.append((url, options))
        return MemoryBackend()

    fake_sqlalchemy.create_backend = create_backend  # type: ignore[attr-defined]
    store = connect("sqlite:///crm.db", echo=True)
    assert isinstance(store.backend, MemoryBackend)
    assert calls == [("sqlite:///crm.db", {"echo": True})]


def test_adapter_that_cannot_be_imported_gives_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the SQLAlchemy adapter itself cannot be imported, BackendUnavailable says why."""
    monkeypatch.setitem(sys.modules, "crmcore.storage.sqlalchemy", None)
    with pytest.raises(BackendUnavailable) as info:
        connect("postgresql+psycopg://x@y/z")
    assert "pip install" in str(info.value)


def test_entry_points_register_third_party_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    """A factory in the crmcore.storage entry-point group serves its scheme."""
    entry = EntryPoint(name="kv", value="crmcore.storage.registry:_memory", group=ENTRY_POINT_GROUP)

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        return [entry] if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    assert "kv" in known_schemes()
    assert isinstance(connect("kv://anything").backend, MemoryBackend)


def test_broken_entry_point_is_backend_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry point whose module is missing raises BackendUnavailable, not ImportError."""
    entry = EntryPoint(name="kv", value="no_such_module_xyz:factory", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda *, group: [entry])
    with pytest.raises(BackendUnavailable):
        create_backend("kv://x")


def test_register_backend_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """register_backend adds a scheme for this process, case-insensitively."""
    monkeypatch.setattr(registry, "_registered", {})
    register_backend("Scratch", lambda url, **options: MemoryBackend())
    assert "scratch" in known_schemes()
    assert isinstance(connect("SCRATCH://").backend, MemoryBackend)


def test_memory_takes_no_options() -> None:
    """Options memory:// does not understand (all but ``indexes``) are argument.invalid."""
    with pytest.raises(InvalidArgument, match="pool_size") as caught:
        connect("memory://", pool_size=5)
    assert caught.value.code == "argument.invalid"
