"""The query: a filter, an ordering, a page size and a cursor, as frozen data.

:class:`Query` holds a filter tree (:mod:`crmcore.query.filters`), :class:`Order`
keys, a ``limit`` and an ``after`` cursor (:mod:`crmcore.query.cursor`). Its methods
check it against a model and run the reference evaluator
(:mod:`crmcore.query.evaluate`), whose result every backend must reproduce.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

import attrs

from crmcore.errors import Problem, ValidationError
from crmcore.models._base import Model, checks, non_blank, positive
from crmcore.query.cursor import encode_cursor
from crmcore.query.evaluate import CompiledQuery, compile_query
from crmcore.query.filters import AnyFilter

__all__ = ["Order", "Query", "check_query"]

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class Order(Model):
    """One ordering key: a scalar path that does not cross a tuple."""

    path: str = attrs.field(metadata=checks(non_blank))
    descending: bool = False


def _not_a(expected: str, value: object, where: str) -> ValidationError:
    return ValidationError(
        [
            Problem(
                code="type.invalid",
                path=where,
                message=f"expected {expected}, got {type(value).__name__}",
            )
        ],
        subject="Query",
    )


def _orders(value: Iterable[Order | str]) -> tuple[Order, ...]:
    if isinstance(value, str | Order):
        value = (value,)
    if not isinstance(value, Iterable) or isinstance(value, bytes | Mapping):
        raise _not_a("ordering keys (strings or Order)", value, "$.order_by")
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
        if not isinstance(records, Iterable):
            raise _not_a("an iterable of records", records, "$")
        items = list(records)
        if not items:
            return []
        return self.compile(type(items[0])).apply(items)

    def validate(self, model: type) -> None:
        """Check every path, operator, operand and the cursor against ``model``."""
        self.compile(model)

    def compile(self, model: type) -> CompiledQuery:
        """Check this query against ``model`` and build its evaluator."""
        return compile_query(self, model)

    def cursor_for(self, record: object) -> str:
        """The opaque cursor of ``record`` in this query's order (for :attr:`after`)."""
        compiled = self.compile(type(record))
        return encode_cursor(self, compiled.order_values(record), record.id)  # type: ignore[attr-defined]

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


def check_query(query: object) -> Query:
    """Return ``query`` if it is a :class:`Query`; raise ``ValidationError`` if it is not.

    ``None``, a string or a dict where a query is expected is ``type.invalid`` at
    ``$`` (decode plain data first with ``crmcore.from_dict(data, Query)``).
    """
    if isinstance(query, Query):
        return query
    if isinstance(query, Mapping):
        raise _not_a("a Query (decode a dict with from_dict(data, Query))", query, "$")
    raise _not_a("a Query", query, "$")
