"""import_customers(workers=2) gives what workers=1 gives: outcomes, ids, stored data, history.

Worker pools take about half a second to start, so the property tests run a few small
examples each, on the in-memory backend and SQLite in memory; one test runs on
PostgreSQL.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from tests.integration._parallel_normalisers import BOOM, Crashing, Exploding
from tests.integration._stores import FIXED

import crmcore.storage._customer_import as customer_import
from crmcore.errors import ImportWorkerFailed, InvalidArgument, WrongType
from crmcore.models import Customer, Email, Phone
from crmcore.rules.verification import NormalisationPipeline
from crmcore.serialization import from_dict, to_dict
from crmcore.storage import ImportOutcome, ImportReport, ImportStatus, Store, connect
from crmcore.storage._parallel import NormaliserPool

PIPELINE = NormalisationPipeline(default_region="CN")
URLS = ["memory://", "sqlite:///:memory:"]
IDS = [f"c{i}" for i in range(10)]
FAMILY = ["张", "王", "欧阳", "García", "李"]
GIVEN = ["伟", "芳", "秀英", "José", "娜"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")

ROW_KINDS = ["ok", "ok", "ok", "no_id", "bad_email", "bad_phone", "bad_type", "model", "junk"]


def _phone(number: int, *, full_width: bool) -> str:
    text = f"138 {number % 10000:04d} {number * 7 % 10000:04d}"
    return text.translate(FULL_WIDTH) if full_width else text


@st.composite
def rows(draw: st.DrawFn) -> list[Any]:
    """An import's input: valid rows, rows the pipeline refuses, repeats, models and junk."""
    items: list[Any] = []
    for position in range(draw(st.integers(0, 24))):
        kind = draw(st.sampled_from(ROW_KINDS))
        family, given_name = draw(st.sampled_from(FAMILY)), draw(st.sampled_from(GIVEN))
        row: dict[str, Any] = {
            "id": draw(st.sampled_from(IDS)),
            "kind": "person",
            "display_name": f"{family}{given_name}",
            "person": {"name": {"family": family, "given": given_name}},
            "phones": [{"number": _phone(draw(st.integers(0, 6)), full_width=draw(st.booleans()))}],
            "tags": draw(st.lists(st.sampled_from(["vip", "会员", "北京"]), max_size=2)),
        }
        if draw(st.booleans()):
            row["phones"][0]["id"] = f"rp{position}"
        if draw(st.booleans()):
            row["emails"] = [{"address": f"u{position}@example.cn"}]
        if kind == "no_id":
            del row["id"]
        elif kind == "bad_email":
            row["emails"] = [{"address": "not an email"}]
        elif kind == "bad_phone":
            row["phones"] = [{"number": "12"}]
        elif kind == "bad_type":
            row["display_name"] = 5
        if kind == "model":
            items.append(from_dict(row, Customer))
        elif kind == "junk":
            items.append(draw(st.sampled_from([42, None, ("a", "b")])))
        else:
            items.append(row)
    return items


def _seed() -> list[Customer]:
    """Stored customers the merge-mode imports meet, by id or by phone."""
    return [
        Customer.person_named(
            family=FAMILY[i % 5],
            given=GIVEN[i % 5],
            id=IDS[i],
            tags=("老客户",),
            phones=(Phone(id=f"p{i}", number=_phone(i, full_width=False), primary=True),),
            emails=(Email(id=f"e{i}", address=f"old{i}@example.cn"),),
        )
        for i in range(0, 10, 2)
    ]


def _store(url: str, normaliser: Any = PIPELINE) -> Store:
    return connect(url, normaliser=normaliser, clock=lambda: FIXED)


Snapshot = tuple[list[Any], list[Any], list[Any], list[Any]]


