"""The declarative query spec and its reference semantics.

A :class:`Query` is frozen data: a filter tree (:class:`Compare`, :class:`In`,
:class:`IsNull`, :class:`Search`, :class:`And`, :class:`Or`, :class:`Not`), an
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
* **Ordering** is by scalar paths that do not cross a tuple, each ascending or
  descending; ``None`` sorts before every value ascending (after every value
  descending); ``id`` ascending is always appended as the final tie-break, so the
  order is total.
* **Pages**: ``limit`` caps the result; ``after`` is an opaque cursor made by
  :meth:`Query.cursor_for` from the last record of the previous page; the next page
  holds the records that sort strictly after it (keyset pagination).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import functools
import json
import re
import types
import typing
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs

from crmcore.errors import Problem, ValidationError
from crmcore.models import Customer
from crmcore.models._base import INT_MAX, INT_MIN, Model, checks, non_blank, positive

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
    "Not",
    "Op",
    "Or",
    "Order",
    "PathStep",
    "Query",
    "ResolvedPath",
    "Search",
    "SearchDocument",
    "coerce_value",
    "decode_cursor",
    "normalise_text",
    "resolve_path",
    "search_document",
    "sort_value",
]

T = TypeVar("T")

JsonScalar = str | int | bool | None
"""The JSON form a query operand is kept in."""

SCALAR_TYPES: tuple[type, ...] = (str, int, bool, Decimal, dt.datetime, dt.date)


def _problem(code: str, where: str, message: str) -> ValidationError:
    return ValidationError([Problem(code=code, path=where, message=message)], subject="Query")


# --------------------------------------------------------------------------- operands


def _to_json_scalar(value: object) -> JsonScalar:
    """Convert an operand to its JSON form (the form kept in the query)."""
    if value is None or (isinstance(value, bool | int | str) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, enum.Enum):
        return _to_json_scalar(value.value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _problem("datetime.naive", "$.value", "a datetime operand must be aware")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _problem("value.not_finite", "$.value", "must be a finite number")
        return str(value)
    raise _problem(
        "query.value_invalid",
        "$.value",
        f"cannot compare with a {type(value).__name__}; use str, int, bool, Decimal, "
        "date, datetime or an enum",
    )


def _json_values(values: Iterable[object]) -> tuple[JsonScalar, ...]:
    if isinstance(values, str | bytes):
        raise _problem("query.value_invalid", "$.values", "in_ needs a collection of values")
    return tuple(_to_json_scalar(v) for v in values)


def coerce_value(leaf: type, value: JsonScalar, *, where: str = "$.value") -> Any:
    """Turn a JSON-form operand into the comparable value of a field of type ``leaf``.

    Strings stay strings, enum operands become their value string, decimals become
    :class:`~decimal.Decimal`, dates :class:`datetime.date`, datetimes aware UTC
    :class:`datetime.datetime`. Raises :class:`ValidationError`
    (``query.value_invalid``) when the operand does not fit the field.
    """

    def bad(expected: str) -> ValidationError:
        return _problem(
            "query.value_invalid", where, f"expected {expected}, got {type(value).__name__}"
        )

    if isinstance(leaf, type) and issubclass(leaf, enum.Enum):
        if not isinstance(value, str):
            raise bad(f"a {leaf.__name__} value")
        allowed = {str(m.value) for m in leaf}
        if value not in allowed:
            raise _problem(
                "query.value_invalid",
                where,
                f"{value!r} is not a {leaf.__name__}; one of {', '.join(sorted(allowed))}",
            )
        return value
    if leaf is str:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if leaf is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if leaf is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        if not INT_MIN <= value <= INT_MAX:
            raise _problem(
                "query.value_invalid",
                where,
                f"{value} is outside the range of integer fields ({INT_MIN} to {INT_MAX})",
            )
        return value
    if leaf is Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise bad("a decimal number")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise bad("a decimal number") from None
        if not number.is_finite():
            raise bad("a finite decimal number")
        return number
    if leaf is dt.datetime:
        if not isinstance(value, str):
            raise bad("an ISO 8601 date-time")
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise bad("an ISO 8601 date-time") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise _problem("datetime.naive", where, "a datetime operand must carry an offset")
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            raise _problem(
                "datetime.out_of_range", where, "must be an instant between years 1 and 9999 in UTC"
            ) from None
    if leaf is dt.date:
        if not isinstance(value, str):
            raise bad("an ISO 8601 date")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise bad("an ISO 8601 date") from None
    raise _problem("query.not_scalar", where, f"cannot compare values of {leaf!r}")


def sort_value(value: Any) -> Any:
    """The comparable form of a stored field value (enum -> value string, datetime -> UTC)."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return value


