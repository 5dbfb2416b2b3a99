"""Store.likely_duplicates: the stored customers a new one probably is, before it is stored."""

from __future__ import annotations

import datetime as dt

import pytest

from crmcore.errors import WrongType
from crmcore.models import Customer, Email, PersonName, PersonProfile, Phone
from crmcore.rules.dedupe import MatchModel, fit
from crmcore.storage import MemoryBackend, Store

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def model() -> MatchModel:
    vectors = (
        [(7, 3, 2, 3, -1, 5, 1)] * 40
        + [(6, 2, 2, -1, -1, 5, 1)] * 5
        + [(7, 3, 0, 3, -1, 4, 1)] * 5
        + [(0, 0, 0, 0, -1, 1, 0)] * 300
        + [(2, 0, 0, 0, -1, 1, 1)] * 200
        + [(7, 0, 0, 0, -1, 0, 1)] * 30
    )
    return fit(vectors)


def _person(
    cid: str, family: str, given: str, *, phone: str | None = None, email: str | None = None
) -> Customer:
    return Customer.person_named(
        family=family,
        given=given,
        id=cid,
        person=PersonProfile(
            name=PersonName(family=family, given=given), birthday=dt.date(1985, 7, 1)
        ),
        phones=(Phone(number=phone, region="CN"),) if phone else (),
        emails=(Email(address=email),) if email else (),
    )


def _store() -> Store:
    store = Store(MemoryBackend())
    with store.unit_of_work() as uow:
        uow.customers.add(_person("L1", "李", "娜", phone="+8613800138000"))
        uow.customers.add(_person("W1", "王", "芳", phone="+8613900139000"))
        uow.customers.add(_person("Z1", "张", "伟", email="zhang.wei@example.com"))
        uow.commit()
    return store


def test_a_row_with_a_reformatted_phone_and_swapped_names_finds_the_stored_customer(
    model: MatchModel,
) -> None:
    """Full-width digits without the country code, names swapped: the stored 李娜 is
    found by the normalised number, scored and explained; nothing is written."""
    store = _store()
    row = _person("new", "娜", "李", phone="１３８ ００１３ ８０００")
    found = store.likely_duplicates(row, model=model)
    assert [(p.left, p.right) for p in found] == [("new", "L1")]
    assert found[0].probability >= 0.9
    with store.unit_of_work() as uow:
        assert uow.customers.count() == 3


def test_a_row_sharing_no_exact_value_is_not_matched(model: MatchModel) -> None:
    """The lookup is by exact normalised values: another phone and name find nothing."""
    store = _store()
    assert (
        store.likely_duplicates(_person("new", "赵", "敏", phone="+8613700137000"), model=model)
        == ()
    )


def test_an_email_finds_the_stored_customer(model: MatchModel) -> None:
    """An email differing only in case finds the customer it belongs to."""
    store = _store()
    found = store.likely_duplicates(
        _person("new", "张", "伟", email="Zhang.Wei@Example.com"), model=model, threshold=0.5
    )
    assert [p.right for p in found] == ["Z1"]


def test_what_is_not_a_customer_is_refused(model: MatchModel) -> None:
    """A mapping is not a customer: WrongType, before anything is read."""
    with pytest.raises(WrongType):
        Store(MemoryBackend()).likely_duplicates({"id": "x"}, model=model)  # type: ignore[arg-type]
