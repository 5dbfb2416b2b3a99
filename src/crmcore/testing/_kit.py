"""The conformance kit's test mixins (re-exported by :mod:`crmcore.testing`)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crmcore.errors import (
    ConcurrencyConflict,
    DuplicateRecord,
    NotFound,
    Problem,
    ValidationError,
)
from crmcore.models import (
    ChangeOperation,
    Complaint,
    ContactPerson,
    Customer,
    Interaction,
    PersonName,
    Phone,
)
from crmcore.query import Field, Query
from crmcore.serialization import to_dict
from crmcore.storage.history import same_apart_from_bookkeeping
from crmcore.storage.ports import Backend, Capabilities
from crmcore.storage.store import (
    ImportStatus,
    Store,
    StoreRepository,
    StoreUnitOfWork,
    customer_versions,
)
from crmcore.testing import strategies as cst
from crmcore.testing._queries import (
    COMPLAINT_QUERIES,
    CUSTOMER_QUERIES,
    INTERACTION_QUERIES,
    PAGINATION_ORDERS,
    PURCHASE_QUERIES,
    customer_queries,
)
from crmcore.testing.data import (
    sample_complaints,
    sample_customers,
    sample_interactions,
    sample_purchases,
)

__all__ = [
    "KIT_SETTINGS",
    "BackendFixtures",
    "ConcurrencyTests",
    "HistoryTests",
    "ImportTests",
    "PaginationTests",
    "QueryTests",
    "RoundTripTests",
    "StoreConformance",
    "TickingClock",
    "UnitOfWorkTests",
    "load_sample_data",
]

T = TypeVar("T")

KIT_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        # the store fixture is shared by a test's examples on purpose (ids are fresh)
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        # each backend's subclass runs the same mixin method; examples are not replayed
        HealthCheck.differing_executors,
    ],
    database=None,
)
"""Hypothesis settings of the kit: few examples, no deadline (real databases are slow)."""


class TickingClock:
    """A deterministic clock: every call returns a time one second after the last."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._next = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        """Return the next instant."""
        with self._lock:
            now = self._next
            self._next = now + dt.timedelta(seconds=1)
            return now


class BackendFixtures:
    """The fixtures every mixin uses. Subclasses provide ``backend``.

    Override the ``backend`` fixture to return a **fresh, empty** backend for each
    test (and clean it up after the ``yield``). Override :meth:`reopen` when your
    backend is persistent. Override ``store`` only to pass options of your own.
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

    def reopen(self, backend: Backend) -> Backend:
        """Close ``backend`` and open it again on the same data (persistent backends)."""
        pytest.skip("override BackendFixtures.reopen to test persistence")

    @staticmethod
    def require(store: Store, capability: str) -> None:
        """Skip the test unless the backend declares ``capability``."""
        capabilities: Capabilities = store.capabilities
        if not getattr(capabilities, capability):
            pytest.skip(f"backend does not declare capability {capability!r}")


def _add_all(store: Store, records: list[Any]) -> list[Any]:
    stored: list[Any] = []
    with store.unit_of_work(actor="kit") as uow:
        for record in records:
            stored.append(_repo(uow, record).add(record))
        uow.commit()
    return stored


def _add_owners(store: Store, records: list[Any]) -> None:
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


def _write(store: Store, write: Callable[[StoreUnitOfWork], object], *, fail: bool = False) -> None:
    """Run ``write`` in a unit of work and commit (raising RuntimeError first if ``fail``)."""
    with store.unit_of_work() as uow:
        write(uow)
        if fail:
            raise RuntimeError("the kit aborts this unit of work")
        uow.commit()


def _updater(record: Any) -> Callable[[StoreUnitOfWork], object]:
    """A write that saves ``record`` as it is (at its version)."""
    return lambda uow: _repo(uow, record).update(record)


def _repo(uow: StoreUnitOfWork, record: Any) -> StoreRepository[Any]:
    if isinstance(record, Customer):
        return uow.customers
    if isinstance(record, Interaction):
        return uow.interactions
    if isinstance(record, Complaint):
        return uow.complaints
    return uow.purchases


def load_sample_data(store: Store) -> dict[str, list[Any]]:
    """Add the sample data set to ``store``; returns the stored records by repository name."""
    return {
        "customers": _add_all(store, sample_customers()),
        "interactions": _add_all(store, sample_interactions()),
        "complaints": _add_all(store, sample_complaints()),
        "purchases": _add_all(store, sample_purchases()),
    }