def _json_of_sort_value(value: Any) -> JsonScalar:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- paths


@attrs.frozen
class PathStep:
    """One field on a path.

    Attributes:
        name: The attribute name.
        many: The field holds a tuple (the path is existential from here).
        optional: The field may be ``None``.
        type: The type of the field's value (the tuple's item type when ``many``).
    """

    name: str
    many: bool
    optional: bool
    type: Any


@attrs.frozen
class ResolvedPath:
    """A dotted path checked against a model.

    Attributes:
        path: The dotted path as written.
        steps: Every field along it.
        leaf: The type at its end (a scalar type, an enum, or a model class).
    """

    path: str
    steps: tuple[PathStep, ...]
    leaf: Any

    @property
    def many(self) -> bool:
        """True when the path crosses a tuple (so it yields any number of values)."""
        return any(step.many for step in self.steps)

    @property
    def scalar(self) -> bool:
        """True when the leaf is a comparable scalar (not a model)."""
        return _is_scalar(self.leaf)

    def values(self, record: object) -> list[Any]:
        """Every value the path yields on ``record`` (``None`` for an absent model)."""
        current: list[Any] = [record]
        for step in self.steps:
            found: list[Any] = []
            for obj in current:
                if obj is None:
                    found.append(None)
                    continue
                value = getattr(obj, step.name)
                if step.many:
                    found.extend(value)
                else:
                    found.append(value)
            current = found
        return current


def _is_scalar(tp: Any) -> bool:
    return tp in SCALAR_TYPES or (isinstance(tp, type) and issubclass(tp, enum.Enum))


def _unwrap(tp: Any) -> tuple[Any, bool, bool]:
    """Return (inner type, many, optional) of a field annotation."""
    optional = False
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        tp = args[0] if len(args) == 1 else Any
        origin = typing.get_origin(tp)
    if origin is tuple:
        return typing.get_args(tp)[0], True, optional
    return tp, False, optional


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in attrs.fields(cls)}


@functools.cache
def resolve_path(model: type, path: str) -> ResolvedPath:
    """Check a dotted ``path`` against ``model``; raises ``query.unknown_field`` if it is wrong."""
    if not isinstance(path, str) or not path:
        raise _problem("query.unknown_field", "$.path", "a field path must be a non-empty string")
    steps: list[PathStep] = []
    current: Any = model
    for depth, name in enumerate(path.split(".")):
        if not (isinstance(current, type) and attrs.has(current)):
            raise _problem(
                "query.unknown_field",
                "$.path",
                f"{path!r}: {'.'.join(path.split('.')[:depth])!r} has no fields",
            )
        fields = _field_types(current)
        if name not in fields:
            known = ", ".join(sorted(fields))
            raise _problem(
                "query.unknown_field",
                "$.path",
                f"{path!r}: {current.__name__} has no field {name!r} (fields: {known})",
            )
        inner, many, optional = _unwrap(fields[name])
        steps.append(PathStep(name=name, many=many, optional=optional, type=inner))
        current = inner
    return ResolvedPath(path=path, steps=tuple(steps), leaf=current)


# --------------------------------------------------------------------------- search


_PHONE_PUNCTUATION = frozenset(" +-().,/\t\u00a0")


