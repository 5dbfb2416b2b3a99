"""What every mixin of the kit shares: fixtures, the clock, Hypothesis settings, helpers."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
import zoneinfo
from collections.abc import Callable
from typing import Any, TypeVar, cast

import attrs
import pytest
from hypothesis import HealthCheck, Phase, settings

from crmcore.errors import NotFound
from crmcore.models import ContactPerson, Customer, PersonName
from crmcore.serialization import to_dict
from crmcore.storage.ports import RECORD_KINDS, Backend, Capabilities, RecordKind
from crmcore.storage.store import Store, StoreRepository, StoreUnitOfWork
from crmcore.testing.data import (
    sample_complaints,
    sample_customers,
    sample_interactions,
    sample_purchases,
)

__all__ = [
    "KIT_PROFILE",
    "KIT_SETTINGS",
    "BackendFixtures",
    "TickingClock",
    "load_sample_data",
    "requires",
]

T = TypeVar("T")

KIT_PROFILE = "crmcore-kit"
"""Name of the Hypothesis profile the kit registers (and its tests run under)."""

settings.register_profile(
    KIT_PROFILE,
    max_examples=25,
    deadline=None,
    # No shrink phase: a failing backend is reported with the example that failed, at
    # once, instead of minutes of shrinking against a real database.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[
        # the store fixture is shared by a test's examples on purpose (ids are fresh)
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        # each backend's subclass runs the same mixin method; examples are not replayed
        HealthCheck.differing_executors,
    ],
    database=None,
    print_blob=False,
)

KIT_SETTINGS = settings.get_profile(KIT_PROFILE)
"""Hypothesis settings of the kit's property tests: the ``crmcore-kit`` profile.

Few examples, no deadline (real databases are slow) and no shrinking (a failure is
reported with the example that failed, without minutes of shrinking).
"""

REQUIRES_MARKER = "crmcore_requires"
"""The pytest marker that gates a kit test on backend capabilities."""


def requires(*capabilities: str) -> pytest.MarkDecorator:
    """Mark a test as needing every named :class:`Capabilities` flag; skipped otherwise.

    The same as ``@pytest.mark.crmcore_requires("persistent")``, which backend authors
    may use on their own tests in a class that mixes in :class:`BackendFixtures`.
    """
    unknown = set(capabilities) - set(attrs.fields_dict(Capabilities))
    if unknown:
        raise ValueError(f"unknown capabilities: {sorted(unknown)}")
    return getattr(pytest.mark, REQUIRES_MARKER)(*capabilities)  # type: ignore[no-any-return]


KIT_ZONE = zoneinfo.ZoneInfo("Europe/Berlin")
"""The kit clock's time zone: a non-UTC offset that changes at daylight saving."""

KIT_START = dt.datetime(2026, 10, 25, 0, 59, 57, tzinfo=dt.UTC)
"""The kit clock's first instant: three seconds before Berlin leaves summer time.

Its third tick is ``2026-10-25T02:59:59+02:00``, its fourth ``02:00:00+01:00``: later
instant, earlier wall-clock time, so history ordered by local time (or by the text of
the timestamp) comes out in the wrong order.
"""


class TickingClock:
    """A deterministic clock: every call returns an instant one second after the last.

    Without ``start`` it starts at :data:`KIT_START` and reports every instant in
    Europe/Berlin's offset at that instant (``+02:00``, then ``+01:00`` from the
    fourth tick), as a fixed-offset ``datetime``. With ``start`` it keeps ``start``'s
    offset unless ``zone`` is given.
    """

    def __init__(self, start: dt.datetime | None = None, *, zone: dt.tzinfo | None = None) -> None:
        if start is None:
            start = KIT_START
            zone = zone or KIT_ZONE
        self._next = start
        self._zone = zone
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        """Return the next instant."""
        with self._lock:
            now = self._next
            self._next = now + dt.timedelta(seconds=1)
        if self._zone is None:
            return now
        local = now.astimezone(self._zone)
        offset = local.utcoffset()
        assert offset is not None
        return local.replace(tzinfo=dt.timezone(offset))