def _fresh(record: T) -> T:
    """``record`` under a new id (Hypothesis may draw the same id in two examples)."""
    return attrs.evolve(record, id=uuid.uuid4().hex)  # type: ignore[misc]


def _json(record: Any) -> Any:
    """A record's exact serialised form: UTC offsets and decimal scale, which == ignores."""
    return to_dict(record)


# --------------------------------------------------------------------------- round trips


class RoundTripTests(BackendFixtures):
    """Every model survives the store unchanged; missing ids raise NotFound."""

    @KIT_SETTINGS
    @given(customer=cst.customers())
    def test_customer_round_trip(self, store: Store, customer: Customer) -> None:
        """A customer read back equals the customer add() returned, version 1."""
        customer = _fresh(customer)
        [stored] = _add_all(store, [customer])
        assert stored.version == 1
        with store.unit_of_work() as uow:
            loaded = uow.customers.get(customer.id)
            assert _json(loaded) == _json(stored)
            assert uow.customers.find(Query(where=Field("id") == customer.id)) == [stored]

    @KIT_SETTINGS
    @given(first=cst.customers(), second=cst.customers())
    def test_customer_update_round_trip(
        self, store: Store, first: Customer, second: Customer
    ) -> None:
        """An update replacing every field reads back exactly, at version 2."""
        [stored] = _add_all(store, [_fresh(first)])
        replacement = attrs.evolve(second, id=stored.id, version=stored.version)
        assume(not same_apart_from_bookkeeping(replacement, stored))  # a no-op writes nothing
        with store.unit_of_work() as uow:
            updated = uow.customers.update(replacement)
            uow.commit()
        assert updated.version == 2
        with store.unit_of_work() as uow:
            assert _json(uow.customers.get(stored.id)) == _json(updated)

    @KIT_SETTINGS
    @given(data=st.data())
    def test_other_records_round_trip(self, store: Store, data: st.DataObject) -> None:
        """Interactions, complaints and purchases read back exactly."""
        records = [
            _fresh(data.draw(cst.interactions())),
            _fresh(data.draw(cst.complaints())),
            _fresh(data.draw(cst.purchases())),
        ]
        _add_owners(store, records)
        stored = _add_all(store, records)
        with store.unit_of_work() as uow:
            for record in stored:
                loaded = _repo(uow, record).get(record.id)
                assert _json(loaded) == _json(record)
                assert loaded.version == 1

    def test_sample_data_round_trips(self, store: Store) -> None:
        """Every record of the international sample data set reads back exactly."""
        records = [
            *sample_customers(),
            *sample_interactions(),
            *sample_complaints(),
            *sample_purchases(),
        ]
        stored = _add_all(store, records)
        with store.unit_of_work() as uow:
            for record in stored:
                assert _json(_repo(uow, record).get(record.id)) == _json(record)

    @pytest.mark.parametrize("kind", ["customers", "interactions", "complaints", "purchases"])
    def test_get_missing_raises_not_found(self, store: Store, kind: str) -> None:
        """get() of an id that was never stored raises NotFound, a LookupError."""
        with store.unit_of_work() as uow:
            repo = getattr(uow, kind)
            with pytest.raises(NotFound):
                repo.get("no-such-id")
            with pytest.raises(LookupError):
                repo.get("no-such-id")

    def test_add_twice_raises_duplicate(self, store: Store) -> None:
        """Adding a second record with a stored id raises DuplicateRecord."""
        [stored] = _add_all(store, [Customer.person_named(family="张", given="伟")])
        with store.unit_of_work() as uow, pytest.raises(DuplicateRecord):
            uow.customers.add(attrs.evolve(stored, version=0))

    def test_add_requires_a_new_record(self, store: Store) -> None:
        """add() refuses a record that already carries a version."""
        customer = Customer.person_named(family="李", given="娜", version=3)
        with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
            uow.customers.add(customer)
        assert info.value.codes == ("record.not_new",)

    def test_stream_yields_every_record_in_id_order(self, store: Store) -> None:
        """stream() yields every record once, ordered by id, whatever the batch size."""
        stored = _add_all(store, sample_customers())
        expected = sorted(stored, key=lambda c: c.id)
        for batch_size in (1, 4, 1000):
            with store.unit_of_work() as uow:
                assert list(uow.customers.stream(batch_size=batch_size)) == expected
            assert list(store.stream_customers(batch_size=batch_size)) == expected

    def test_count(self, store: Store) -> None:
        """count() counts every record, or those a query's filter matches."""
        stored = _add_all(store, sample_customers())
        query = Query(where=Field("tags") == "vip", limit=1)
        with store.unit_of_work() as uow:
            assert uow.customers.count() == len(stored)
            assert uow.customers.count(query) == len(query.unpaged().apply(stored))

    def test_remove(self, store: Store) -> None:
        """A removed record is gone; its id raises NotFound afterwards."""
        [customer, interaction] = _add_all(
            store, [*sample_customers()[:1], *sample_interactions()[:1]]
        )
        with store.unit_of_work() as uow:
            uow.interactions.remove(interaction)
            uow.customers.remove(customer)
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.customers.get(customer.id)
            with pytest.raises(NotFound):
                uow.interactions.get(interaction.id)
            assert uow.customers.count() == 0

    def test_timestamps_come_from_the_clock(self, backend: Backend) -> None:
        """add() sets created and updated time from the clock; update() moves updated time."""
        start = dt.datetime(2030, 5, 1, 8, tzinfo=dt.UTC)
        store = Store(backend, clock=TickingClock(start), normaliser=None)
        [stored] = _add_all(store, [Customer.person_named(family="王", given="芳")])
        assert stored.created_at == stored.updated_at == start
        with store.unit_of_work() as uow:
            updated = uow.customers.update(attrs.evolve(stored, grade="A"))
            uow.commit()
        assert updated.created_at == start
        assert updated.updated_at > start
        with store.unit_of_work() as uow:
            assert _json(uow.customers.get(stored.id)) == _json(updated)

    def test_data_survives_reopening(self, backend: Backend) -> None:
        """A persistent backend keeps committed data across close and reopen."""
        store = Store(backend, clock=TickingClock(), normaliser=None)
        self.require(store, "persistent")
        stored = _add_all(store, sample_customers()[:3])
        reopened = Store(self.reopen(backend), normaliser=None)
        with reopened.unit_of_work() as uow:
            for record in stored:
                assert _json(uow.customers.get(record.id)) == _json(record)


