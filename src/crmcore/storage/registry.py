"""``connect(url)``: pick a storage backend by URL scheme.

Built in: ``memory://`` (the in-memory reference backend) and the SQLAlchemy
adapter for ``sqlite://``, ``postgresql://``, ``postgresql+psycopg://``,
``mysql+pymysql://`` and ``mariadb+pymysql://``, imported only when used.
Third-party backends register a factory under the ``crmcore.storage`` entry-point
group; the entry point's name is the URL scheme and its value a callable
``factory(url, **options) -> Backend``::

    [project.entry-points."crmcore.storage"]
    jsonfile = "my_package.backend:create_backend"

A backend whose driver is missing raises :class:`~crmcore.errors.BackendUnavailable`
with the command that installs it; an unknown scheme raises
:class:`~crmcore.errors.UnknownBackend` listing the schemes that are known.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from crmcore.errors import (
    BackendUnavailable,
    CrmError,
    InvalidArgument,
    InvalidStorageURL,
    UnknownBackend,
)
from crmcore.storage._context import NormaliserArg
from crmcore.storage.ports import Backend
from crmcore.storage.store import DEFAULT_NORMALISER, Clock, Store

__all__ = [
    "ENTRY_POINT_GROUP",
    "BackendFactory",
    "connect",
    "create_backend",
    "known_schemes",
    "register_backend",
]

ENTRY_POINT_GROUP = "crmcore.storage"
"""The entry-point group third-party backends register their factories in."""

BackendFactory = Callable[..., Backend]
"""``factory(url, **options) -> Backend``."""

_SQL_EXTRA = {
    "sqlite": None,
    "sqlite+pysqlite": None,
    "postgres": "postgres",
    "postgresql": "postgres",
    "postgresql+psycopg": "postgres",
    "mysql": "mysql",
    "mysql+pymysql": "mysql",
    "mariadb": "mysql",
    "mariadb+pymysql": "mysql",
}
_DRIVER_EXTRA = {"psycopg": "postgres", "psycopg_binary": "postgres", "pymysql": "mysql"}

_registered: dict[str, BackendFactory] = {}


def _memory(url: str, *, indexes: Any = (), **options: Any) -> Backend:
    """The memory backend; ``indexes`` names customer paths to index beyond the defaults."""
    from crmcore.storage._arguments import check_index_paths
    from crmcore.storage.indexing import IndexSet
    from crmcore.storage.memory import MemoryBackend

    if options:
        raise InvalidArgument(
            f"memory:// takes only indexes=[...], got {', '.join(sorted(options))}"
        )
    paths = check_index_paths(indexes)
    return MemoryBackend(indexes=IndexSet.of(paths) if paths else None)


_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _check_sql_url(url: str, scheme: str) -> None:
    """Refuse a SQL URL the drivers cannot use with :class:`InvalidStorageURL`, before connecting.

    NUL characters and unpaired surrogates anywhere, a URL SQLAlchemy cannot parse, a
    server URL without a database name, and a host name that is not a valid IDNA name.
    """
    if _BAD_TEXT.search(url) is not None:
        raise InvalidStorageURL(
            f"a {scheme}:// URL must not contain NUL characters or unpaired surrogates"
        )
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        raise InvalidStorageURL(f"not a valid {scheme}:// URL: {error}") from error
    if parsed.get_backend_name() == "sqlite":
        return
    if not parsed.database:
        raise InvalidStorageURL(
            f"a {scheme}:// URL must name a database, as in {scheme}://user@host/crm"
        )
    if parsed.host:
        try:
            parsed.host.encode("idna")
        except UnicodeError as error:
            raise InvalidStorageURL(f"{parsed.host!r} is not a valid host name") from error


def _sqlalchemy(url: str, **options: Any) -> Backend:
    scheme = _scheme(url)
    try:
        module = importlib.import_module("crmcore.storage.sqlalchemy")
    except ImportError as error:
        raise _unavailable(scheme, error) from error
    _check_sql_url(url, scheme)
    try:
        backend: Backend = module.create_backend(url, **options)
    except ImportError as error:
        raise _unavailable(scheme, error) from error
    except CrmError:
        raise
    except (ValueError, TypeError) as error:  # a query option the driver cannot read
        raise InvalidStorageURL(
            f"the {scheme}:// URL or its options cannot be used: {error}"
        ) from error
    return backend


def _unavailable(scheme: str, error: ImportError) -> BackendUnavailable:
    missing = (error.name or "").split(".")[0]
    extra = _DRIVER_EXTRA.get(missing) or _SQL_EXTRA.get(scheme)
    hint = f"pip install 'crmcore[{extra}]'" if extra else "pip install crmcore"
    what = f"the {missing!r} package" if missing else "a required package"
    return BackendUnavailable(f"{scheme}:// needs {what}, which is not installed; run: {hint}")


_BUILTIN: dict[str, BackendFactory] = {"memory": _memory, **dict.fromkeys(_SQL_EXTRA, _sqlalchemy)}


def _scheme(url: str) -> str:
    if not isinstance(url, str) or ":" not in url:
        raise UnknownBackend(
            f"{url!r} is not a storage URL such as 'sqlite:///crm.db' "
            f"(known schemes: {', '.join(known_schemes())})"
        )
    return url.split(":", 1)[0].lower()


def register_backend(scheme: str, factory: BackendFactory) -> None:
    """Register ``factory`` for ``scheme`` in this process (entry points do it for packages)."""
    _registered[scheme.lower()] = factory


def _entry_point_factories() -> dict[str, Any]:
    return {ep.name.lower(): ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def known_schemes() -> list[str]:
    """Every URL scheme ``connect`` knows: built in, registered and from entry points."""
    return sorted({*_BUILTIN, *_registered, *_entry_point_factories()})


def create_backend(url: str, **options: Any) -> Backend:
    """Build the backend for ``url`` (without wrapping it in a :class:`Store`)."""
    scheme = _scheme(url)
    factory: BackendFactory | None = _registered.get(scheme)
    if factory is None:
        entry = _entry_point_factories().get(scheme)
        if entry is not None:
            try:
                factory = entry.load()
            except ImportError as error:
                raise BackendUnavailable(
                    f"the {scheme}:// backend ({entry.value}) could not be imported: {error}"
                ) from error
    if factory is None:
        factory = _BUILTIN.get(scheme)
    if factory is None:
        raise UnknownBackend(
            f"no storage backend for {scheme}:// (known schemes: {', '.join(known_schemes())}); "
            f"third-party backends register in the {ENTRY_POINT_GROUP!r} entry-point group"
        )
    return factory(url, **options)


def connect(
    url: str,
    *,
    normaliser: NormaliserArg | None = DEFAULT_NORMALISER,
    clock: Clock | None = None,
    **options: Any,
) -> Store:
    """Open a :class:`Store` on the backend for ``url``; ``options`` go to the backend.

    Every customer written through the store passes ``normaliser``, by default the
    verification rules' :class:`~crmcore.rules.verification.NormalisationPipeline`;
    see :class:`Store`.

    >>> store = connect("memory://")
    >>> store.capabilities.persistent
    False
    """
    return Store(create_backend(url, **options), normaliser=normaliser, clock=clock)