def normalise_text(text: str) -> str:
    """Text as search compares it: NFKC, case-folded, with all whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text))


def _is_cjk_char(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL"))


@attrs.frozen
class SearchDocument:
    """What :class:`Search` looks at in one customer.

    Attributes:
        texts: Normalised (:func:`normalise_text`) names, nickname, legal name,
            contact-person names and email addresses.
        digits: The digit strings (after NFKC) of every phone number, the customer's
            and its contact persons'.
    """

    texts: tuple[str, ...]
    digits: tuple[str, ...]


def _name_texts(name: Any) -> list[str]:
    if name is None:
        return []
    return [name.family, name.given, name.display]


def search_document(customer: Customer) -> SearchDocument:
    """The searchable texts and phone digit strings of a customer.

    Texts: display name; the person's name (family, given, as displayed), other name
    and nickname; the organisation's legal name; every contact person's name; every
    email address (the customer's and its contact persons'). Backends that index
    search precompute this document.
    """
    raw: list[str] = [customer.display_name]
    phones = list(customer.phones)
    emails = [e.address for e in customer.emails]
    if customer.person is not None:
        raw += _name_texts(customer.person.name) + _name_texts(customer.person.other_name)
        if customer.person.nickname:
            raw.append(customer.person.nickname)
    if customer.organisation is not None:
        raw.append(customer.organisation.legal_name)
        for person in customer.organisation.contact_persons:
            raw += _name_texts(person.name)
            phones += person.phones
            emails += [e.address for e in person.emails]
    raw += emails
    texts = tuple(dict.fromkeys(t for t in (normalise_text(r) for r in raw) if t))
    digits = tuple(dict.fromkeys(d for d in (_digits(p.number) for p in phones) if d))
    return SearchDocument(texts=texts, digits=digits)


def _subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(char in it for char in needle)


# --------------------------------------------------------------------------- filters


class Filter(Model):
    """Base of every filter node; combine nodes with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    def __and__(self, other: AnyFilter) -> And:
        if not isinstance(other, Filter):
            return NotImplemented
        left = self.filters if isinstance(self, And) else (self,)
        right = other.filters if isinstance(other, And) else (other,)
        return And(filters=(*left, *right))

    def __or__(self, other: AnyFilter) -> Or:
        if not isinstance(other, Filter):
            return NotImplemented
        left = self.filters if isinstance(self, Or) else (self,)
        right = other.filters if isinstance(other, Or) else (other,)
        return Or(filters=(*left, *right))

    def __invert__(self) -> Not:
        return Not(filter=self)  # type: ignore[arg-type]


class Op(enum.StrEnum):
    """A comparison operator of :class:`Compare`."""

    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    STARTS_WITH = "starts_with"
    CONTAINS = "contains"


def _tag(expected: str) -> Callable[[object], Problem | None]:
    def check(value: object) -> Problem | None:
        if value != expected:
            return Problem(code="query.op_invalid", message=f"must be {expected!r}")
        return None

    return check


@attrs.frozen(kw_only=True)
class Compare(Filter):
    """``path <op> value``: true when some value on ``path`` satisfies the operator.

    ``value`` is kept in JSON form (see :func:`coerce_value`); it is never ``None``
    (use :class:`IsNull`).
    """

    op: Op
    path: str = attrs.field(metadata=checks(non_blank))
    value: Any = attrs.field(converter=_to_json_scalar)

    def _invariants(self) -> Iterable[Problem]:
        if self.value is None:
            yield Problem(
                code="query.value_invalid",
                path="$.value",
                message="cannot compare with None; use IsNull",
            )


@attrs.frozen(kw_only=True)
class In(Filter):
    """``path in values``: true when some value on ``path`` equals one of ``values``."""

    op: str = attrs.field(default="in", metadata=checks(_tag("in")))
    path: str = attrs.field(metadata=checks(non_blank))
    values: tuple[Any, ...] = attrs.field(converter=_json_values)

    def _invariants(self) -> Iterable[Problem]:
        for index, value in enumerate(self.values):
            if value is None:
                yield Problem(
                    code="query.value_invalid",
                    path=f"$.values[{index}]",
                    message="cannot compare with None; use IsNull",
                )


@attrs.frozen(kw_only=True)
class IsNull(Filter):
    """True when ``path`` yields no value that is not ``None`` (absent, null or empty)."""

    op: str = attrs.field(default="is_null", metadata=checks(_tag("is_null")))
    path: str = attrs.field(metadata=checks(non_blank))