# --------------------------------------------------------------------------- unit of work


class UnitOfWorkTests(BackendFixtures):
    """Nothing is saved without commit; commits are all-or-nothing across repositories."""

    def test_nothing_is_saved_without_commit(self, store: Store) -> None:
        """Leaving a unit of work without commit() discards its writes."""
        customer = Customer.person_named(family="张", given="伟")
        with store.unit_of_work() as uow:
            uow.customers.add(customer)
        with store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.customers.get(customer.id)

    def test_exception_rolls_back(self, store: Store) -> None:
        """An exception inside the block rolls back every write made in it."""
        customer = Customer.person_named(family="张", given="伟")
        with pytest.raises(RuntimeError):
            _write(store, lambda uow: uow.customers.add(customer), fail=True)
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 0

    def test_explicit_rollback(self, store: Store) -> None:
        """rollback() discards writes; the unit of work can be used again."""
        first = Customer.person_named(family="李", given="娜")
        second = Customer.person_named(family="王", given="芳")
        with store.unit_of_work() as uow:
            uow.customers.add(first)
            uow.rollback()
            uow.customers.add(second)
            uow.commit()
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.stream()] == [second.id]

    def test_reads_see_own_writes(self, store: Store) -> None:
        """Inside a unit of work, get, find and count see its uncommitted writes."""
        customer = Customer.person_named(family="张", given="伟", tags=("vip",))
        with store.unit_of_work() as uow:
            stored = uow.customers.add(customer)
            assert _json(uow.customers.get(customer.id)) == _json(stored)
            assert uow.customers.find(Query(where=Field("tags") == "vip")) == [stored]
            assert uow.customers.count() == 1

    def test_commit_spans_every_repository(self, store: Store) -> None:
        """One commit saves a customer with its interactions, complaints and purchases."""
        records = [
            sample_customers()[0],
            *[r for r in sample_interactions() if r.customer_id == "c01"],
            *[r for r in sample_complaints() if r.customer_id == "c01"],
            *[r for r in sample_purchases() if r.customer_id == "c01"],
        ]
        stored = _add_all(store, records)
        with store.unit_of_work() as uow:
            for record in stored:
                assert _json(_repo(uow, record).get(record.id)) == _json(record)

    def test_failed_unit_of_work_saves_nothing_in_any_repository(self, store: Store) -> None:
        """A unit of work that hits a conflict saves none of its writes, in any repository."""
        [customer] = _add_all(store, sample_customers()[:1])
        with store.unit_of_work() as other:
            other.customers.update(attrs.evolve(customer, grade="Z"))
            other.commit()
        purchase = sample_purchases()[0]
        interaction = sample_interactions()[0]

        def write(uow: StoreUnitOfWork) -> None:
            uow.purchases.add(purchase)
            uow.interactions.add(interaction)
            uow.customers.update(attrs.evolve(customer, grade="Y"))

        with pytest.raises(ConcurrencyConflict):
            _write(store, write)
        with store.unit_of_work() as uow:
            assert uow.purchases.count() == 0
            assert uow.interactions.count() == 0
            assert uow.customers.get(customer.id).grade == "Z"

    def test_uncommitted_writes_are_invisible_to_others(self, store: Store) -> None:
        """Another unit of work does not see writes that were not committed."""
        self.require(store, "concurrent_writers")
        customer = Customer.person_named(family="张", given="伟")
        with store.unit_of_work() as writer:
            writer.customers.add(customer)
            seen: list[int] = []

            def read() -> None:
                with store.unit_of_work() as reader:
                    seen.append(reader.customers.count())

            thread = threading.Thread(target=read)
            thread.start()
            thread.join(timeout=60)
            assert seen == [0]
            writer.commit()
        with store.unit_of_work() as reader:
            assert reader.customers.count() == 1

    def test_unit_of_work_continues_after_commit(self, store: Store) -> None:
        """After commit() a unit of work starts afresh; later writes need another commit."""
        first = Customer.person_named(family="张", given="伟")
        second = Customer.person_named(family="王", given="芳")
        with store.unit_of_work() as uow:
            uow.customers.add(first)
            uow.commit()
            uow.customers.add(second)
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.stream()] == [first.id]