def _snapshot(
    store: Store, report: ImportReport, inputs: list[Any], streamed: list[ImportOutcome]
) -> Snapshot:
    """The report, the outcomes streamed, stored customers and history, new ids renamed.

    An id the import gave a row without one is random; it is renamed by the row's
    index (after checking it has the form every new id has) so runs compare. The ids
    of contact points given without one (random too, made as the row is structured)
    are all shown as ``<new>``.
    """
    renamed: dict[str, str] = {}
    for outcome in [*report.outcomes, *streamed]:
        item = inputs[outcome.index]
        created = outcome.status is ImportStatus.CREATED
        if created and isinstance(item, Mapping) and "id" not in item and outcome.id:
            assert re.fullmatch(r"[0-9a-f]{32}", outcome.id), outcome.id
            renamed[outcome.id] = f"new-{outcome.index}"

    def name(record_id: str | None) -> str | None:
        return renamed.get(record_id, record_id) if record_id is not None else None

    def masked(data: Any) -> Any:
        if isinstance(data, str):
            return HEX_ID.sub(lambda m: renamed.get(m.group(), "<new>"), data)
        if isinstance(data, dict):
            return {key: masked(value) for key, value in data.items()}
        if isinstance(data, list | tuple):
            return [masked(value) for value in data]
        return data

    def outcome_row(o: ImportOutcome) -> tuple[Any, ...]:
        # a message may name new customers (an ambiguous match lists the stored ids,
        # sorted, so their order is as random as the ids themselves)
        problems = tuple(attrs.evolve(p, message=HEX_ID.sub("<id>", p.message)) for p in o.problems)
        return (o.index, name(o.id), o.status, o.version, problems, o.warnings)

    stored = []
    history = []
    for customer in list(store.stream_customers()):
        stored.append(masked(to_dict(customer)))
        with store.unit_of_work() as uow:
            records = uow.customers.history(customer.id)
        history.append([masked({**to_dict(r), "id": None}) for r in records])
    order = sorted(range(len(stored)), key=lambda i: str(stored[i]["id"]))
    counts = [report.created, report.updated, report.unchanged, report.rejected]
    return (
        [*counts, *map(outcome_row, report.outcomes)],
        [outcome_row(o) for o in streamed],
        [stored[i] for i in order],
        [history[i] for i in order],
    )


def _import(
    url: str,
    inputs: list[Any],
    *,
    workers: int | None,
    seed: Iterable[Customer] = (),
    generator: bool = False,
    normaliser: Any = PIPELINE,
    **options: Any,
) -> Snapshot:
    """Import ``inputs`` into a new store (holding ``seed``) and snapshot the result."""
    with _store(url, normaliser) as store:
        seeded = list(seed)
        if seeded:
            store.import_customers(seeded, workers=1, actor="seed")
        streamed: list[ImportOutcome] = []
        records: Iterable[Any] = (item for item in inputs) if generator else inputs
        report = store.import_customers(
            records,
            workers=workers,
            actor="feed",
            source="test",
            on_outcome=streamed.append if generator else None,
            **options,
        )
        return _snapshot(store, report, inputs, streamed)


