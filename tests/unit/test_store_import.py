"""How Store.import_customers writes batches: fresh ids without lookups, stored ids looked up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pytest

from crmcore._fastpaths import set_fast_paths
from crmcore.errors import Problem, ValidationError
from crmcore.models import Customer, Email, Phone
from crmcore.rules.verification import NormalisationPipeline, NormalisationResult
from crmcore.storage import ImportStatus, MemoryBackend, MemoryTransaction, Store
from crmcore.storage.ports import Record, RecordKind
from crmcore.testing import TickingClock


class SpyBackend(MemoryBackend):
    """The memory backend, counting the id lookups import makes and the ids of each insert."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0
        self.batches: list[list[str]] = []

    @property
    def inserts(self) -> int:
        return len(self.batches)

    def forget(self) -> None:
        self.lookups = 0
        self.batches.clear()

    def begin(self) -> MemoryTransaction:
        tx = super().begin()
        backend = self
        get_many, insert = tx.get_many, tx.insert

        def counting_get_many(kind: RecordKind, record_ids: Sequence[str]) -> dict[str, Record]:
            backend.lookups += 1
            return get_many(kind, record_ids)

        def counting_insert(kind: RecordKind, records: Sequence[Record]) -> None:
            backend.batches.append([r.id for r in records])
            insert(kind, records)

        tx.get_many = counting_get_many  # type: ignore[method-assign]
        tx.insert = counting_insert  # type: ignore[method-assign]
        return tx


def people(ids: Sequence[str]) -> list[Customer]:
    return [Customer.person_named(family="张", given=f"伟{i}", id=i) for i in ids]


@pytest.fixture
def backend() -> SpyBackend:
    return SpyBackend()


@pytest.fixture
def store(backend: SpyBackend) -> Store:
    return Store(backend, normaliser=None, clock=TickingClock())


def stored_ids(store: Store) -> list[str]:
    return [c.id for c in store.stream_customers()]


@pytest.fixture
def fast_paths_on() -> Iterator[None]:
    """The insert-first fast path is on for the test (also in CI's run with the switch set)."""
    previous = set_fast_paths(True)
    yield
    set_fast_paths(previous)


def test_with_fast_paths_off_every_batch_looks_its_ids_up(
    store: Store, backend: SpyBackend
) -> None:
    """CRMCORE_NO_FAST_PATHS routes imports to the careful path: a lookup before each insert."""
    previous = set_fast_paths(False)
    try:
        report = store.import_customers(people(["a1", "a2", "a3"]), batch_size=1)
    finally:
        set_fast_paths(previous)
    assert [o.status for o in report.outcomes] == [ImportStatus.CREATED] * 3
    assert backend.lookups == 3


def test_a_fresh_import_inserts_without_looking_ids_up(
    store: Store, backend: SpyBackend, fast_paths_on: None
) -> None:
    """No stored id: every batch is one insert, no lookup; all are created, version 1."""
    report = store.import_customers(people([f"c{i}" for i in range(10)]), batch_size=4)
    assert (report.created, report.rejected) == (10, 0)
    assert (backend.lookups, backend.inserts) == (0, 3)
    assert {o.version for o in report.outcomes} == {1}
    assert len(stored_ids(store)) == 10


def test_a_batch_with_a_stored_id_is_redone_with_lookups(
    store: Store, backend: SpyBackend, fast_paths_on: None
) -> None:
    """The insert refuses the batch holding a stored id; nothing of that attempt stays,
    the batch is written again after looking its ids up, and the report is exact."""
    store.import_customers(people(["b2"]), batch_size=10)
    backend.forget()
    records = people(["a1", "a2", "b1", "b2", "c1", "c2"])
    report = store.import_customers(records, batch_size=2)
    assert [o.status for o in report.outcomes] == [
        ImportStatus.CREATED,
        ImportStatus.CREATED,
        ImportStatus.CREATED,
        ImportStatus.UNCHANGED,
        ImportStatus.CREATED,
        ImportStatus.CREATED,
    ]
    # batch a: insert; batch b: failed insert, lookup, insert of b1;
    # batch c: lookup (the previous batch met a stored id), insert
    assert backend.lookups == 2
    assert backend.inserts == 4
    assert sorted(stored_ids(store)) == ["a1", "a2", "b1", "b2", "c1", "c2"]


