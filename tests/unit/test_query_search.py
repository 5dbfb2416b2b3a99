"""The one search definition: the document, the needles and the joined column form."""

from __future__ import annotations

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.models import Customer, Phone
from crmcore.query import Search, SearchDocument, search_document
from crmcore.query.search import (
    SEARCH_FIELDS,
    SEPARATOR,
    Needle,
    SearchField,
    matches_document,
    search_needles,
)
from crmcore.testing import strategies as cst

VALUES = st.lists(st.text(st.characters(exclude_characters=SEPARATOR)), min_size=1, max_size=6)


def test_the_document_has_one_attribute_per_search_field() -> None:
    """SearchDocument's attributes are the search fields' names, in order."""
    assert [a.name for a in attrs.fields(SearchDocument)] == [f.name for f in SEARCH_FIELDS]


@settings(max_examples=500)
@given(values=VALUES)
def test_normalising_joined_values_equals_joining_normalised_values(values: list[str]) -> None:
    """Each field's one-pass joined normalisation splits into its per-value normalisation."""
    for field in SEARCH_FIELDS:
        joined = field.normalise_joined(SEPARATOR.join(values))
        assert joined.split(SEPARATOR) == [field.normalise(v) for v in values]


@settings(max_examples=200, deadline=None)
@given(customer=cst.customers())
def test_document_values_are_the_split_joined_form(customer: Customer) -> None:
    """A field's document values are its joined form split: non-empty, each once, in order."""
    document = search_document(customer)
    for field in SEARCH_FIELDS:
        assert field.values(customer) == getattr(document, field.name)
        assert SearchField.split(field.joined(customer)) == field.values(customer)


def test_needles_per_field() -> None:
    """A CJK needle is a subsequence of texts; phone-like text also looks in the digits."""
    texts, digits = SEARCH_FIELDS
    assert search_needles("张伟") == ((texts, Needle(text="张伟", subsequence=True)),)
    assert search_needles("Anna  M") == ((texts, Needle(text="annam", subsequence=False)),)
    assert search_needles("138 0013") == (
        (texts, Needle(text="1380013", subsequence=False)),
        (digits, Needle(text="1380013", subsequence=False)),
    )


def test_search_matches_through_the_definition() -> None:
    """Search.matches_document is matches_document over the search's needles."""
    customer = Customer.person_named(
        family="张", given="伟明", phones=(Phone(number="+86 138 0013 8000"),)
    )
    document = search_document(customer)
    for text, expected in [("张明", True), ("明张", False), ("００１３８", True), ("李", False)]:
        search = Search(text=text)
        assert search.matches_document(document) is expected, text
        assert matches_document(search_needles(text), document) is expected, text
