"""The in-memory SQLite database (``sqlite://``) shares one connection: transactions take turns."""

from __future__ import annotations

import threading

import pytest

from crmcore.errors import InvalidStorageURL, StorageError
from crmcore.models import Customer
from crmcore.storage import connect
from crmcore.storage.sqlalchemy import declare_index


def test_threads_take_turns_and_lose_nothing() -> None:
    """Commits from many threads all land, and rolled-back work never does."""
    store = connect("sqlite://")
    committed: list[str] = []
    rolled_back: list[str] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for n in range(15):
            cid = f"w{worker}-{n}"
            try:
                with store.unit_of_work() as uow:
                    uow.customers.add(Customer.person_named(family="李", given="娜", id=cid))
                    if n % 3 == 0:
                        raise RuntimeError("abandon this unit of work")
                    uow.commit()
                with lock:
                    committed.append(cid)
            except RuntimeError:
                with lock:
                    rolled_back.append(cid)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = {c.id for c in store.stream_customers()}
    assert stored == set(committed)
    assert not stored & set(rolled_back)
    assert len(committed) == 4 * 10


def test_a_second_open_transaction_in_one_thread_is_refused() -> None:
    """Opening a second transaction while one is open would deadlock; it is refused instead."""
    store = connect("sqlite://")
    with store.unit_of_work() as outer:
        outer.customers.add(Customer.person_named(family="李", given="娜", id="a"))
        with store.unit_of_work() as inner, pytest.raises(StorageError, match="one transaction"):
            inner.customers.count()
        outer.commit()
    with store.unit_of_work() as uow:
        assert uow.customers.get("a").version == 1


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_declaring_an_index_through_an_in_memory_url_says_where_to_declare_it(url: str) -> None:
    """No "upgrade it" advice (a new connection is a new, empty database): the open backend."""
    with pytest.raises(InvalidStorageURL) as raised:
        declare_index(url, "facts.value")
    message = str(raised.value)
    assert "upgrade" not in message
    assert "in-memory" in message
    assert "indexes=[path]" in message