def test_lookups_stop_once_a_batch_finds_no_stored_id(
    store: Store, backend: SpyBackend, fast_paths_on: None
) -> None:
    """After a batch whose ids were all new, the next batches insert straight away again."""
    store.import_customers(people(["a1"]), batch_size=10)
    backend.forget()
    report = store.import_customers(people(["a1", "b1", "c1", "d1"]), batch_size=1)
    assert [o.status for o in report.outcomes][1:] == [ImportStatus.CREATED] * 3
    assert backend.lookups == 2  # a1 (after its refused insert) and b1, then none


def test_upsert_false_reports_a_stored_id_met_by_the_insert(store: Store) -> None:
    """With upsert=False, the stored id is rejected and the rest of its batch created."""
    store.import_customers(people(["x"]), batch_size=10)
    report = store.import_customers(people(["w", "x", "y"]), batch_size=10, upsert=False)
    assert [o.status for o in report.outcomes] == [
        ImportStatus.CREATED,
        ImportStatus.REJECTED,
        ImportStatus.CREATED,
    ]
    assert report.outcomes[1].problems[0].code == "storage.duplicate"


def test_the_fast_path_stamps_and_records_history_like_the_careful_one() -> None:
    """Created through the insert-first path or after lookups, a customer is stored and
    its history recorded the same way."""
    fresh = Store(SpyBackend(), normaliser=None, clock=TickingClock())
    careful = Store(SpyBackend(), normaliser=None, clock=TickingClock())
    careful.import_customers(people(["zz"]))  # a stored id makes later batches look up
    careful_batch = people(["a", "zz"])
    fresh.import_customers(people(["a"]), actor="ops", source="crm.csv")
    careful.import_customers(careful_batch, actor="ops", source="crm.csv")
    with fresh.unit_of_work() as f, careful.unit_of_work() as c:
        one, other = f.customers.get("a"), c.customers.get("a")
        assert (one.version, other.version) == (1, 1)
        assert one.created_at == one.updated_at
        first, second = f.customers.history("a"), c.customers.history("a")
    assert [(h.operation, h.actor, h.source, h.version) for h in first] == [
        (h.operation, h.actor, h.source, h.version) for h in second
    ]


class LoudPipeline(NormalisationPipeline):
    """A pipeline subclass that notes each call and each batch it is handed."""

    calls: list[str] = []  # noqa: RUF012 - shared on purpose, read by the tests
    batches: list[list[str]] = []  # noqa: RUF012

    def __call__(self, customer: Customer, **kwargs: Any) -> Customer:
        LoudPipeline.calls.append(customer.id)
        return super().__call__(customer, **kwargs)

    def check_many(self, customers: Iterable[Customer], **kwargs: Any) -> list[NormalisationResult]:
        batch = list(customers)
        LoudPipeline.batches.append([c.id for c in batch])
        return super().check_many(batch, **kwargs)


def test_a_batch_normaliser_gets_whole_batches_on_import_and_single_writes_call_it() -> None:
    """A BatchNormaliser's check_many gets each import batch (it is not called per record);
    a unit of work's add calls it, with the store clock's time."""
    LoudPipeline.calls.clear()
    LoudPipeline.batches.clear()
    store = Store(MemoryBackend(), normaliser=LoudPipeline(), clock=TickingClock())
    report = store.import_customers(people(["p", "q", "r"]), batch_size=2)
    assert report.created == 3
    assert (LoudPipeline.calls, LoudPipeline.batches) == ([], [["p", "q"], ["r"]])
    with store.unit_of_work() as uow:
        uow.customers.add(people(["s"])[0])
    assert LoudPipeline.calls == ["s"]


