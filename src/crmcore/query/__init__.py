"""The declarative query spec and its reference semantics.

A :class:`Query` is frozen data: a filter tree (:class:`Compare`, :class:`In`,
:class:`IsNull`, :class:`Search`, :class:`MonthDay`, :class:`Reachable`, :class:`And`,
:class:`Or`, :class:`Not`), an
ordering, a page size and a keyset cursor. Its meaning is defined once, here, by
:meth:`Query.matches` and :meth:`Query.apply`; every storage backend must return
exactly what :meth:`Query.apply` returns over the same records.

Build filters with :class:`Field` and Python operators::

    >>> from crmcore.models import Customer
    >>> q = Query(
    ...     where=(Field("tags") == "vip") & ~Field("person.nickname").is_null(),
    ...     order_by=("display_name", "-created_at"),
    ...     limit=50,
    ... )
    >>> zhang = Customer.person_named(family="张", given="伟明", tags=("vip",))
    >>> q.matches(zhang)
    False

Semantics (the contract every backend reproduces):

* **Paths** name fields of the record's serialised shape with dots:
  ``"display_name"``, ``"person.name.family"``, ``"phones.number"``, ``"tags"``,
  ``"organisation.contact_persons.role"``. They are checked against the model;
  an unknown field is a :class:`~crmcore.errors.ValidationError` with code
  ``query.unknown_field``.
* A path yields a list of values: a field holding a tuple contributes each of its
  elements; an absent (``None``) optional model contributes one ``None``.
  A path crossing a tuple is therefore **existential**: a comparison is true when
  *any* value satisfies it.
* **Comparisons** (``eq ne lt le gt ge starts_with contains in``) are true when
  some value is not ``None`` and satisfies the operator. A comparison with a
  ``None`` value is false. ``is_null`` is true when no value is non-``None``
  (the field is ``None``, the path runs through a ``None`` model, or the tuple is
  empty). ``Field(p) == None`` means ``is_null`` and ``Field(p) != None`` its negation.
* **Logic** is two-valued: ``Not(f)`` is true exactly when ``f`` is false (so
  ``~(Field("tags") == "vip")`` is "has no tag ``vip``", including no tags at all).
* **Values** compare by type: strings by Unicode code point (binary collation,
  case-sensitive); enums by their value string; ``bool`` with ``False < True``;
  ``int`` and :class:`~decimal.Decimal` numerically; dates by date; datetimes as UTC
  instants. Operands are given as Python values or in their JSON form (ISO 8601
  strings for dates and datetimes, strings for decimals, value strings for enums)
  and are kept in JSON form, so a query is plain, serialisable data.
* ``starts_with`` is a code-point prefix test on strings (and enum values).
  ``contains`` is for paths that cross a tuple (``tags``, ``phones.opt_outs``):
  true when some element equals the operand.
* :class:`Search` is customer text search; see :func:`search_document`.
* :class:`MonthDay` is true when some date on a date path has its ``"MM-DD"`` in a
  window, wrapping the year end when ``start > end`` (:func:`upcoming` builds the
  window of the next days); :class:`Reachable` is the consent audience of a channel
  and purpose (latest decision wins, per contact point; :func:`reachable_keys`).
* **Ordering** is by scalar paths that do not cross a tuple, each ascending or
  descending; ``None`` sorts before every value ascending (after every value
  descending); ``id`` ascending is always appended as the final tie-break, so the
  order is total.
* **Pages**: ``limit`` caps the result; ``after`` is an opaque cursor made by
  :meth:`Query.cursor_for` from the last record of the previous page; the next page
  holds the records that sort strictly after it (keyset pagination).

The package, one concept a module (every name below is re-exported here):

* :mod:`~crmcore.query.operands`: the JSON form of operands and their comparable form
  (:func:`coerce_value`, :func:`sort_value`);
* :mod:`~crmcore.query.paths`: the checked path resolver (:func:`resolve_path`);
* :mod:`~crmcore.query.search`: the search definition (:func:`search_document`,
  :func:`normalise_text`);
* :mod:`~crmcore.query.filters`: the filter nodes; :mod:`~crmcore.query.field`: :class:`Field`;
* :mod:`~crmcore.query.spec`: :class:`Query` and :class:`Order`;
  :mod:`~crmcore.query.cursor`: page cursors (:func:`decode_cursor`);
* :mod:`~crmcore.query.evaluate`: the reference evaluator (:class:`CompiledQuery`) and
  its cache, keyed with operand types and bounded in entries and bytes;
* :mod:`~crmcore.query.decoding`: decoding filter trees from plain data, one dispatch
  on ``op`` per node, nesting bounded (:data:`~crmcore.query.decoding.MAX_FILTER_DEPTH`);
* :mod:`~crmcore.query.month_days`: month-day windows (:func:`upcoming`);
  :mod:`~crmcore.query.audience`: the consent audience rule (:func:`reachable_keys`);
* :mod:`~crmcore.query.phone_search`: phone-shaped search text read as a number with
  the store's default region (:func:`~crmcore.query.phone_search.with_phone_digits`).

Input from outside is bounded: filters nest at most 64 deep (``query.too_deep``), a
search text is at most 1,000 characters (``query.search_too_long``), and text holding
NUL or an unpaired surrogate is refused (``text.invalid_character``).
"""

from __future__ import annotations

from crmcore.query.audience import reachable_keys
from crmcore.query.cursor import decode_cursor
from crmcore.query.evaluate import CompiledQuery
from crmcore.query.field import Field
from crmcore.query.filters import (
    And,
    AnyFilter,
    Compare,
    Filter,
    In,
    IsNull,
    MonthDay,
    Not,
    Op,
    Or,
    Reachable,
    Search,
)
from crmcore.query.month_days import upcoming
from crmcore.query.operands import JsonScalar, coerce_value, sort_value
from crmcore.query.paths import PathStep, ResolvedPath, resolve_path
from crmcore.query.search import SearchDocument, normalise_text, search_document
from crmcore.query.spec import Order, Query

__all__ = [
    "And",
    "AnyFilter",
    "Compare",
    "CompiledQuery",
    "Field",
    "Filter",
    "In",
    "IsNull",
    "JsonScalar",
    "MonthDay",
    "Not",
    "Op",
    "Or",
    "Order",
    "PathStep",
    "Query",
    "Reachable",
    "ResolvedPath",
    "Search",
    "SearchDocument",
    "coerce_value",
    "decode_cursor",
    "normalise_text",
    "reachable_keys",
    "resolve_path",
    "search_document",
    "sort_value",
    "upcoming",
]