@attrs.frozen(kw_only=True)
class Search(Filter):
    """Customer text search over names, phone numbers and email addresses.

    The needle is :func:`normalise_text` of ``text`` (NFKC, case-folded, whitespace
    removed). A customer matches when, in its :func:`search_document`:

    * the needle consists only of CJK characters and is a subsequence (its
      characters in order, not necessarily adjacent) of one of the texts
      (``"张伟"`` finds ``"张伟明"``, ``"张明"`` finds it too); or
    * otherwise, the needle is a substring of one of the texts; or
    * ``text`` is phone-like (after NFKC only digits, spaces and ``+-().,/``, with at
      least one digit) and its digit string is a substring of one of the phone digit
      strings (``"138 0013 8000"`` and ``"１３８００１３８０００"`` find
      ``+8613800138000``).

    Only customers can be searched.
    """

    op: str = attrs.field(default="search", metadata=checks(_tag("search")))
    text: str = attrs.field(metadata=checks(non_blank))

    @property
    def needle(self) -> str:
        """The normalised text compared against the document's texts."""
        return normalise_text(self.text)

    @property
    def cjk(self) -> bool:
        """True when the needle is all CJK characters (matched as a subsequence)."""
        return all(_is_cjk_char(c) for c in self.needle)

    @property
    def phone_digits(self) -> str | None:
        """The digit string compared with phone numbers, or ``None`` if not phone-like."""
        text = unicodedata.normalize("NFKC", self.text)
        if not any(c in "0123456789" for c in text):
            return None
        if all(c in "0123456789" or c in _PHONE_PUNCTUATION or c.isspace() for c in text):
            return _digits(text)
        return None

    def matches_document(self, document: SearchDocument) -> bool:
        """True when a customer with ``document`` matches this search."""
        needle = self.needle
        if needle:
            if self.cjk:
                if any(_subsequence(needle, t) for t in document.texts):
                    return True
            elif any(needle in t for t in document.texts):
                return True
        digits = self.phone_digits
        return digits is not None and bool(digits) and any(digits in d for d in document.digits)


@attrs.frozen(kw_only=True)
class And(Filter):
    """True when every filter is true (and when there are none)."""

    op: str = attrs.field(default="and", metadata=checks(_tag("and")))
    filters: tuple[AnyFilter, ...] = ()


@attrs.frozen(kw_only=True)
class Or(Filter):
    """True when some filter is true (false when there are none)."""

    op: str = attrs.field(default="or", metadata=checks(_tag("or")))
    filters: tuple[AnyFilter, ...] = ()


@attrs.frozen(kw_only=True)
class Not(Filter):
    """True exactly when ``filter`` is false (two-valued logic)."""

    op: str = attrs.field(default="not", metadata=checks(_tag("not")))
    filter: AnyFilter


AnyFilter = Compare | In | IsNull | Search | And | Or | Not
"""Any filter node (a tagged union on ``op``)."""


class Field:
    """A path to build filters from with operators.

    >>> Field("tags") == "vip"
    Compare(op=<Op.EQ: 'eq'>, path='tags', value='vip')
    >>> (Field("grade") == None) == IsNull(path="grade")
    True
    """

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"Field({self.path!r})"

    __hash__ = None  # type: ignore[assignment]

    def _cmp(self, op: Op, value: object) -> Compare:
        return Compare(op=op, path=self.path, value=value)

    def __eq__(self, value: object) -> Compare | IsNull:  # type: ignore[override]
        return self.is_null() if value is None else self._cmp(Op.EQ, value)

    def __ne__(self, value: object) -> Compare | Not:  # type: ignore[override]
        return ~self.is_null() if value is None else self._cmp(Op.NE, value)

    def __lt__(self, value: object) -> Compare:
        return self._cmp(Op.LT, value)

    def __le__(self, value: object) -> Compare:
        return self._cmp(Op.LE, value)

    def __gt__(self, value: object) -> Compare:
        return self._cmp(Op.GT, value)

    def __ge__(self, value: object) -> Compare:
        return self._cmp(Op.GE, value)

    def eq(self, value: object) -> Compare | IsNull:
        """``path == value`` (``None`` means :meth:`is_null`)."""
        return self == value

    def ne(self, value: object) -> Compare | Not:
        """``path != value``: some non-null value differs (``None``: not null)."""
        return self != value

    def in_(self, values: Iterable[object]) -> In:
        """Some value equals one of ``values``."""
        return In(path=self.path, values=values)

    def is_null(self) -> IsNull:
        """No non-null value (null, through a null model, or an empty tuple)."""
        return IsNull(path=self.path)

    def is_not_null(self) -> Not:
        """Some non-null value."""
        return ~self.is_null()

    def starts_with(self, prefix: str) -> Compare:
        """Some string value starts with ``prefix`` (code points, case-sensitive)."""
        return self._cmp(Op.STARTS_WITH, prefix)

    def contains(self, element: object) -> Compare:
        """The tuple on this path has an element equal to ``element``."""
        return self._cmp(Op.CONTAINS, element)

    def asc(self) -> Order:
        """Order by this path, smallest first (``None`` first)."""
        return Order(path=self.path)

    def desc(self) -> Order:
        """Order by this path, largest first (``None`` last)."""
        return Order(path=self.path, descending=True)