# --------------------------------------------------------------------------- concurrency


class ConcurrencyTests(BackendFixtures):
    """Stale writes conflict and change nothing; racing writers lose nothing."""

    race_wait: ClassVar[float] = 2.0
    """Seconds the first racer waits for the second to write (a row-locking backend blocks it)."""

    def test_stale_update_conflicts_and_changes_nothing(self, store: Store) -> None:
        """Saving a record read before someone else's save raises ConcurrencyConflict."""
        [customer] = _add_all(store, sample_customers()[:1])
        with store.unit_of_work() as uow:
            winner = uow.customers.update(attrs.evolve(customer, grade="B"))
            uow.commit()
        with pytest.raises(ConcurrencyConflict):
            _write(store, lambda uow: uow.customers.update(attrs.evolve(customer, grade="C")))
        with pytest.raises(ConcurrencyConflict):
            _write(store, lambda uow: uow.customers.remove(customer))
        with store.unit_of_work() as uow:
            assert uow.customers.get(customer.id) == winner
            assert len(uow.customers.history(customer.id)) == 2

    def test_stale_update_of_other_records_conflicts(self, store: Store) -> None:
        """Interactions, complaints and purchases are version-checked too."""
        records = [sample_interactions()[0], sample_complaints()[0], sample_purchases()[0]]
        _add_owners(store, records)
        stored = _add_all(store, records)
        with store.unit_of_work() as uow:
            for record in stored:
                _repo(uow, record).update(record)
            uow.commit()
        for record in stored:
            with pytest.raises(ConcurrencyConflict):
                _write(store, _updater(record))
        with store.unit_of_work() as uow:
            for record in stored:
                assert _repo(uow, record).get(record.id).version == 2

    def test_update_of_missing_record_raises_not_found(self, store: Store) -> None:
        """Updating or removing a record that is not stored raises NotFound."""
        customer = attrs.evolve(Customer.person_named(family="张", given="伟"), version=1)
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.customers.update(customer)
            with pytest.raises(NotFound):
                uow.customers.remove(customer)
            with pytest.raises(NotFound):
                uow.purchases.update(attrs.evolve(sample_purchases()[0], version=1))

    def test_two_writers_race_exactly_one_wins(self, store: Store) -> None:
        """Two writers save the same version at once: one commits, the other conflicts."""
        self.require(store, "concurrent_writers")
        [base] = _add_all(store, sample_customers()[:1])
        first_wrote = threading.Event()
        second_tried = threading.Event()
        first_done = threading.Event()
        results: dict[str, str] = {}

        def first() -> None:
            try:
                with store.unit_of_work(actor="first") as uow:
                    uow.customers.update(attrs.evolve(base, grade="first"))
                    first_wrote.set()
                    second_tried.wait(timeout=self.race_wait)
                    uow.commit()
                results["first"] = "ok"
            except ConcurrencyConflict:
                results["first"] = "conflict"
            except Exception as error:  # pragma: no cover - reported below
                results["first"] = f"error: {error!r}"
            finally:
                first_wrote.set()
                first_done.set()

        def second() -> None:
            first_wrote.wait(timeout=60)
            try:
                with store.unit_of_work(actor="second") as uow:
                    try:
                        uow.customers.update(attrs.evolve(base, grade="second"))
                    finally:
                        second_tried.set()
                    first_done.wait(timeout=60)
                    uow.commit()
                results["second"] = "ok"
            except ConcurrencyConflict:
                results["second"] = "conflict"
            except Exception as error:  # pragma: no cover - reported below
                results["second"] = f"error: {error!r}"
            finally:
                second_tried.set()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(results.values()) == ["conflict", "ok"], results
        winner = next(name for name, outcome in results.items() if outcome == "ok")
        with store.unit_of_work() as uow:
            stored = uow.customers.get(base.id)
            assert stored.version == 2
            assert stored.grade == winner
            updates = [
                h for h in uow.customers.history(base.id) if h.operation is ChangeOperation.UPDATED
            ]
            assert [h.actor for h in updates] == [winner]

    def test_racing_writers_lose_nothing(self, store: Store) -> None:
        """Writers retrying on conflict all land: every change is kept, none overwritten."""
        self.require(store, "concurrent_writers")
        [base] = _add_all(store, sample_customers()[16:17])
        writers = 4
        barrier = threading.Barrier(writers, timeout=60)
        errors: list[str] = []

        def writer(number: int) -> None:
            tag = f"writer-{number}"
            barrier.wait()
            for _attempt in range(200):
                try:
                    with store.unit_of_work(actor=tag) as uow:
                        current = uow.customers.get(base.id)
                        uow.customers.update(attrs.evolve(current, tags=(*current.tags, tag)))
                        uow.commit()
                    return
                except ConcurrencyConflict:
                    continue
                except Exception as error:  # pragma: no cover - reported below
                    errors.append(f"{tag}: {error!r}")
                    return
            errors.append(f"{tag}: gave up after 200 conflicts")  # pragma: no cover

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert errors == []
        with store.unit_of_work() as uow:
            stored = uow.customers.get(base.id)
            assert set(stored.tags) >= {f"writer-{n}" for n in range(writers)}
            assert stored.version == 1 + writers
            history = uow.customers.history(base.id)
            assert [h.version for h in history] == list(range(1, writers + 2))