class NoteTaker:
    """A Normaliser without check_many: a callable object taking the write time."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dt.datetime]] = []

    def __call__(self, customer: Customer, *, now: dt.datetime) -> Customer:
        self.seen.append((customer.id, now))
        return customer


def test_a_normaliser_without_check_many_is_called_per_record_with_the_clock() -> None:
    """An import calls a plain Normaliser once per record, in input order, at the clock's time."""
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    normaliser = NoteTaker()
    store = Store(MemoryBackend(), normaliser=normaliser, clock=TickingClock(start))
    store.import_customers(people(["p", "q"]), batch_size=10)
    assert normaliser.seen == [("p", start), ("q", start + dt.timedelta(seconds=1))]


def test_the_default_pipeline_normalises_imports_a_batch_at_a_time() -> None:
    """The store's default pipeline gives, batch by batch, what it gives one record alone:
    the same stored values and the same refusals."""
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    records = [
        Customer.person_named(
            family="王", given="芳", id="ok", phones=(Phone(number="+86 138 0013 8000"),)
        ),
        Customer.person_named(
            family="李", given="娜", id="bad", emails=(Email(address="not an email"),)
        ),
        Customer.person_named(
            family="Schmidt", given="Anna", id="de", phones=(Phone(number="+49 30 1234567"),)
        ),
    ]
    store = Store(MemoryBackend(), clock=lambda: now)
    report = store.import_customers(records, batch_size=3)
    pipeline = NormalisationPipeline()
    assert [o.status for o in report.outcomes] == [
        ImportStatus.CREATED,
        ImportStatus.REJECTED,
        ImportStatus.CREATED,
    ]
    with pytest.raises(ValidationError) as refused:
        pipeline(records[1], now=now)
    assert report.outcomes[1].problems == refused.value.problems
    with store.unit_of_work() as uow:
        for record in (records[0], records[2]):
            stored = uow.customers.get(record.id)
            expected = pipeline(record, now=now)
            assert stored.phones == expected.phones


class RacingBackend(MemoryBackend):
    """A memory backend where another writer stores one of the batch's ids while the
    import's first insert is still uncommitted."""

    def __init__(self, rival: Customer) -> None:
        super().__init__()
        self.rival = rival
        self.raced = False

    def begin(self) -> MemoryTransaction:
        tx = super().begin()
        insert = tx.insert

        def racing_insert(kind: RecordKind, records: Sequence[Record]) -> None:
            insert(kind, records)
            if not self.raced:
                self.raced = True
                other = super(RacingBackend, self).begin()
                other.insert("customer", [self.rival])
                other.commit()

        tx.insert = racing_insert  # type: ignore[method-assign]
        return tx


def test_a_concurrent_writer_of_the_same_id_loses_nothing() -> None:
    """The rival's customer is committed first; the import's insert-first attempt then
    fails at commit, and the batch is written again after a lookup: the rival's record
    is updated to the imported one, the rest created, nothing lost or doubled."""
    records = people(["r1", "r2", "r3"])
    rival = Customer.person_named(family="赵", given="敏", id="r2", version=1)
    backend = RacingBackend(rival)
    store = Store(backend, normaliser=None, clock=TickingClock())
    report = store.import_customers(records)
    assert backend.raced
    assert [o.status for o in report.outcomes] == [
        ImportStatus.CREATED,
        ImportStatus.UPDATED,
        ImportStatus.CREATED,
    ]
    with store.unit_of_work() as uow:
        r2 = uow.customers.get("r2")
        assert (r2.display_name, r2.version) == (records[1].display_name, 2)
    assert sorted(stored_ids(store)) == ["r1", "r2", "r3"]


