"""The filter tree: frozen, serialisable nodes tagged by ``op``.

:class:`Compare` (``eq ne lt le gt ge starts_with contains``), :class:`In`,
:class:`IsNull` and :class:`Search` test one path (or, for search, the customer's
search document); :class:`And`, :class:`Or` and :class:`Not` combine them, also with
``&``, ``|`` and ``~``. :class:`MonthDay` tests a date path's month and day against a
window (birthdays, anniversaries); :class:`Reachable` is the consent audience of a
channel and purpose (:mod:`crmcore.query.audience`). :data:`AnyFilter` is their tagged
union. Operands are kept in
their JSON form (:mod:`crmcore.query.operands`); what each node means is defined by the
reference evaluator (:mod:`crmcore.query.evaluate`). Build nodes with
:class:`crmcore.query.Field`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from crmcore.errors import Problem
from crmcore.models import OptOut
from crmcore.models._base import Model, checks, max_length, non_blank
from crmcore.query import search
from crmcore.query.month_days import is_month_day
from crmcore.query.operands import json_scalar, json_scalars
from crmcore.query.search import SearchDocument, normalise_text

__all__ = [
    "MAX_SEARCH_LENGTH",
    "And",
    "AnyFilter",
    "Compare",
    "Filter",
    "In",
    "IsNull",
    "MonthDay",
    "Not",
    "Op",
    "Or",
    "Reachable",
    "Search",
]


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


MAX_SEARCH_LENGTH = 1000
"""The longest :attr:`Search.text`, in characters (``query.search_too_long`` beyond it).

It keeps every backend's ``LIKE`` pattern well inside SQLite's limit of 50,000 bytes.
"""

_MAX_ALSO_DIGITS = 8


def _search_length(value: object) -> Problem | None:
    if isinstance(value, str) and len(value) > MAX_SEARCH_LENGTH:
        return Problem(
            code="query.search_too_long",
            message=f"is {len(value)} characters; a search is at most {MAX_SEARCH_LENGTH}",
        )
    return None


def _digit_strings(value: object) -> Problem | None:
    if isinstance(value, tuple) and (
        len(value) > _MAX_ALSO_DIGITS
        or not all(
            isinstance(d, str) and d.isascii() and d.isdigit() and len(d) <= 32 for d in value
        )
    ):
        return Problem(
            code="query.value_invalid",
            message=f"at most {_MAX_ALSO_DIGITS} strings of 1 to 32 ASCII digits",
        )
    return None


@attrs.frozen(kw_only=True)
class Compare(Filter):
    """``path <op> value``: true when some value on ``path`` satisfies the operator.

    ``value`` is kept in JSON form (see :func:`coerce_value`); it is never ``None``
    (use :class:`IsNull`).
    """

    op: Op
    path: str = attrs.field(metadata=checks(non_blank))
    value: Any = attrs.field(converter=json_scalar)

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
    values: tuple[Any, ...] = attrs.field(converter=json_scalars)

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

    * some string of ``also_digits`` (ASCII digits) is a substring of one of the phone
      digit strings. A :class:`~crmcore.storage.Store` fills it in before running the
      query: the E.164 digits of phone-shaped ``text`` read with the store's default
      region (``"010-62345678"`` with region ``CN`` also looks for ``861062345678``).

    ``text`` is at most :data:`MAX_SEARCH_LENGTH` characters (``query.search_too_long``).
    Only customers can be searched. The fields searched and how each matches are
    defined once, in :data:`crmcore.query.search.SEARCH_FIELDS`.
    """

    op: str = attrs.field(default="search", metadata=checks(_tag("search")))
    text: str = attrs.field(metadata=checks(non_blank, _search_length))
    also_digits: tuple[str, ...] = attrs.field(default=(), metadata=checks(_digit_strings))

    @property
    def needle(self) -> str:
        """The normalised text compared against the document's texts."""
        return normalise_text(self.text)

    @property
    def cjk(self) -> bool:
        """True when the needle is all CJK characters (matched as a subsequence)."""
        return search.is_cjk(self.needle)

    @property
    def phone_digits(self) -> str | None:
        """The digit string compared with phone numbers, or ``None`` if not phone-like."""
        return search.phone_digits(self.text)

    def matches_document(self, document: SearchDocument) -> bool:
        """True when a customer with ``document`` matches this search."""
        return search.matches_document(search.search_needles(self.text, self.also_digits), document)