# --------------------------------------------------------------------------- query


@attrs.frozen(kw_only=True)
class Order(Model):
    """One ordering key: a scalar path that does not cross a tuple."""

    path: str = attrs.field(metadata=checks(non_blank))
    descending: bool = False


def _orders(value: Iterable[Order | str]) -> tuple[Order, ...]:
    if isinstance(value, str | Order):
        value = (value,)
    result: list[Order] = []
    for item in value:
        if isinstance(item, str):
            if item.startswith("-"):
                result.append(Order(path=item[1:], descending=True))
            else:
                result.append(Order(path=item.lstrip("+")))
        else:
            result.append(item)
    return tuple(result)


@attrs.frozen(kw_only=True)
class Query(Model):
    """A filter, an ordering, a page size and a cursor: plain, frozen, serialisable data.

    Attributes:
        where: The filter; ``None`` matches every record.
        order_by: Ordering keys; strings are accepted (``"-created_at"`` is descending).
            ``id`` is always the final tie-break.
        limit: At most this many records (``None``: no limit).
        after: A cursor from :meth:`cursor_for`: only records sorting after it.
    """

    where: AnyFilter | None = None
    order_by: tuple[Order, ...] = attrs.field(default=(), converter=_orders)
    limit: int | None = attrs.field(default=None, metadata=checks(positive))
    after: str | None = None

    def matches(self, record: object) -> bool:
        """True when ``record`` passes the filter (the reference semantics)."""
        return self.compile(type(record)).predicate(record)

    def apply(self, records: Iterable[T]) -> list[T]:
        """Filter, order, apply the cursor and the limit: the reference result."""
        items = list(records)
        if not items:
            return []
        return self.compile(type(items[0])).apply(items)

    def validate(self, model: type) -> None:
        """Check every path, operator, operand and the cursor against ``model``."""
        self.compile(model)

    def compile(self, model: type) -> CompiledQuery:
        """Check this query against ``model`` and build its evaluator."""
        return _compile(self, model)

    def cursor_for(self, record: object) -> str:
        """The opaque cursor of ``record`` in this query's order (for :attr:`after`)."""
        compiled = self.compile(type(record))
        keys = [_json_of_sort_value(v) for v in compiled.order_values(record)]
        payload = {
            "o": [[o.path, o.descending] for o in self.order_by],
            "k": [*keys, record.id],  # type: ignore[attr-defined]
        }
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def page_after(self, record: object) -> Query:
        """Return the query for the page after ``record`` (the last record of a page)."""
        return attrs.evolve(self, after=self.cursor_for(record))

    def next_page(self, page: Sequence[object]) -> Query | None:
        """The query for the next page, or ``None`` when ``page`` was the last one."""
        if not page or self.limit is None or len(page) < self.limit:
            return None
        return self.page_after(page[-1])

    def unpaged(self) -> Query:
        """Return the query without its cursor and limit."""
        return attrs.evolve(self, after=None, limit=None)