def test_a_refused_record_reports_only_the_id_its_input_gave() -> None:
    """A mapping without an id that the normaliser refuses is reported with id None, not
    with an id minted while reading it; one with an id keeps it."""
    store = Store(MemoryBackend(), clock=TickingClock())
    bad_email = {"address": "not an email"}
    records: list[dict[str, Any]] = [
        {"kind": "person", "display_name": "李娜", "emails": [bad_email],
         "person": {"name": {"family": "李", "given": "娜"}}},
        {"kind": "person", "display_name": "王芳", "id": "wf", "emails": [bad_email],
         "person": {"name": {"family": "王", "given": "芳"}}},
    ]  # fmt: skip
    report = store.import_customers(records)
    assert [(o.status, o.id) for o in report.outcomes] == [
        (ImportStatus.REJECTED, None),
        (ImportStatus.REJECTED, "wf"),
    ]


def refuse_bad(customer: Customer) -> Customer:
    """A normaliser that refuses ids starting with 'bad' and returns junk for 'boom'."""
    if customer.id.startswith("bad"):
        raise ValidationError([Problem(code="test.bad", message="bad")], subject="Customer")
    if customer.id.startswith("boom"):
        return None  # type: ignore[return-value]
    return customer


def email_refused(id_: str) -> Customer:
    return Customer.person_named(
        family="李", given="娜", id=id_, emails=(Email(address="not an email"),)
    )


@pytest.mark.parametrize("default_pipeline", [False, True])
def test_batches_hold_batch_size_accepted_records(default_pipeline: bool) -> None:
    """Refused records and repeated ids take no place in a batch, whether the
    normaliser runs record by record or a batch at a time."""
    backend = SpyBackend()
    if default_pipeline:
        store = Store(backend, clock=TickingClock())
        bad = email_refused("bad1")
    else:
        store = Store(backend, normaliser=refuse_bad, clock=TickingClock())
        bad = people(["bad1"])[0]
    a, b, c = people(["a", "b", "c"])
    store.import_customers([a, bad, a, b, c], batch_size=2)
    assert backend.batches == [["a", "b"], ["c"]]


@pytest.mark.parametrize("default_pipeline", [False, True])
def test_outcomes_reach_the_callback_in_input_order(
    default_pipeline: bool,
) -> None:
    """Refusals, unreadable records and created records reach on_outcome in input order,
    a created record's outcome being held until its batch is written."""
    if default_pipeline:
        store = Store(MemoryBackend(), clock=TickingClock())
        bad = email_refused("bad1")
    else:
        store = Store(MemoryBackend(), normaliser=refuse_bad, clock=TickingClock())
        bad = people(["bad1"])[0]
    a = people(["a"])[0]
    got: list[tuple[int, ImportStatus]] = []
    store.import_customers(
        [bad, {"kind": 5}, a, a],
        batch_size=10,
        on_outcome=lambda o: got.append((o.index, o.status)),
    )
    assert got == [
        (0, ImportStatus.REJECTED),
        (1, ImportStatus.REJECTED),
        (2, ImportStatus.CREATED),
        (3, ImportStatus.REJECTED),
    ]


def test_a_normaliser_failing_mid_import_keeps_the_batches_written_before() -> None:
    """A normaliser that breaks its contract stops the import with its TypeError; every
    full batch of records before it is written, the rest is not."""
    backend = SpyBackend()
    store = Store(backend, normaliser=refuse_bad, clock=TickingClock())
    with pytest.raises(TypeError):
        store.import_customers(people(["a", "bad1", "b", "boom", "c"]), batch_size=2)
    assert backend.batches == [["a", "b"]]
    assert sorted(stored_ids(store)) == ["a", "b"]


def test_a_clock_without_a_time_zone_refuses_each_record() -> None:
    """The default pipeline refuses a naive clock time per record, with a report."""
    store = Store(MemoryBackend(), clock=lambda: dt.datetime(2026, 1, 1))
    report = store.import_customers(people(["a", "b"]))
    assert report.rejected == 2
    assert {p.code for o in report.outcomes for p in o.problems} == {"datetime.naive"}