# --------------------------------------------------------------------------- queries


class QueryTests(BackendFixtures):
    """Every query returns exactly what :meth:`Query.apply` returns over the same records."""

    @pytest.fixture
    def loaded(self, store: Store) -> dict[str, list[Any]]:
        """Load the sample data set; returns the stored records by repository name."""
        return load_sample_data(store)

    @pytest.mark.parametrize("name", sorted(CUSTOMER_QUERIES))
    def test_customer_query_matches_reference(
        self, store: Store, loaded: dict[str, list[Any]], name: str
    ) -> None:
        """Each named customer query returns the reference result, in the reference order."""
        query = CUSTOMER_QUERIES[name]
        expected = query.apply(loaded["customers"])
        with store.unit_of_work() as uow:
            found = uow.customers.find(query)
            assert [c.id for c in found] == [c.id for c in expected]
            assert found == expected
            assert uow.customers.count(query) == len(query.unpaged().apply(loaded["customers"]))

    @pytest.mark.parametrize(
        ("repository", "name"),
        [
            *(("interactions", n) for n in sorted(INTERACTION_QUERIES)),
            *(("complaints", n) for n in sorted(COMPLAINT_QUERIES)),
            *(("purchases", n) for n in sorted(PURCHASE_QUERIES)),
        ],
    )
    def test_other_queries_match_reference(
        self, store: Store, loaded: dict[str, list[Any]], repository: str, name: str
    ) -> None:
        """Queries on interactions, complaints and purchases return the reference result."""
        query = {
            "interactions": INTERACTION_QUERIES,
            "complaints": COMPLAINT_QUERIES,
            "purchases": PURCHASE_QUERIES,
        }[repository][name]
        expected = query.apply(loaded[repository])
        with store.unit_of_work() as uow:
            found = getattr(uow, repository).find(query)
        assert [r.id for r in found] == [r.id for r in expected]
        assert found == expected

    @KIT_SETTINGS
    @given(query=customer_queries())
    def test_random_queries_match_reference(
        self, store: Store, loaded: dict[str, list[Any]], query: Query
    ) -> None:
        """Random combinations of filters, orderings and limits return the reference result."""
        expected = query.apply(loaded["customers"])
        with store.unit_of_work() as uow:
            found = uow.customers.find(query)
        assert [c.id for c in found] == [c.id for c in expected]

    def test_query_sees_updates(self, store: Store, loaded: dict[str, list[Any]]) -> None:
        """A query reflects updated and removed records."""
        customers = {c.id: c for c in loaded["customers"]}
        with store.unit_of_work() as uow:
            uow.customers.update(
                attrs.evolve(
                    customers["c04"],
                    tags=("vip",),
                    phones=(Phone(number="+8613700000000"),),
                )
            )
            uow.customers.remove(customers["c01"], dependents="remove")
            uow.commit()
        with store.unit_of_work() as uow:
            current = list(uow.customers.stream())
            for query in (
                Query(where=Field("tags") == "vip", order_by=("display_name",)),
                Query(where=Field("phones.number") == "+8613800138000"),
                Query(where=Field("phones.number") == "+8613700000000"),
            ):
                assert uow.customers.find(query) == query.apply(current)

    def test_unknown_field_is_a_validation_error(self, store: Store) -> None:
        """A query on a field the model does not have raises query.unknown_field."""
        with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
            uow.customers.find(Query(where=Field("person.surname") == "张"))
        assert info.value.codes == ("query.unknown_field",)


