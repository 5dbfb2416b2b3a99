"""The customer search columns, derived from :data:`crmcore.query.search.SEARCH_FIELDS`.

Each search field has a column (``search_text``, ``search_digits``) holding
:meth:`~crmcore.query.search.SearchField.joined`: the field's normalised values joined
with :data:`SEPARATOR` (U+0001, which is not whitespace, survives NFKC and case
folding, and composes with nothing). A :class:`crmcore.query.Search` then becomes a
``LIKE`` of each of its needles on its field's column: every customer the reference
search matches is among the rows the ``LIKE`` returns (a needle found in one value is
found in the joined string; a CJK subsequence becomes ``%张%伟%``), and the reference
predicate removes the rest in Python.

The columns also decide most candidates without decoding the customer
(:func:`column_verdict`): a needle that is not a subsequence is in some value exactly
when it is in the joined string (it holds no U+0001), and a subsequence found inside one
part of the joined string is inside the value holding that part; only a subsequence
found across a U+0001 (two values, or a value that itself holds U+0001) is left to the
reference predicate on the decoded customer.

Normalising the joined string once equals normalising each value (NFKC decomposition
and case folding work character by character, and U+0001 is a starter that blocks
canonical reordering and composition), which makes the columns cheap to compute on
the bulk-import path; a property test checks that the split columns equal
``search_document``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crmcore.models import Customer
from crmcore.query.search import SEARCH_FIELDS, SEPARATOR, Needle, SearchField

__all__ = [
    "LIKE_ESCAPE",
    "SEPARATOR",
    "NeedleGroup",
    "column_verdict",
    "decidable",
    "like_pattern",
    "row_columns",
    "search_columns",
]

NeedleGroup = tuple[tuple[SearchField, Needle], ...]
"""The needles of one :class:`crmcore.query.Search` (it matches when one of them is found)."""

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


def decidable(group: NeedleGroup) -> bool:
    """True when :func:`column_verdict` may judge ``group`` (no needle holds U+0001)."""
    return all(SEPARATOR not in needle.text for _, needle in group)


def _found(needle: Needle, joined: str) -> bool | None:
    """Whether ``needle`` is in one of the values joined in ``joined`` (``None``: unknown)."""
    if not needle.subsequence:
        return needle.text in joined
    if any(needle.found_in(part) for part in joined.split(SEPARATOR)):
        return True
    return None if needle.found_in(joined) else False


def column_verdict(groups: Sequence[NeedleGroup], columns: Mapping[str, str | None]) -> bool | None:
    """Whether a customer whose search columns hold ``columns`` matches every group.

    ``True`` or ``False`` when the columns decide it (each group matches when one of its
    needles is found in a value of its field, as :func:`crmcore.query.matches_document`
    says), ``None`` when the customer must be decoded and checked by the reference
    predicate: a column is ``NULL`` (a row written before the search columns), or a
    subsequence is found only across a U+0001. Every group must be :func:`decidable`.
    """
    undecided = False
    for group in groups:
        verdict: bool | None = False
        for field, needle in group:
            joined = columns.get(field.column)
            found = None if joined is None else _found(needle, joined)
            if found:
                verdict = True
                break
            if found is None:
                verdict = None
        if verdict is False:
            return False
        undecided = undecided or verdict is None
    return None if undecided else True


def row_columns(row: Sequence[Any], start: int) -> dict[str, Any]:
    """The search columns of ``row``, which holds them from ``start`` on, by column name."""
    return {field.column: row[start + i] for i, field in enumerate(SEARCH_FIELDS)}
