"""The typed extension points a store takes: its clock, its normaliser, a batch normaliser."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from crmcore.errors import ValidationError
from crmcore.models import Customer, utc_now
from crmcore.rules.verification import NormalisationPipeline
from crmcore.storage import (
    BatchNormaliser,
    Clock,
    ImportStatus,
    MemoryBackend,
    Normaliser,
    Store,
    connect,
)
from crmcore.testing import TickingClock

START = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


class CountingClock(TickingClock):
    """A ticking clock that counts how often it is read."""

    def __init__(self) -> None:
        super().__init__(START)
        self.reads = 0

    def __call__(self) -> dt.datetime:
        self.reads += 1
        return super().__call__()


def zhang(customer_id: str = "c1") -> Customer:
    return Customer.person_named(family="张", given="伟", id=customer_id)


if TYPE_CHECKING:  # the protocols are met structurally, as mypy checks

    def _pipeline_is_a_batch_normaliser(pipeline: NormalisationPipeline) -> BatchNormaliser:
        return pipeline

    def _pipeline_is_a_normaliser(pipeline: NormalisationPipeline) -> Normaliser:
        return pipeline

    def _ticking_clock_is_a_clock(clock: TickingClock) -> Clock:
        return clock

    _utc_now_is_a_clock: Clock = utc_now

    def _connect_takes_either_form(alone: Callable[[Customer], Customer]) -> Store:
        return connect("memory://", normaliser=alone)


def test_the_pipeline_is_a_batch_normaliser_at_run_time() -> None:
    """NormalisationPipeline satisfies BatchNormaliser (and so Normaliser) without naming it."""
    pipeline = NormalisationPipeline(default_region="CN")
    assert isinstance(pipeline, BatchNormaliser)
    assert isinstance(pipeline, Normaliser)
    assert BatchNormaliser not in type(pipeline).__mro__


def test_a_function_of_the_customer_alone_is_called_without_reading_the_clock() -> None:
    """The earlier one-argument form still works: it gets only the customer, and the store
    reads its clock for the timestamps alone (one read per add)."""
    seen: list[str] = []

    def tag(customer: Customer) -> Customer:
        seen.append(customer.id)
        return customer

    clock = CountingClock()
    store = Store(MemoryBackend(), normaliser=tag, clock=clock)
    with store.unit_of_work() as uow:
        stored = uow.customers.add(zhang())
        assert clock.reads == 2  # the timestamps, then the change record
        uow.commit()
    assert seen == ["c1"]
    assert stored.created_at == START


def test_a_normaliser_taking_now_gets_the_store_clocks_time_on_every_write_path() -> None:
    """add, update and import call a Normaliser with now= from the store's clock."""
    times: list[dt.datetime] = []

    def judge(customer: Customer, *, now: dt.datetime) -> Customer:
        times.append(now)
        return customer

    store = Store(MemoryBackend(), normaliser=judge, clock=TickingClock(START))
    with store.unit_of_work() as uow:
        stored = uow.customers.add(zhang())
        uow.customers.update(attrs.evolve(stored, grade="B"))  # a change: a no-op writes nothing
        uow.commit()
    store.import_customers([zhang("c2")])
    tick = dt.timedelta(seconds=1)
    # add: normaliser (0), timestamps (1), history (2); update: normaliser (3), ...
    assert times == [START, START + 3 * tick, START + 6 * tick]


def test_a_normaliser_taking_keywords_is_given_now() -> None:
    """A normaliser with **kwargs is a Normaliser: it is handed now= too."""
    received: list[dict[str, Any]] = []

    def loose(customer: Customer, **options: Any) -> Customer:
        received.append(options)
        return customer

    store = Store(MemoryBackend(), normaliser=loose, clock=TickingClock(START))
    store.import_customers([zhang()])
    assert received == [{"now": START}]


@pytest.mark.parametrize("takes_now", [True, False])
def test_a_normaliser_returning_no_customer_is_a_type_error(takes_now: bool) -> None:
    """Whichever form, a normaliser's result that is not a Customer is refused loudly."""

    def junk_with_now(customer: Customer, *, now: dt.datetime) -> Customer:
        return "junk"  # type: ignore[return-value]

    def junk(customer: Customer) -> Customer:
        return "junk"  # type: ignore[return-value]

    store = Store(MemoryBackend(), normaliser=junk_with_now if takes_now else junk)
    with store.unit_of_work() as uow, pytest.raises(TypeError, match="returned a str"):
        uow.customers.add(zhang())


def test_a_naive_clock_is_refused_with_a_validation_error_without_a_normaliser() -> None:
    """A clock returning a naive time cannot stamp a record: the model refuses it, typed."""
    store = Store(MemoryBackend(), normaliser=None, clock=lambda: dt.datetime(2026, 1, 1))
    with store.unit_of_work() as uow, pytest.raises(ValidationError) as refused:
        uow.customers.add(zhang())
    assert {p.code for p in refused.value.problems} == {"datetime.naive"}
    with pytest.raises(ValidationError) as refused:
        store.import_customers([zhang()])
    assert {p.code for p in refused.value.problems} == {"datetime.naive"}


def test_a_naive_clock_is_refused_by_the_default_normaliser_on_add() -> None:
    """With the default pipeline, add() refuses the naive time before anything is stamped."""
    store = Store(MemoryBackend(), clock=lambda: dt.datetime(2026, 1, 1))
    with store.unit_of_work() as uow, pytest.raises(ValidationError) as refused:
        uow.customers.add(zhang())
    assert [p.path for p in refused.value.problems] == ["$.now"]
    assert store.import_customers([zhang()]).outcomes[0].status is ImportStatus.REJECTED
