"""Store behaviour at the edges: repeated imports, the write time, odd ids, bad records."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crmcore.errors import ValidationError
from crmcore.models import Customer
from crmcore.storage import ImportOutcome, ImportStatus, MemoryBackend, Store, connect
from crmcore.testing import TickingClock


def _record(cid: str, name: str = "王芳", **extra: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "kind": "person",
        "display_name": name,
        "person": {"name": {"family": "王", "given": "芳"}},
        **extra,
    }


def test_reimporting_the_same_data_is_unchanged() -> None:
    """Contact points without ids keep their stored ids, so a re-import changes nothing."""
    store = connect("memory://")
    record = _record(
        "c1",
        phones=[{"number": "+8613800138000"}],
        emails=[{"address": "wang.fang@example.cn"}],
        addresses=[{"country": "CN", "city": "北京"}],
    )
    statuses = [store.import_customers([record]).outcomes[0].status for _ in range(3)]
    assert statuses == [ImportStatus.CREATED, ImportStatus.UNCHANGED, ImportStatus.UNCHANGED]
    with store.unit_of_work() as uow:
        assert uow.customers.get("c1").version == 1
        assert len(uow.customers.history("c1")) == 1


def _reimported(**options: Any) -> tuple[ImportOutcome, Customer, Customer]:
    """Import c1 with two phones, then again with the second number changed."""
    store = connect("memory://")
    first = _record("c1", phones=[{"number": "+8613800138000"}, {"number": "+861062345678"}])
    store.import_customers([first])
    with store.unit_of_work() as uow:
        before = uow.customers.get("c1")
    second = _record("c1", phones=[{"number": "+8613800138000"}, {"number": "+861088886666"}])
    (outcome,) = store.import_customers([second], **options).outcomes
    with store.unit_of_work() as uow:
        return outcome, before, uow.customers.get("c1")


def test_reimport_with_a_real_change_keeps_the_other_ids() -> None:
    """A changed contact point is an update; the unchanged ones keep their ids (replace mode)."""
    outcome, before, after = _reimported(mode="replace")
    assert outcome.status is ImportStatus.UPDATED
    assert after.phones[0].id == before.phones[0].id
    assert after.phones[1].id != before.phones[1].id


def test_merging_reimport_adds_a_new_phone_and_keeps_every_stored_id() -> None:
    """In merge mode (the default) a new number is added; stored phones keep their ids."""
    outcome, before, after = _reimported()
    assert outcome.status is ImportStatus.UPDATED
    assert [p.number for p in after.phones] == ["+8613800138000", "+861062345678", "+861088886666"]
    assert [p.id for p in after.phones[:2]] == [p.id for p in before.phones]


def test_one_bad_record_is_rejected_alone() -> None:
    """A record no database could store is rejected with a code; the others all land."""
    store = connect("memory://")
    records = [_record("ok1"), _record("ok2"), _record("bad", "a\ud800b"), _record("ok3")]
    report = store.import_customers(records, batch_size=2)
    assert [o.status for o in report.outcomes] == [
        ImportStatus.CREATED,
        ImportStatus.CREATED,
        ImportStatus.REJECTED,
        ImportStatus.CREATED,
    ]
    assert report.outcomes[2].problems[0].code == "text.invalid_character"


def test_the_normaliser_judges_dates_at_the_store_clock() -> None:
    """A future birthday is refused by the store's clock, whatever timestamps the input claims."""
    store = Store(MemoryBackend(), clock=TickingClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    record = _record(
        "c1",
        created_at="2999-01-01T00:00:00+00:00",
        updated_at="2999-01-01T00:00:00+00:00",
    )
    record["person"]["birthday"] = "2990-01-01"
    (outcome,) = store.import_customers([record]).outcomes
    assert outcome.status is ImportStatus.REJECTED
    assert "$.person.birthday" in {p.path for p in outcome.problems}


def test_a_plain_function_normaliser_still_works() -> None:
    """A normaliser that takes only the customer is called without the write time."""
    seen: list[str] = []

    def tag(customer: Customer) -> Customer:
        seen.append(customer.id)
        return customer

    store = Store(MemoryBackend(), normaliser=tag)
    store.import_customers([_record("c1")])
    assert seen == ["c1"]


@pytest.mark.parametrize("bad_id", [123, None, b"c1"])
def test_get_with_a_non_string_id_is_a_validation_error(bad_id: object) -> None:
    """Every backend sees the same typed refusal instead of casting the id its own way."""
    store = connect("memory://")
    store.import_customers([_record("0123abc")])
    with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
        uow.customers.get(bad_id)  # type: ignore[arg-type]
    assert info.value.problems[0].path == "$.id"


@pytest.mark.parametrize("batch_size", [0, -1])
def test_streams_refuse_a_batch_size_below_one(batch_size: int) -> None:
    """A batch size below one is a programming error, not an empty stream."""
    store = connect("memory://")
    store.import_customers([_record("c1")])
    with pytest.raises(ValueError, match="batch_size"):
        list(store.stream_customers(batch_size=batch_size))
    with store.unit_of_work() as uow, pytest.raises(ValueError, match="batch_size"):
        list(uow.customers.stream(batch_size=batch_size))


@pytest.mark.parametrize(
    "url",
    ["mysql://root@127.0.0.1:1/test", "mariadb://root@127.0.0.1:1/test", "postgres://u@h:1/db"],
)
def test_bare_sql_schemes_are_known(url: str) -> None:
    """The documented bare schemes reach the SQL backend (and fail there, typed, on no server)."""
    from crmcore.errors import StorageError, UnknownBackend

    with pytest.raises(StorageError) as info:
        connect(url)
    assert not isinstance(info.value, UnknownBackend)