class PaginationTests(BackendFixtures):
    """Keyset pages cover the result exactly once: no gaps, no repeats."""

    @pytest.fixture
    def loaded_customers(self, store: Store) -> list[Customer]:
        """Load the sample customers."""
        return _add_all(store, sample_customers())

    @pytest.mark.parametrize("order", sorted(PAGINATION_ORDERS))
    @pytest.mark.parametrize("page_size", [1, 4, 7])
    def test_pages_cover_the_result_once(
        self, store: Store, loaded_customers: list[Customer], order: str, page_size: int
    ) -> None:
        """Following cursors page by page yields the reference order exactly once."""
        query = Query(order_by=PAGINATION_ORDERS[order], limit=page_size)
        expected = query.unpaged().apply(loaded_customers)
        seen: list[Customer] = []
        current: Query | None = query
        with store.unit_of_work() as uow:
            for _ in range(len(expected) + 2):
                if current is None:
                    break
                page = uow.customers.find(current)
                assert len(page) <= page_size
                seen.extend(page)
                current = current.next_page(page)
        assert [c.id for c in seen] == [c.id for c in expected]

    def test_pages_with_a_filter(self, store: Store, loaded_customers: list[Customer]) -> None:
        """Paging a filtered, ordered query yields exactly the filtered reference result."""
        query = Query(
            where=Field("lifecycle_stage").in_(["repeat", "client", "prospect"]),
            order_by=("-grade", "display_name"),
            limit=2,
        )
        expected = query.unpaged().apply(loaded_customers)
        seen: list[Customer] = []
        current: Query | None = query
        with store.unit_of_work() as uow:
            while current is not None and len(seen) <= len(expected):
                page = uow.customers.find(current)
                seen.extend(page)
                current = current.next_page(page)
        assert [c.id for c in seen] == [c.id for c in expected]

    def test_cursor_from_any_record(self, store: Store, loaded_customers: list[Customer]) -> None:
        """A cursor made from any record returns exactly the records after it."""
        query = Query(order_by=("grade", "-acquired_on"))
        ordered = query.apply(loaded_customers)
        with store.unit_of_work() as uow:
            for index, record in enumerate(ordered):
                after = uow.customers.find(query.page_after(record))
                assert [c.id for c in after] == [c.id for c in ordered[index + 1 :]]