def decode_cursor(query: Query, model: type) -> tuple[Any, ...] | None:
    """The sort values and id encoded in ``query.after`` (``None`` if there is no cursor).

    Values come back in comparable form (see :func:`coerce_value`), ``None`` kept;
    the id is last. Raises ``query.cursor_invalid`` for a cursor of another ordering.
    """
    if query.after is None:
        return None

    def bad(message: str) -> ValidationError:
        return _problem("query.cursor_invalid", "$.after", message)

    try:
        text = query.after + "=" * (-len(query.after) % 4)
        payload = json.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad("not a cursor made by Query.cursor_for") from None
    if not isinstance(payload, dict) or set(payload) != {"o", "k"}:
        raise bad("not a cursor made by Query.cursor_for")
    expected = [[o.path, o.descending] for o in query.order_by]
    if payload["o"] != expected:
        raise bad("the cursor belongs to a query with another ordering")
    keys = payload["k"]
    if not isinstance(keys, list) or len(keys) != len(query.order_by) + 1:
        raise bad("not a cursor made by Query.cursor_for")
    values: list[Any] = []
    for order, key in zip(query.order_by, keys[:-1], strict=True):
        leaf = resolve_path(model, order.path).leaf
        values.append(None if key is None else coerce_value(leaf, key, where="$.after"))
    if not isinstance(keys[-1], str):
        raise bad("not a cursor made by Query.cursor_for")
    values.append(keys[-1])
    return tuple(values)


# --------------------------------------------------------------------------- evaluation

Predicate = Callable[[Any], bool]


def _compare_fn(op: Op, operand: Any) -> Callable[[Any], bool]:
    match op:
        case Op.EQ | Op.CONTAINS:
            return lambda v: bool(v == operand)
        case Op.NE:
            return lambda v: bool(v != operand)
        case Op.LT:
            return lambda v: bool(v < operand)
        case Op.LE:
            return lambda v: bool(v <= operand)
        case Op.GT:
            return lambda v: bool(v > operand)
        case Op.GE:
            return lambda v: bool(v >= operand)
        case Op.STARTS_WITH:
            return lambda v: bool(v.startswith(operand))
    raise AssertionError(op)  # pragma: no cover


def _scalar_path(model: type, path: str, where: str) -> ResolvedPath:
    try:
        resolved = resolve_path(model, path)
    except ValidationError as error:
        raise _problem(error.codes[0], where + ".path", error.problems[0].message) from None
    if not resolved.scalar:
        raise _problem(
            "query.not_scalar",
            where + ".path",
            f"{path!r} is a {getattr(resolved.leaf, '__name__', resolved.leaf)}; "
            "compare one of its fields",
        )
    return resolved


def _any_value(resolved: ResolvedPath, test: Callable[[Any], bool]) -> Predicate:
    def predicate(record: Any) -> bool:
        for value in resolved.values(record):
            if value is not None and test(sort_value(value)):
                return True
        return False

    return predicate


def _compile_filter(node: AnyFilter, model: type, where: str) -> Predicate:
    if isinstance(node, Compare):
        resolved = _scalar_path(model, node.path, where)
        if node.op is Op.STARTS_WITH and not (
            resolved.leaf is str or issubclass(resolved.leaf, enum.Enum)
        ):
            raise _problem(
                "query.operator_invalid", where + ".op", f"{node.path!r} is not a string"
            )
        if node.op is Op.CONTAINS and not resolved.many:
            raise _problem(
                "query.operator_invalid",
                where + ".op",
                f"contains needs a path that crosses a tuple; {node.path!r} does not",
            )
        if node.op is Op.STARTS_WITH:
            if not isinstance(node.value, str):
                raise _problem("query.value_invalid", where + ".value", "expected a string")
            operand: Any = node.value
        elif issubclass(resolved.leaf, enum.Enum) and node.op not in (Op.EQ, Op.NE, Op.CONTAINS):
            if not isinstance(node.value, str):
                raise _problem("query.value_invalid", where + ".value", "expected a string")
            operand = node.value
        else:
            operand = coerce_value(resolved.leaf, node.value, where=where + ".value")
        return _any_value(resolved, _compare_fn(node.op, operand))
    if isinstance(node, In):
        resolved = _scalar_path(model, node.path, where)
        operands = {
            coerce_value(resolved.leaf, v, where=f"{where}.values[{i}]")
            for i, v in enumerate(node.values)
        }
        return _any_value(resolved, lambda v: v in operands)
    if isinstance(node, IsNull):
        try:
            resolved = resolve_path(model, node.path)
        except ValidationError as error:
            raise _problem(error.codes[0], where + ".path", error.problems[0].message) from None

        def is_null(record: Any) -> bool:
            return all(v is None for v in resolved.values(record))

        return is_null
    if isinstance(node, Search):
        if model is not Customer:
            raise _problem(
                "query.search_unsupported",
                where,
                f"text search is defined for customers, not {model.__name__}",
            )
        search = node
        return lambda record: search.matches_document(search_document(record))
    if isinstance(node, And):
        parts = [
            _compile_filter(f, model, f"{where}.filters[{i}]") for i, f in enumerate(node.filters)
        ]
        return lambda record: all(p(record) for p in parts)
    if isinstance(node, Or):
        parts = [
            _compile_filter(f, model, f"{where}.filters[{i}]") for i, f in enumerate(node.filters)
        ]
        return lambda record: any(p(record) for p in parts)
    if isinstance(node, Not):
        inner = _compile_filter(node.filter, model, where + ".filter")
        return lambda record: not inner(record)
    raise _problem("query.op_invalid", where, f"not a filter: {node!r}")


