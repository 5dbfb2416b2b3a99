"""Counting a query's matches in SQL with the cheapest exact statement.

A filter that SQL answers exactly is counted by one statement, never by running the
query and counting its rows:

* a single leaf on an indexed path (a comparison, ``in``, a month-day window or a
  consent audience) counts its customers straight off the index table, without
  touching the customer table: ``COUNT(*)`` of the matching entries for a single-valued
  path (a customer has at most one), ``COUNT(*)`` of the ``DISTINCT`` customer ids for a
  multi-valued one (a customer with two matching phones is counted once);
* any other exact filter is ``SELECT count(*) FROM <table> WHERE <filter>``.

A filter with a part checked in Python returns ``None``: the caller counts the
pre-filtered records that pass the reference predicate.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table, func, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression
from sqlalchemy.sql.selectable import ScalarSelect

from crmcore.query import Compare, CompiledQuery, In, MonthDay
from crmcore.storage.indexing import IndexSet
from crmcore.storage.sqlalchemy._query import _translate

__all__ = ["count_statement"]


def _entry_select(condition: Any, table: Table) -> Select[Any] | None:
    """The entry select of ``table.id IN (SELECT customer_id FROM crm_customer_index ...)``."""
    if (
        isinstance(condition, BinaryExpression)
        and condition.operator is operators.in_op
        and condition.left is table.c.id
        and isinstance(condition.right, ScalarSelect)
        and isinstance(condition.right.element, Select)
    ):
        return condition.right.element
    return None


def count_statement(
    compiled: CompiledQuery, table: Table, indexes: IndexSet | None = None
) -> Select[Any] | None:
    """The statement counting the rows of ``table`` matching ``compiled``'s filter.

    ``None`` when part of the filter must be checked in Python.
    """
    translated, _ = _translate(compiled, table, indexes)
    if not translated.exact:
        return None
    condition = translated.condition
    if condition is None:
        return select(func.count()).select_from(table)
    entries = _entry_select(condition, table)
    if entries is not None:
        where = compiled.query.where
        single = (
            isinstance(where, Compare | In | MonthDay)
            and indexes is not None
            and (indexed := indexes.get(where.path)) is not None
            and not indexed.resolved.many
        )
        found = entries if single else entries.distinct()
        return select(func.count()).select_from(found.subquery())
    return select(func.count()).select_from(table).where(condition)