SLOW = settings(
    max_examples=5,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking would start many pools
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SLOW
@given(url=st.sampled_from(URLS), inputs=rows(), batch_size=st.sampled_from([1, 3, 7]))
def test_new_customers_equal_one_worker(url: str, inputs: list[Any], batch_size: int) -> None:
    """A fresh import on two workers gives the one-worker outcomes, customers and history."""
    one = _import(url, inputs, workers=1, batch_size=batch_size)
    two = _import(url, inputs, workers=2, batch_size=batch_size)
    assert two == one


@SLOW
@given(
    url=st.sampled_from(URLS),
    inputs=rows(),
    batch_size=st.sampled_from([2, 5]),
    mode=st.sampled_from(["merge", "replace"]),
    match_on=st.sampled_from([None, "phone"]),
    upsert=st.booleans(),
)
def test_updates_from_a_generator_equal_one_worker(
    url: str,
    inputs: list[Any],
    batch_size: int,
    mode: str,
    match_on: str | None,
    upsert: bool,
) -> None:
    """Merging a generator into stored customers on two workers equals one worker."""
    options: dict[str, Any] = {
        "batch_size": batch_size,
        "mode": mode,
        "match_on": match_on,
        "upsert": upsert,
    }
    one = _import(url, inputs, workers=1, seed=_seed(), generator=True, **options)
    two = _import(url, inputs, workers=2, seed=_seed(), generator=True, **options)
    assert two == one


def _valid_rows(count: int, *, boom_at: int | None = None) -> list[dict[str, Any]]:
    return [
        {
            "id": f"v{i}",
            "kind": "person",
            "display_name": BOOM if i == boom_at else f"王{GIVEN[i % 5]}",
            "person": {"name": {"family": "王", "given": GIVEN[i % 5]}},
            "phones": [{"number": _phone(i, full_width=i % 2 == 0)}],
        }
        for i in range(count)
    ]


def _stored_ids(store: Store) -> list[str]:
    return [customer.id for customer in store.stream_customers()]


def test_a_generator_is_read_a_bounded_window_ahead() -> None:
    """With two workers the input is read at most five chunks ahead of the outcomes."""
    pulled = 0
    ahead: list[int] = []

    def rows_read() -> Iterator[dict[str, Any]]:
        nonlocal pulled
        for row in _valid_rows(60):
            pulled += 1
            yield row

    def seen(outcome: ImportOutcome) -> None:
        ahead.append(pulled - (outcome.index + 1))

    with _store("memory://") as store:
        report = store.import_customers(rows_read(), workers=2, batch_size=3, on_outcome=seen)
    assert report.created == 60
    assert len(ahead) == 60
    assert max(ahead) <= (2 * 2 + 1) * 3  # two chunks per worker in flight, one being filled


@pytest.mark.postgres
def test_postgresql_merge_equals_one_worker(sql_database: Callable[[str], str]) -> None:
    """On PostgreSQL, a merge import with rejections on two workers equals one worker."""
    inputs: list[Any] = [*_valid_rows(40), {"id": "c2", "display_name": 5}]
    inputs += [{"id": "c4", "kind": "person", "display_name": "王芳", "tags": ["vip"]}]
    inputs += [{"kind": "person", "display_name": "李娜", "emails": [{"address": "x"}]}]
    inputs += [{"kind": "person", "display_name": "李娜"}, {"id": "v3", "kind": "person"}]
    options: dict[str, Any] = {"batch_size": 6, "match_on": "phone"}
    one = _import(sql_database("postgresql"), inputs, workers=1, seed=_seed(), **options)
    two = _import(sql_database("postgresql"), inputs, workers=2, seed=_seed(), **options)
    assert two == one
    created, updated, _, rejected = one[0][:4]
    assert created > 0  # the run did create, update and reject
    assert updated > 0
    assert rejected > 0


@pytest.fixture
def workers_import_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spawned workers can import ``tests``: they start with this process's ``sys.path``.

    pytest's importlib mode imports the tests without putting their root on it.
    """
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))


@pytest.mark.usefixtures("workers_import_tests")
def test_a_normaliser_raising_in_a_worker_is_a_coded_error() -> None:
    """The worker's exception is chained; batches before it stay, its own is not written."""
    inputs = _valid_rows(20, boom_at=13)
    with _store("sqlite:///:memory:", Exploding()) as serial:
        with pytest.raises(RuntimeError, match="BOOM"):
            serial.import_customers(inputs, workers=1, batch_size=4)
        expected = _stored_ids(serial)
    with _store("sqlite:///:memory:", Exploding()) as store:
        with pytest.raises(ImportWorkerFailed, match="RuntimeError") as raised:
            store.import_customers(inputs, workers=2, batch_size=4)
        assert raised.value.code == "storage.import_worker_failed"
        assert isinstance(raised.value.__cause__, RuntimeError)
        assert set(_stored_ids(store)) == set(expected) == {f"v{i}" for i in range(12)}


@pytest.mark.usefixtures("workers_import_tests")
def test_a_worker_that_dies_is_a_coded_error() -> None:
    """A worker process ending mid-import raises ImportWorkerFailed; the batch is not written."""
    with _store("memory://", Crashing()) as store:
        with pytest.raises(ImportWorkerFailed, match="died") as raised:
            store.import_customers(_valid_rows(12, boom_at=9), workers=2, batch_size=4)
        assert raised.value.__cause__ is not None
        assert set(_stored_ids(store)) <= {f"v{i}" for i in range(8)}


class _Local:
    """A batch normaliser defined in a test module but wrapping a lambda: it cannot pickle."""

    def __init__(self) -> None:
        self.normalise = lambda customer: customer

    def __call__(self, customer: Customer, *, now: Any) -> Customer:
        return PIPELINE(customer, now=now)

    def check_many(self, customers: Any, *, now: Any) -> Any:
        return PIPELINE.check_many(customers, now=now)


def test_an_unpicklable_normaliser_is_refused_for_explicit_workers() -> None:
    """workers=2 with a normaliser that cannot pickle raises WrongType, writing nothing."""
    with _store("memory://", _Local()) as store:
        with pytest.raises(WrongType, match="cannot be pickled"):
            store.import_customers(_valid_rows(5), workers=2)
        assert _stored_ids(store) == []


@pytest.fixture
def small_auto(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """workers=None takes a pool from the fifth record on, of two workers; the sizes opened."""
    opened: list[int] = []
    original = NormaliserPool.open.__func__  # type: ignore[attr-defined]

    def spy(cls: type[NormaliserPool], /, normaliser: Any, workers: int, **options: Any) -> Any:
        opened.append(workers)
        return original(cls, normaliser, workers, **options)

    monkeypatch.setattr(customer_import, "AUTO_MIN_RECORDS", 5)
    monkeypatch.setattr(customer_import, "auto_workers", lambda: 2)
    monkeypatch.setattr(NormaliserPool, "open", classmethod(spy))
    return opened


def test_the_default_switches_a_long_generator_to_the_pool(small_auto: list[int]) -> None:
    """workers=None reads an unsized input on one worker, then on the pool once it is long."""
    inputs: list[Any] = [*_valid_rows(9), {"id": "v1", "kind": "person"}, 7]
    one = _import("memory://", inputs, workers=1, generator=True, batch_size=3)
    assert small_auto == []
    auto = _import("memory://", inputs, workers=None, generator=True, batch_size=3)
    assert small_auto == [2]
    assert auto == one


def test_the_default_keeps_short_inputs_in_process(small_auto: list[int]) -> None:
    """workers=None imports a list shorter than the threshold without starting a pool."""
    with _store("memory://") as store:
        report = store.import_customers(_valid_rows(4))
    assert report.created == 4
    assert small_auto == []


def test_the_default_falls_back_to_one_worker_for_an_unpicklable_normaliser(
    small_auto: list[int],
) -> None:
    """workers=None with a normaliser that cannot pickle warns and imports on one worker."""
    inputs = _valid_rows(8)
    with pytest.warns(RuntimeWarning, match="cannot be pickled"):
        auto = _import("memory://", inputs, workers=None, normaliser=_Local(), batch_size=3)
    assert auto == _import("memory://", inputs, workers=1, batch_size=3)


def test_workers_without_a_batch_normaliser_warn_and_run_in_process() -> None:
    """A plain normalising function runs in the importing process; workers=2 says so."""

    def tag_imported(customer: Customer) -> Customer:
        return from_dict({**to_dict(customer), "tags": ["导入"]}, Customer)

    inputs = _valid_rows(6)
    with pytest.warns(RuntimeWarning, match="not a BatchNormaliser") as caught:
        two = _import("memory://", inputs, workers=2, normaliser=tag_imported)
    assert caught[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = _import("memory://", inputs, workers=1, normaliser=tag_imported)
    assert two == one


@pytest.mark.parametrize(
    ("workers", "error"),
    [
        (0, InvalidArgument),
        (-2, InvalidArgument),
        (2.0, WrongType),
        ("2", WrongType),
        (True, WrongType),
    ],
)
def test_bad_workers_are_refused(workers: Any, error: type[Exception]) -> None:
    """workers must be None or a positive int; the refusal is coded and writes nothing."""
    with _store("memory://") as store:
        with pytest.raises(error, match="workers must be a positive integer or None"):
            store.import_customers(_valid_rows(2), workers=workers)
        assert _stored_ids(store) == []