# --------------------------------------------------------------------------- bulk import


def _reject_blocked(customer: Customer) -> Customer:
    if "blocked" in customer.tags:
        raise ValidationError(
            [Problem(code="kit.blocked", path="$.tags", message="blocked by the kit's normaliser")]
        )
    return attrs.evolve(customer, display_name=customer.display_name.strip())


class ImportTests(BackendFixtures):
    """Bulk import: one outcome per record; rejected records write nothing."""

    def test_import_report(self, backend: Backend) -> None:
        """Created, updated, unchanged and rejected records are reported; only good ones land."""
        store = Store(backend, clock=TickingClock(), normaliser=_reject_blocked)
        existing = _add_all(store, sample_customers()[:3])
        fresh = sample_customers()[3:8]
        records: list[Any] = [
            *fresh,
            attrs.evolve(existing[0], version=0, grade="Z"),  # update (blind upsert)
            existing[1],  # unchanged
            attrs.evolve(existing[2], version=7, grade="Y"),  # stale version
            {"kind": "person", "display_name": 7},  # structure problems
            attrs.evolve(sample_customers()[8], tags=("blocked",)),  # normaliser rejects
            {**to_dict(sample_customers()[9]), "version": 0},  # a mapping, created
            fresh[0],  # repeated id
            "not a customer",
        ]
        report = store.import_customers(records, batch_size=3, actor="importer", source="kit")
        statuses = [o.status for o in report.outcomes]
        assert [o.index for o in report.outcomes] == list(range(len(records)))
        created, updated, unchanged, rejected = (
            ImportStatus.CREATED,
            ImportStatus.UPDATED,
            ImportStatus.UNCHANGED,
            ImportStatus.REJECTED,
        )
        assert statuses == [
            *[created] * len(fresh),
            updated,
            unchanged,
            rejected,
            rejected,
            rejected,
            created,
            rejected,
            rejected,
        ]
        assert (report.created, report.updated, report.unchanged, report.rejected) == (6, 1, 1, 5)
        problems = {o.index: {p.code for p in o.problems} for o in report.rejections()}
        n = len(fresh)
        assert problems[n + 2] == {"storage.conflict"}
        assert "type.invalid" in problems[n + 3]
        assert problems[n + 4] == {"kit.blocked"}
        assert problems[n + 6] == {"import.duplicate_id"}
        assert problems[n + 7] == {"type.invalid"}
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 3 + 6
            assert uow.customers.get(existing[0].id).grade == "Z"
            assert uow.customers.get(existing[0].id).version == 2
            assert uow.customers.get(existing[1].id) == existing[1]
            assert uow.customers.get(existing[2].id) == existing[2]
            with pytest.raises(NotFound):
                uow.customers.get(sample_customers()[8].id)
            for outcome in report.outcomes:
                if outcome.status in (created, updated, unchanged):
                    assert outcome.id is not None
                    assert uow.customers.get(outcome.id).version == outcome.version
            history = uow.customers.history(fresh[1].id)
            assert [(h.operation, h.actor, h.source) for h in history] == [
                (ChangeOperation.CREATED, "importer", "kit")
            ]

    def test_import_many_in_batches(self, store: Store) -> None:
        """Hundreds of customers imported in batches all land, streamed back in id order."""
        customers = [
            Customer.person_named(family="张", given=f"{n:03d}", id=f"bulk-{n:04d}")
            for n in range(250)
        ]
        report = store.import_customers(customers, batch_size=64)
        assert report.ok
        assert report.created == 250
        streamed = list(store.stream_customers(batch_size=50))
        assert [c.id for c in streamed] == [c.id for c in customers]
        assert all(c.version == 1 for c in streamed)

    def test_import_without_upsert_rejects_existing(self, store: Store) -> None:
        """With upsert=False an existing id is rejected and left as it was."""
        [existing] = _add_all(store, sample_customers()[:1])
        report = store.import_customers([attrs.evolve(existing, grade="Q")], upsert=False)
        assert [o.status for o in report.outcomes] == [ImportStatus.REJECTED]
        assert report.outcomes[0].problems[0].code == "storage.duplicate"
        with store.unit_of_work() as uow:
            assert uow.customers.get(existing.id) == existing

    def test_import_uses_the_normaliser(self, backend: Backend) -> None:
        """Imported customers are stored as the normaliser returns them."""
        store = Store(backend, normaliser=_reject_blocked)
        customer = Customer.person_named(family="王", given="芳", display_name="  王芳  ")
        store.import_customers([customer])
        with store.unit_of_work() as uow:
            assert uow.customers.get(customer.id).display_name == "王芳"


