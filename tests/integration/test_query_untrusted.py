"""Odd query input gets the same answer on every backend: coded refusals, phone-shaped search."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from tests.conftest import SQL_DIALECTS

from crmcore.errors import ValidationError
from crmcore.models import Customer, Phone
from crmcore.query import Field, Or, Query, Search
from crmcore.query.filters import MAX_SEARCH_LENGTH
from crmcore.rules.verification import NormalisationPipeline
from crmcore.storage import Store, connect

PHONES = ("+861062345678", "+8675588886666", "+8613800138000")


@pytest.fixture(params=["memory", *SQL_DIALECTS])
def store(request: pytest.FixtureRequest, sql_database: Callable[[str], str]) -> Iterator[Store]:
    dialect = str(request.param)
    url = "memory://" if dialect == "memory" else sql_database(dialect)
    with connect(url, normaliser=NormalisationPipeline(default_region="CN")) as opened:
        yield opened


@pytest.fixture
def saved(store: Store) -> list[Customer]:
    with store.unit_of_work() as uow:
        people = [
            uow.customers.add(
                Customer.person_named(family="张", given=f"伟{i}", phones=(Phone(number=n),))
            )
            for i, n in enumerate(PHONES)
        ]
        uow.commit()
    return people


def _ids(store: Store, query: Query) -> set[str]:
    with store.unit_of_work() as uow:
        found = {c.id for c in uow.customers.find(query)}
        assert uow.customers.count(query) == len(found)
    return found


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("010-62345678", 0),
        ("(010) 6234 5678", 0),
        ("０１０－６２３４ ５６７８", 0),
        ("0755-88886666", 1),
        ("0086 138 0013 8000", 2),
        ("１３８ ００１３ ８０００", 2),
        ("+86 138 0013 8000", 2),
    ],
)
def test_phone_shaped_search_finds_the_stored_number(
    store: Store, saved: list[Customer], text: str, index: int
) -> None:
    """A number typed as it is dialled in China finds its stored E.164 form."""
    assert saved[index].phones[0].number == PHONES[index]
    assert _ids(store, Query(where=Search(text=text))) == {saved[index].id}


def test_phone_search_inside_logic_is_rewritten(store: Store, saved: list[Customer]) -> None:
    """Phone-shaped searches under or/not are read as numbers too."""
    either = Search(text="010-62345678") | Search(text="0755-88886666")
    assert _ids(store, Query(where=either)) == {saved[0].id, saved[1].id}
    assert _ids(store, Query(where=~Search(text="010 62345678"))) == {saved[1].id, saved[2].id}


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfffy"])
def test_odd_ids_are_refused_alike(store: Store, saved: list[Customer], bad: str) -> None:
    """get and history by an id with NUL or a lone surrogate are ``text.invalid_character``."""
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as error:
            uow.customers.get(bad)
        assert error.value.codes == ("text.invalid_character",)
        assert error.value.problems[0].path == "$.id"
        with pytest.raises(ValidationError) as error:
            uow.purchases.get(bad)
        assert error.value.codes == ("text.invalid_character",)
        with pytest.raises(ValidationError) as error:
            uow.customers.history(bad)
        assert error.value.codes == ("text.invalid_character",)
        # remove takes a record, and no record can carry such an id
        with pytest.raises(ValidationError) as error:
            attrs.evolve(saved[0], id=bad)
        assert error.value.codes == ("text.invalid_character",)


def test_a_long_search_is_answered_alike(store: Store, saved: list[Customer]) -> None:
    """The longest allowed CJK and Latin searches answer (no SQLite 'pattern too complex')."""
    for text in (
        "张" * MAX_SEARCH_LENGTH,
        "a%" * (MAX_SEARCH_LENGTH // 2),
        "1" * MAX_SEARCH_LENGTH,
    ):
        assert _ids(store, Query(where=Search(text=text))) == set()
    assert _ids(store, Query(where=Search(text="张伟"))) == {c.id for c in saved}


@pytest.mark.parametrize("bad", [None, "x", {"where": None}, 3, Field("display_name") == "x"])
def test_find_and_count_refuse_what_is_not_a_query(store: Store, bad: Any) -> None:
    """find(None), count("x"), a dict or a filter where a Query belongs are ``type.invalid``."""
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError) as error:
            uow.customers.find(bad)
        assert error.value.codes == ("type.invalid",)
        if bad is not None:
            with pytest.raises(ValidationError) as error:
                uow.customers.count(bad)
            assert error.value.codes == ("type.invalid",)
        assert uow.customers.count(None) == 0


def test_an_odd_cursor_key_is_refused_alike(store: Store, saved: list[Customer]) -> None:
    """A cursor whose id holds NUL is ``text.invalid_character`` on every backend."""
    import base64
    import json

    raw = json.dumps({"o": [], "k": ["id\x00"]}).encode()
    after = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with store.unit_of_work() as uow, pytest.raises(ValidationError) as error:
        uow.customers.find(Query(after=after, limit=2))
    assert error.value.codes == ("text.invalid_character",)


def test_searches_expanding_under_nfkc_are_answered_alike(
    store: Store, saved: list[Customer]
) -> None:
    """1,000 characters whose NFKC forms are long (U+FDFA is 18 letters) still answer."""
    for text in ("\ufdfa" * MAX_SEARCH_LENGTH, "㍿" * MAX_SEARCH_LENGTH, "%!_" * 333):
        assert _ids(store, Query(where=Search(text=text))) == set()


def test_an_in_of_seventy_thousand_values_is_answered_alike(
    store: Store, saved: list[Customer]
) -> None:
    """``in`` with more values than a driver takes bind parameters gets the reference answer."""
    values = [f"n{i}" for i in range(70_000)] + [saved[1].display_name]
    found = _ids(store, Query(where=Field("display_name").in_(values)))
    assert found == {saved[1].id}
    assert _ids(store, Query(where=Field("version").in_(list(range(2, 70_000))))) == set()


def test_a_very_wide_or_is_answered_alike(store: Store, saved: list[Customer]) -> None:
    """An ``or`` of 70,000 comparisons (one parameter each) gets the reference answer."""
    wide = Or(filters=tuple(Field("display_name") == f"n{i}" for i in range(70_000)))
    query = Query(where=wide | (Field("display_name") == saved[2].display_name))
    assert _ids(store, query) == {saved[2].id}
