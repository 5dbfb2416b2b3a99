"""Customer search columns: a superset of the reference search document, kept by migrations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from crmcore.models import Customer, Email, PersonName, PersonProfile, Phone
from crmcore.query import Query, Search, search_document
from crmcore.query.search import SEARCH_FIELDS, SearchField
from crmcore.storage.sqlalchemy import TABLES, create_backend, make_engine, upgrade
from crmcore.storage.sqlalchemy._rows import record_row
from crmcore.storage.sqlalchemy._schema import INDEX
from crmcore.storage.sqlalchemy._search import SEPARATOR, search_columns
from crmcore.testing import strategies as cst

SQL_DIALECTS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]

# Text that stresses normalisation: combining marks, compatibility forms, odd whitespace.
TRICKY = st.text(
    st.sampled_from(
        "aAß\u0301\u0308e\u00e9\ufb01\u2460\uff21\u3000\u00a0\u1680\x1c\x1f\t 张伟İı\u03a3\u1e9e%_!"
    ),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip())


def tricky_customers() -> st.SearchStrategy[Customer]:
    return st.builds(
        lambda family, given, nick, number, address: Customer.person_named(
            family=family,
            given=given,
            person=PersonProfile(name=PersonName(family=family, given=given), nickname=nick),
            phones=(Phone(number=number),),
            emails=(Email(address=address),),
        ),
        TRICKY,
        TRICKY,
        st.none() | TRICKY,
        st.text(st.sampled_from("0123456789０１２３ +-()\u0661\u00b2"), min_size=1).filter(
            lambda s: s.strip()
        ),
        TRICKY,
    )


@settings(max_examples=300, deadline=None)
@given(customer=st.one_of(cst.customers(), tricky_customers()))
def test_search_columns_hold_every_text_and_digit_string_of_the_document(
    customer: Customer,
) -> None:
    """Every text and phone digit string of search_document is a part of the columns."""
    text, digits = search_columns(customer)
    document = search_document(customer)
    assert set(document.texts) <= set(text.split(SEPARATOR))
    assert set(document.digits) <= set(digits.split(SEPARATOR))


@settings(max_examples=300, deadline=None)
@given(customer=st.one_of(cst.customers(), tricky_customers()))
def test_the_row_search_values_equal_the_search_document(customer: Customer) -> None:
    """Each search column of the customer's row, split, is its search field in search_document."""
    row = record_row("customer", customer)
    document = search_document(customer)
    for field in SEARCH_FIELDS:
        assert SearchField.split(row[field.column]) == getattr(document, field.name)


def test_the_customer_table_has_one_search_column_per_search_field() -> None:
    """The table's search columns are the search fields' columns, in order, after doc.

    Only the document's digest (revision 0005) follows them.
    """
    names = [c.name for c in TABLES["customer"].columns]
    assert names[names.index("doc") + 1 :] == [f.column for f in SEARCH_FIELDS] + ["doc_digest"]


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_stored_search_columns_equal_the_search_document(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    """Read back from each database, a customer's search columns split into its document."""
    store = create_backend(sql_database(dialect))
    table = TABLES["customer"]
    columns = [table.c[field.column] for field in SEARCH_FIELDS]

    @settings(max_examples=20, deadline=None)
    @given(
        customers=st.lists(
            st.one_of(cst.customers(), tricky_customers()),
            min_size=1,
            max_size=4,
            unique_by=lambda c: c.id,
        )
    )
    def check(customers: list[Customer]) -> None:
        t = store.begin()
        t.insert("customer", customers)
        t.commit()
        try:
            with store.engine.connect() as connection:
                rows = {
                    row[0]: row[1:]
                    for row in connection.execute(select(table.c.id, *columns)).all()
                }
            for customer in customers:
                document = search_document(customer)
                for field, stored in zip(SEARCH_FIELDS, rows[customer.id], strict=True):
                    assert SearchField.split(stored) == getattr(document, field.name)
        finally:
            with store.engine.begin() as connection:
                connection.execute(delete(table))
                connection.execute(delete(INDEX))  # the customers' index rows go with them

    try:
        check()
    finally:
        store.close()


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_search_finds_the_reference_matches(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    """Searches by name, CJK subsequence, email and phone digits return the reference result."""
    people = [
        Customer.person_named(
            family="张", given="伟明", id="a", phones=(Phone(number="+86 138 0013 8000"),)
        ),
        Customer.person_named(family="张", given="伟", id="b"),
        Customer.person_named(
            family="Müller", given="Anna", id="c", emails=(Email(address="ANNA@Example.de"),)
        ),
        Customer.person_named(family="O'Brien", given="100%_sure", id="d"),
    ]
    store = create_backend(sql_database(dialect))
    try:
        t = store.begin()
        t.insert("customer", people)
        for text in [
            "张伟",
            "张明",
            "müller",
            "MULLER",
            "anna@example",
            "138 0013 8000",
            "１３８００１３８０００",
            "0%_",
            "%",
            "o'b",
            "nobody",
        ]:
            query = Query(where=Search(text=text), order_by=("display_name",))
            assert t.query("customer", query) == query.apply(people), text
            assert t.count("customer", query) == len(query.apply(people)), text
        t.rollback()
    finally:
        store.close()


# One to four UTF-8 bytes a character, LIKE's own characters and the escape ``!``: the
# MariaDB search LIKE compares bytes, which must find exactly what characters would.
MULTIBYTE = st.text(st.sampled_from("ab_%!é\u00df张伟明\u4e00\U00020000\U0001f600"), max_size=6)


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_search_over_multibyte_text_answers_the_reference(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    """Searches for parts of names of 1- to 4-byte characters match as the reference does."""
    store = create_backend(sql_database(dialect))

    @settings(max_examples=25, deadline=None)
    @given(
        names=st.lists(MULTIBYTE.filter(str.strip), min_size=1, max_size=4),
        texts=st.lists(MULTIBYTE.filter(str.strip), min_size=1, max_size=4),
    )
    def check(names: list[str], texts: list[str]) -> None:
        people = [
            Customer.person_named(family=name, given="x", id=f"p{i}")
            for i, name in enumerate(names)
        ]
        t = store.begin()
        try:
            t.insert("customer", people)
            for text in [*texts, *(name[1:] for name in names if len(name) > 1)]:
                query = Query(where=Search(text=text), order_by=("id",))
                assert t.query("customer", query) == query.apply(people), text
                assert t.count("customer", query) == len(query.apply(people)), text
        finally:
            t.rollback()

    try:
        check()
    finally:
        store.close()


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_upgrading_from_0001_backfills_the_search_columns(
    dialect: str, fresh_sql_url: Callable[[str], str]
) -> None:
    """Customers stored at revision 0001 get their search columns filled by the upgrade."""
    url = fresh_sql_url(dialect)
    upgrade(url, revision="0001")
    customer = attrs.evolve(
        Customer.person_named(family="李", given="娜", phones=(Phone(number="021-5555 0101"),)),
        version=1,
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    row = record_row("customer", customer)
    del row["search_text"], row["search_digits"], row["doc_digest"]  # not in 0001
    table = TABLES["customer"]
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(insert(table).values(row))
    except Exception:
        engine.dispose()
        raise
    try:
        upgrade(url)
        with engine.connect() as connection:
            text, digits = connection.execute(
                select(table.c.search_text, table.c.search_digits)
            ).one()
        assert (text, digits) == search_columns(customer)
        store = create_backend(url)
        try:
            t = store.begin()
            query = Query(where=Search(text="5555 0101"))
            assert t.query("customer", query) == [customer]
            t.rollback()
        finally:
            store.close()
    finally:
        engine.dispose()