# --------------------------------------------------------------------------- history


class HistoryTests(BackendFixtures):
    """Every change to a customer is recorded: what, old and new, when, by whom, from where."""

    def test_history_of_create_update_remove(self, store: Store) -> None:
        """Creating, updating and removing a customer each append one change record."""
        customer = sample_customers()[0]
        with store.unit_of_work(actor="alice", source="form") as uow:
            created = uow.customers.add(customer)
            uow.commit()
        with store.unit_of_work(actor="bob", source="crm-sync") as uow:
            updated = uow.customers.update(
                attrs.evolve(created, display_name="张伟 (VIP)", grade=None)
            )
            uow.commit()
        with store.unit_of_work(actor="carol") as uow:
            uow.customers.remove(updated)
            uow.commit()
        with store.unit_of_work() as uow:
            history = uow.customers.history(customer.id)
        assert [(h.operation, h.version, h.actor, h.source) for h in history] == [
            (ChangeOperation.CREATED, 1, "alice", "form"),
            (ChangeOperation.UPDATED, 2, "bob", "crm-sync"),
            (ChangeOperation.REMOVED, 3, "carol", None),
        ]
        assert all(h.customer_id == customer.id for h in history)
        assert history[0].at < history[1].at < history[2].at
        changes = {c.path: (c.old, c.new) for c in history[1].changes}
        assert changes == {
            "$.display_name": ('"张伟"', '"张伟 (VIP)"'),
            "$.grade": ('"A"', "null"),
        }
        assert history[0].changes == ()
        [removal] = history[2].changes
        assert removal.path == "$"
        assert removal.new is None
        versions = customer_versions(None, history)
        assert sorted(versions) == [1, 2]
        assert versions[1]["display_name"] == "张伟"
        assert versions[1]["grade"] == "A"
        assert versions[2]["display_name"] == "张伟 (VIP)"
        assert versions[2]["grade"] is None

    @KIT_SETTINGS
    @given(first=cst.customers(), changes=st.lists(cst.customers(), min_size=1, max_size=3))
    def test_history_rebuilds_every_version(
        self, store: Store, first: Customer, changes: list[Customer]
    ) -> None:
        """The stored history, read back, rebuilds every version of a customer exactly."""
        current = _add_all(store, [_fresh(first)])[0]
        written = [current]
        for change in changes:
            with store.unit_of_work() as uow:
                current = uow.customers.update(
                    attrs.evolve(change, id=current.id, version=current.version)
                )
                uow.commit()
            written.append(current)
        with store.unit_of_work() as uow:
            history = uow.customers.history(current.id)
            stored = uow.customers.get(current.id)
        versions = customer_versions(stored, history)
        for version in written:
            expected = to_dict(version)
            for key in ("version", "created_at", "updated_at"):
                del expected[key]
            assert versions[version.version] == expected

    def test_history_rolls_back_with_the_unit_of_work(self, store: Store) -> None:
        """A change that was rolled back leaves no history."""
        customer = sample_customers()[1]
        with store.unit_of_work() as uow:
            uow.customers.add(customer)
        with store.unit_of_work() as uow:
            assert uow.customers.history(customer.id) == []

    def test_history_is_per_customer(self, store: Store) -> None:
        """Each customer's history holds only its own changes, oldest first."""
        stored = _add_all(store, sample_customers()[:3])
        with store.unit_of_work() as uow:
            for customer in stored:
                uow.customers.update(attrs.evolve(customer, owner="sales-9"))
            uow.commit()
        with store.unit_of_work() as uow:
            for customer in stored:
                history = uow.customers.history(customer.id)
                assert [h.operation for h in history] == [
                    ChangeOperation.CREATED,
                    ChangeOperation.UPDATED,
                ]
                assert {h.customer_id for h in history} == {customer.id}


class StoreConformance(
    RoundTripTests,
    UnitOfWorkTests,
    ConcurrencyTests,
    QueryTests,
    PaginationTests,
    ImportTests,
    HistoryTests,
):
    """Every conformance test: subclass it as ``Test...`` and provide a ``backend`` fixture."""
