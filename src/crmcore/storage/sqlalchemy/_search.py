"""The customer search columns, derived from :data:`crmcore.query.search.SEARCH_FIELDS`.

Each search field has a column (``search_text``, ``search_digits``) holding
:meth:`~crmcore.query.search.SearchField.joined`: the field's normalised values joined
with :data:`SEPARATOR` (U+0001, which is not whitespace, survives NFKC and case
folding, and composes with nothing). A :class:`crmcore.query.Search` then becomes a
``LIKE`` of each of its needles on its field's column: every customer the reference
search matches is among the rows the ``LIKE`` returns (a needle found in one value is
found in the joined string; a CJK subsequence becomes ``%张%伟%``), and the reference
predicate removes the rest in Python.

Normalising the joined string once equals normalising each value (NFKC decomposition
and case folding work character by character, and U+0001 is a starter that blocks
canonical reordering and composition), which makes the columns cheap to compute on
the bulk-import path; a property test checks that the split columns equal
``search_document``.
"""

from __future__ import annotations

from crmcore.models import Customer
from crmcore.query.search import SEARCH_FIELDS, SEPARATOR

__all__ = ["LIKE_ESCAPE", "SEPARATOR", "like_pattern", "search_columns"]

LIKE_ESCAPE = "!"
"""The escape character of :func:`like_pattern`'s patterns."""


def search_columns(customer: Customer) -> tuple[str, ...]:
    """Return the search column values of a customer (``search_text``, ``search_digits``)."""
    return tuple([field.joined(customer) for field in SEARCH_FIELDS])


def like_pattern(needle: str, *, subsequence: bool) -> str:
    """Return the ``LIKE`` pattern (escape character ``!``) finding ``needle`` anywhere.

    With ``subsequence``, the needle's characters may have anything between them.
    """
    escaped = [LIKE_ESCAPE + c if c in (LIKE_ESCAPE, "%", "_") else c for c in needle]
    if subsequence:
        return "%" + "%".join(escaped) + "%"
    return "%" + "".join(escaped) + "%"
