"""Text searches decided on the search columns: the same answers as the reference.

A search whose only Python check is text searches (``SqlPlan.searches``) is decided on
each candidate row's search columns (``_search.column_verdict``) before the customer is
decoded; only a row they leave undecided (a CJK subsequence found across U+0001) is
decoded and checked by the reference predicate. A fast path: with fast paths off, every
candidate is decoded and checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore._fastpaths import set_fast_paths
from crmcore.models import Customer, Email, PersonName, PersonProfile, Phone
from crmcore.query import And, Field, Or, Query, Search, search_document
from crmcore.query.search import SEARCH_FIELDS, matches_document, search_needles
from crmcore.storage.sqlalchemy import create_backend
from crmcore.storage.sqlalchemy._backend import SqlTransaction
from crmcore.storage.sqlalchemy._search import SEPARATOR, column_verdict, search_columns

SQL_DIALECTS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]

ALPHABET = "张伟明芳王aAßé\u0301ﬁＡ1０ \x01%_"
TEXT = st.text(st.sampled_from(ALPHABET), min_size=1, max_size=6).filter(lambda s: s.strip())


@st.composite
def texty_customers(draw: st.DrawFn) -> Customer:
    """A person whose names (and nickname) are drawn from CJK, Latin and U+0001 text."""
    family, given_name = draw(TEXT), draw(TEXT)
    nickname = draw(st.none() | TEXT)
    return Customer.person_named(
        family=family,
        given=given_name,
        person=PersonProfile(name=PersonName(family=family, given=given_name), nickname=nickname),
        phones=(Phone(number=draw(st.sampled_from(["+86 138 0013 8000", "030 1234567"]))),),
    )


@settings(max_examples=400, deadline=None)
@given(customer=texty_customers(), text=TEXT)
def test_the_column_verdict_is_the_reference_or_undecided(customer: Customer, text: str) -> None:
    """On a customer's own search columns the verdict is the reference's, or ``None``.

    ``None`` only for a subsequence needle (a substring is always decided), and never
    for a needle holding U+0001, which the plan leaves to the reference predicate.
    """
    needles = search_needles(text)
    if any(SEPARATOR in needle.text for _, needle in needles):
        return  # not decidable: the planner keeps the reference predicate
    columns = dict(zip((f.column for f in SEARCH_FIELDS), search_columns(customer), strict=True))
    verdict = column_verdict((needles,), columns)
    expected = matches_document(needles, search_document(customer))
    if verdict is None:
        assert any(needle.subsequence for _, needle in needles)
    else:
        assert verdict is expected


def test_a_null_column_leaves_the_row_undecided() -> None:
    """A row written before the search columns (NULL) is decoded, never judged."""
    needles = search_needles("张伟")
    assert column_verdict((needles,), {f.column: None for f in SEARCH_FIELDS}) is None


PEOPLE = [
    # 张 ... 伟 in one value: a match.
    Customer.person_named(family="张", given="伟明", id="a"),
    # 张 and 伟 only in different values (names, nickname): no match, though LIKE finds it.
    Customer.person_named(
        family="张",
        given="明",
        id="b",
        person=PersonProfile(name=PersonName(family="张", given="明"), nickname="伟"),
    ),
    # A name holding U+0001: the value 张\x01伟 holds the subsequence 张伟.
    Customer.person_named(family="张\x01", given="伟", id="c"),
    Customer.person_named(
        family="Müller",
        given="Anna",
        id="d",
        emails=(Email(address="ANNA@Example.de"),),
        tags=("vip",),
    ),
    Customer.organisation_named(
        "王芳贸易有限公司", id="e", phones=(Phone(number="+86 138 0013 8000"),)
    ),
    Customer.person_named(family="王", given="芳", id="f", tags=("vip",)),
]

QUERIES = [
    Search(text="张伟"),
    Search(text="王芳"),
    Search(text="müller"),
    Search(text="１３８００１３８０００"),
    Search(text="nobody"),
    And(filters=(Search(text="王芳"), Field("kind") == "person")),
    And(filters=(Search(text="张"), Search(text="伟"))),
    And(filters=(Search(text="王芳"), Field("tags").contains("vip"))),
    Or(filters=(Search(text="张伟"), Field("tags").contains("vip"))),
]


@pytest.fixture(params=[True, False], ids=["fast", "reference"])
def fast(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Run the test with fast paths on (column verdicts) and off (every candidate decoded)."""
    previous = set_fast_paths(bool(request.param))
    try:
        yield bool(request.param)
    finally:
        set_fast_paths(previous)


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
@pytest.mark.parametrize("where", QUERIES, ids=repr)
def test_searches_answer_as_the_reference(
    dialect: str, sql_database: Callable[[str], str], where: object, fast: bool
) -> None:
    """Pages (by id, by display name, limited) and counts equal the reference's."""
    store = create_backend(sql_database(dialect))
    try:
        t = store.begin()
        t.insert("customer", PEOPLE)
        for query in (
            Query(where=where),  # type: ignore[arg-type]
            Query(where=where, order_by=("display_name",), limit=2),  # type: ignore[arg-type]
            Query(where=where, order_by=("-display_name",), limit=1),  # type: ignore[arg-type]
        ):
            assert t.query("customer", query) == query.apply(PEOPLE)
            predicate = query.compile(Customer).predicate
            assert t.count("customer", query) == sum(1 for c in PEOPLE if predicate(c))
        t.rollback()
    finally:
        store.close()


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_a_search_count_decodes_only_the_undecided_rows(
    dialect: str, sql_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting 张伟 decodes the two rows where 张 and 伟 are only across a U+0001."""
    monkeypatch.setattr("crmcore.storage.sqlalchemy._backend.fast_paths_enabled", lambda: True)
    decoded: list[str] = []
    get_many = SqlTransaction.get_many

    def spy(self: SqlTransaction, kind: str, ids: list[str]) -> object:
        decoded.extend(ids)
        return get_many(self, kind, ids)  # type: ignore[arg-type]

    monkeypatch.setattr(SqlTransaction, "get_many", spy)
    store = create_backend(sql_database(dialect))
    try:
        t = store.begin()
        t.insert("customer", PEOPLE)
        assert t.count("customer", Query(where=Search(text="张伟"))) == 2  # a and c
        assert sorted(decoded) == ["b", "c"]
        decoded.clear()
        assert t.count("customer", Query(where=Search(text="müller"))) == 1
        assert decoded == []
        t.rollback()
    finally:
        store.close()