class BackendFixtures:
    """The fixtures every mixin uses. Subclasses provide ``backend``.

    Override the ``backend`` fixture to return a **fresh, empty** backend for each
    test (and clean it up after the ``yield``). Override :meth:`reopen` when your
    backend is persistent. Override ``store`` only to pass options of your own.
    Tests marked ``@pytest.mark.crmcore_requires("capability", ...)`` are skipped
    unless the backend declares every named capability.
    """

    @pytest.fixture
    def backend(self) -> Backend:
        """Return a fresh, empty backend; every backend author overrides this fixture."""
        raise NotImplementedError(
            "define a `backend` fixture that returns a fresh, empty crmcore Backend"
        )

    @pytest.fixture
    def store(self, backend: Backend) -> Store:
        """Wrap the backend in a :class:`Store` with a deterministic clock."""
        return Store(backend, clock=TickingClock(), normaliser=None)

    @pytest.fixture(autouse=True)
    def _crmcore_capabilities(self, request: pytest.FixtureRequest) -> None:
        """Skip a test marked ``crmcore_requires`` unless the backend declares it all."""
        wanted = [a for m in request.node.iter_markers(REQUIRES_MARKER) for a in m.args]
        if not wanted:
            return
        unknown = sorted(set(wanted) - set(attrs.fields_dict(Capabilities)))
        if unknown:  # a typo in the marker must not read as "the backend lacks it"
            known = ", ".join(sorted(attrs.fields_dict(Capabilities)))
            pytest.fail(
                f"{REQUIRES_MARKER} names unknown capabilities {unknown} (known: {known})",
                pytrace=False,
            )
        backend: Backend = request.getfixturevalue("backend")
        for capability in wanted:
            if not getattr(backend.capabilities, capability):
                pytest.skip(f"backend does not declare capability {capability!r}")

    def reopen(self, backend: Backend) -> Backend:
        """Close ``backend`` and open it again on the same data (persistent backends)."""
        pytest.skip("override BackendFixtures.reopen to test persistence")

    @staticmethod
    def require(store: Store, capability: str) -> None:
        """Skip the test unless the backend declares ``capability`` (prefer the marker)."""
        capabilities: Capabilities = store.capabilities
        if not getattr(capabilities, capability):
            pytest.skip(f"backend does not declare capability {capability!r}")


def add_all(store: Store, records: list[Any]) -> list[Any]:
    """Add ``records`` in one unit of work; returns them as stored."""
    stored: list[Any] = []
    with store.unit_of_work(actor="kit") as uow:
        for record in records:
            stored.append(repo(uow, record).add(record))
        uow.commit()
    return stored


def add_owners(store: Store, records: list[Any]) -> None:
    """Store a customer for each customer_id ``records`` refer to, with the persons they name.

    Purchases, interactions and complaints must refer to a stored customer (and contact
    person); a round trip of generated records stores these first.
    """
    persons: dict[str, set[str]] = {}
    for record in records:
        named = persons.setdefault(record.customer_id, set())
        if getattr(record, "contact_person_id", None) is not None:
            named.add(record.contact_person_id)
    with store.unit_of_work(actor="kit") as uow:
        for customer_id, ids in persons.items():
            try:
                owner = uow.customers.get(customer_id)
            except NotFound:
                owner = Customer.organisation_named("Kit GmbH", id=customer_id)
            profile = owner.organisation
            if profile is None:
                continue  # a stored person: nothing may name a contact person of it
            known = {person.id for person in profile.contact_persons}
            added = tuple(
                ContactPerson(id=i, name=PersonName(family="Kit")) for i in sorted(ids - known)
            )
            if owner.version and not added:
                continue
            owner = attrs.evolve(
                owner,
                organisation=attrs.evolve(
                    profile, contact_persons=(*profile.contact_persons, *added)
                ),
            )
            if owner.version:
                uow.customers.update(owner)
            else:
                uow.customers.add(owner)
        uow.commit()


def write(store: Store, change: Callable[[StoreUnitOfWork], object], *, fail: bool = False) -> None:
    """Run ``change`` in a unit of work and commit (raising RuntimeError first if ``fail``)."""
    with store.unit_of_work() as uow:
        change(uow)
        if fail:
            raise RuntimeError("the kit aborts this unit of work")
        uow.commit()


def updater(record: Any) -> Callable[[StoreUnitOfWork], object]:
    """A write that saves ``record`` as it is (at its version)."""
    return lambda uow: repo(uow, record).update(record)


def repo(uow: StoreUnitOfWork, record: Any) -> StoreRepository[Any]:
    """The repository of ``uow`` that holds records like ``record`` (named by RECORD_KINDS)."""
    kind = cast(RecordKind, type(record).kind_name)
    repository: StoreRepository[Any] = getattr(uow, RECORD_KINDS[kind].repository)
    return repository


REPOSITORIES: tuple[str, ...] = tuple(info.repository for info in RECORD_KINDS.values())
"""The unit of work's repository names, one per record kind."""


def load_sample_data(store: Store) -> dict[str, list[Any]]:
    """Add the sample data set to ``store``; returns the stored records by repository name."""
    return {
        "customers": add_all(store, sample_customers()),
        "interactions": add_all(store, sample_interactions()),
        "complaints": add_all(store, sample_complaints()),
        "purchases": add_all(store, sample_purchases()),
    }


def fresh(record: T) -> T:
    """``record`` under a new id (Hypothesis may draw the same id in two examples)."""
    return attrs.evolve(record, id=uuid.uuid4().hex)  # type: ignore[misc]


def as_json(record: Any) -> Any:
    """A record's exact serialised form: UTC offsets and decimal scale, which == ignores."""
    return to_dict(record)