def _month_day_text(value: object) -> Problem | None:
    if isinstance(value, str) and not is_month_day(value):
        return Problem(
            code="query.value_invalid",
            message=f"{value[:20]!r} is not a month-day: expected MM-DD, 01-01 to 12-31",
        )
    return None


@attrs.frozen(kw_only=True)
class MonthDay(Filter):
    """True when some date on ``path`` falls in a month-day window, whatever its year.

    A date's month-day is its ``"MM-DD"`` text; the window holds ``start`` to ``end``
    inclusive and wraps the year end when ``start > end`` (``"12-25"`` to ``"01-07"``).
    29 February is the text ``"02-29"``, exactly: a window to ``"02-28"`` does not hold
    it (:func:`crmcore.query.upcoming` picks windows that do, in years without it; see
    :mod:`crmcore.query.month_days`). ``path`` must end at a date (not a datetime);
    ``None`` dates never match. Build it with
    ``Field("person.birthday").month_day_between("12-25", "01-07")``.
    """

    op: str = attrs.field(default="month_day", metadata=checks(_tag("month_day")))
    path: str = attrs.field(metadata=checks(non_blank))
    start: str = attrs.field(metadata=checks(_month_day_text))
    end: str = attrs.field(metadata=checks(_month_day_text))


def _channel(value: object) -> object:
    """Accept a channel's value string (``"sms"``) for :class:`~crmcore.models.OptOut`."""
    if isinstance(value, str) and not isinstance(value, OptOut):
        try:
            return OptOut(value)
        except ValueError:
            return value
    return value


def _reachable_channel(value: object) -> Problem | None:
    if value is OptOut.ALL:
        return Problem(
            code="query.value_invalid",
            message="'all' is not a channel to reach someone on; name one channel",
        )
    return None


def _purpose_text(value: object) -> Problem | None:
    # Not ``non_blank``: the converter reads blank optional text guarded by it as absent,
    # and a blank purpose read as "no purpose" would widen a consent audience to everyone
    # reachable. A blank purpose is refused instead.
    if isinstance(value, str) and not value.strip():
        return Problem(code="value.blank", message="must not be empty or blank; omit it instead")
    return None


@attrs.frozen(kw_only=True)
class Reachable(Filter):
    """The consent audience: the customer may be contacted on ``channel`` for ``purpose``.

    True when one of the customer's own contact points that ``channel`` reaches is not
    invalid, allows the channel (no opt-out of it or of ``all``) and, when ``purpose``
    is given, has a latest consent decision for ``purpose`` that is a grant: a
    withdrawal after a grant does not match. ``purpose=None`` asks for reachability
    only; a blank purpose is refused (``value.blank``), never read as none.
    ``channel`` is an :class:`~crmcore.models.OptOut` other than ``all`` (its value
    string is accepted). The rule, and which contact points each channel reaches, are
    defined in :mod:`crmcore.query.audience`. Only customers have an audience.
    """

    op: str = attrs.field(default="reachable", metadata=checks(_tag("reachable")))
    channel: OptOut = attrs.field(converter=_channel, metadata=checks(_reachable_channel))
    purpose: str | None = attrs.field(default=None, metadata=checks(_purpose_text, max_length(64)))


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


AnyFilter = Compare | In | IsNull | Search | MonthDay | Reachable | And | Or | Not
"""Any filter node (a tagged union on ``op``)."""