def _cmp(a: Any, b: Any) -> int:
    """Compare two comparable values, ``None`` first."""
    if a is None:
        return 0 if b is None else -1
    if b is None:
        return 1
    return -1 if a < b else (1 if a > b else 0)


@attrs.frozen
class CompiledQuery:
    """A :class:`Query` checked against one model, ready to evaluate.

    Attributes:
        query: The query.
        model: The model class it was checked against.
        predicate: The filter as a function of a record.
        order_paths: The resolved ordering paths, in order.
        cursor: The decoded cursor (sort values then id), or ``None``.
    """

    query: Query
    model: type
    predicate: Predicate
    order_paths: tuple[ResolvedPath, ...]
    cursor: tuple[Any, ...] | None

    def order_values(self, record: Any) -> tuple[Any, ...]:
        """The comparable sort values of ``record`` (without the id)."""
        return tuple(sort_value(p.values(record)[0]) for p in self.order_paths)

    def compare(self, a: Sequence[Any], b: Sequence[Any]) -> int:
        """Compare two sort keys (sort values then id) in this query's order."""
        for index, order in enumerate(self.query.order_by):
            result = _cmp(a[index], b[index])
            if result:
                return -result if order.descending else result
        last = len(self.query.order_by)
        return _cmp(a[last], b[last])

    def sort(self, records: Iterable[T]) -> list[T]:
        """``records`` in this query's order (stable multi-key sort, id last)."""
        items = sorted(records, key=lambda r: r.id)  # type: ignore[attr-defined]
        for path, order in reversed(list(zip(self.order_paths, self.query.order_by, strict=True))):
            items.sort(key=_sort_key(path), reverse=order.descending)
        return items

    def apply(self, records: Iterable[T]) -> list[T]:
        """Filter, order, cursor and limit ``records``: the reference result."""
        items = self.sort(r for r in records if self.predicate(r))
        if self.cursor is not None:
            cursor = self.cursor
            items = [
                r
                for r in items
                if self.compare((*self.order_values(r), r.id), cursor) > 0  # type: ignore[attr-defined]
            ]
        if self.query.limit is not None:
            items = items[: self.query.limit]
        return items


def _none_first(value: Any) -> tuple[bool, Any]:
    return (False, 0) if value is None else (True, value)


def _sort_key(path: ResolvedPath) -> Callable[[Any], tuple[bool, Any]]:
    def key(record: Any) -> tuple[bool, Any]:
        return _none_first(sort_value(path.values(record)[0]))

    return key


@functools.lru_cache(maxsize=512)
def _compile(query: Query, model: type) -> CompiledQuery:
    if not (isinstance(model, type) and attrs.has(model)):
        raise _problem("query.model_invalid", "$", f"cannot query {model!r}")
    predicate: Predicate = (
        (lambda record: True)
        if query.where is None
        else _compile_filter(query.where, model, "$.where")
    )
    paths: list[ResolvedPath] = []
    for index, order in enumerate(query.order_by):
        where = f"$.order_by[{index}]"
        resolved = _scalar_path(model, order.path, where)
        if resolved.many:
            raise _problem(
                "query.order_invalid",
                where + ".path",
                f"cannot order by {order.path!r}: it crosses a tuple",
            )
        paths.append(resolved)
    cursor = decode_cursor(query, model)
    return CompiledQuery(
        query=query, model=model, predicate=predicate, order_paths=tuple(paths), cursor=cursor
    )
