"""Building filters and orderings from a path with Python operators.

``Field("tags") == "vip"`` is a :class:`~crmcore.query.filters.Compare`,
``Field("grade") == None`` an :class:`~crmcore.query.filters.IsNull`, and
``Field("created_at").desc()`` an :class:`~crmcore.query.spec.Order`.
"""

from __future__ import annotations

from collections.abc import Iterable

from crmcore.query.filters import Compare, In, IsNull, MonthDay, Not, Op
from crmcore.query.spec import Order

__all__ = ["Field"]


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

    def month_day_between(self, start: str, end: str) -> MonthDay:
        """Some date on this path has its ``"MM-DD"`` in ``[start, end]`` (wraps the year end).

        >>> Field("person.birthday").month_day_between("12-25", "01-07")
        MonthDay(op='month_day', path='person.birthday', start='12-25', end='01-07')
        """
        return MonthDay(path=self.path, start=start, end=end)

    def asc(self) -> Order:
        """Order by this path, smallest first (``None`` first)."""
        return Order(path=self.path)

    def desc(self) -> Order:
        """Order by this path, largest first (``None`` last)."""
        return Order(path=self.path, descending=True)
