"""Document paths answered in SQL (``_json_filter``): typed comparisons equal Python's.

The kit's query tests compare whole queries with the reference evaluator; these
properties aim at the parts written by hand in SQL string functions: decimals by sign,
adjusted exponent and digits (any scale, exponent notation, negative zero), datetimes
as UTC microseconds (offsets with seconds and microseconds), text by code point, and
``explain`` showing every leaf of the kit's queries in SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, literal, select
from tests.conftest import SQL_DIALECTS

from crmcore.errors import ValidationError
from crmcore.models import Complaint, Customer, Interaction, Purchase
from crmcore.query import Field, Query, Reachable
from crmcore.storage.sqlalchemy import SqlBackend, make_engine
from crmcore.storage.sqlalchemy._json_filter import (
    JsonStep,
    JsonTest,
    Value,
    datetime_micros_of,
    decimal_compare,
)
from crmcore.testing._queries import (
    COMPLAINT_QUERIES,
    CUSTOMER_QUERIES,
    INTERACTION_QUERIES,
    PURCHASE_QUERIES,
)

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


@pytest.fixture(scope="module", params=SQL_DIALECTS)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine of each dialect (no tables needed: the documents are literals)."""
    if request.param == "sqlite":
        url = "sqlite://"
    else:
        url = str(request.getfixturevalue(f"{request.param}_url"))
    made = make_engine(url)
    yield made
    made.dispose()


def _evaluate(engine: Engine, docs: list[str], test: Callable[[Value], Any]) -> list[bool]:
    """``test`` of each document's ``x``, evaluated by the database in one statement."""
    columns = [
        JsonTest(literal(doc), [JsonStep("x", False)], test, default_passes=False).label(f"c{i}")
        for i, doc in enumerate(docs)
    ]
    with engine.connect() as conn:
        row = conn.execute(select(*columns)).one()
    return [bool(v) for v in row]


_DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**40), max_value=10**40
    ),
    st.sampled_from(
        ["0", "-0", "0.00", "0E-7", "1E+3", "1000", "-1.50", "1.5", "1E-7", "0.0000001"]
    ).map(Decimal),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(_DECIMALS, min_size=1, max_size=12),
    _DECIMALS,
)
def test_decimals_compare_exactly(
    engine: Engine, stored: list[tuple[Decimal, str]], operand: Decimal
) -> None:
    """A stored decimal compares with an operand exactly as Python's Decimal does."""
    docs = [json.dumps({"x": str(value)}) for value in stored]
    for op in sorted(_OPS):

        def test(v: Value, op: str = op) -> Any:
            return v.decimal_test(lambda k: decimal_compare(op, k, operand))

        found = _evaluate(engine, docs, test)
        assert found == [_OPS[op](value, operand) for value in stored], op


_OFFSETS = st.one_of(
    st.integers(-23 * 60, 23 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m))),
    st.integers(-86_399 * 10**6 + 1, 86_399 * 10**6 - 1).map(
        lambda us: dt.timezone(dt.timedelta(microseconds=us))
    ),
)
_DATETIMES = st.datetimes(
    min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=_OFFSETS
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_DATETIMES, min_size=1, max_size=12), _DATETIMES)
def test_datetimes_compare_as_instants(
    engine: Engine, stored: list[dt.datetime], operand: dt.datetime
) -> None:
    """A stored datetime (any offset) compares with an operand as the UTC instants do."""
    docs = [json.dumps({"x": value.isoformat()}) for value in stored]
    micros = datetime_micros_of(operand)
    for op in sorted(_OPS):

        def test(v: Value, op: str = op) -> Any:
            return _OPS[op](v.micros(), micros)

        found = _evaluate(engine, docs, test)
        assert found == [_OPS[op](value, operand) for value in stored], op


_TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=6)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_TEXT, min_size=1, max_size=12), _TEXT)
def test_text_compares_by_code_point(engine: Engine, stored: list[str], operand: str) -> None:
    """Stored text (CJK, trailing spaces, escapes, beyond the BMP) compares as Python's str."""
    docs = [json.dumps({"x": value}, ensure_ascii=False) for value in stored]
    for op in sorted(_OPS):

        def test(v: Value, op: str = op) -> Any:
            return _OPS[op](v.text(), operand)

        found = _evaluate(engine, docs, test)
        assert found == [_OPS[op](value, operand) for value in stored], op


# --------------------------------------------------------------------------- explain


def test_every_kit_filter_runs_in_sql(sql_backend: SqlBackend) -> None:
    """``explain`` puts every filter leaf of the kit's queries in SQL (text search aside)."""
    kinds: list[tuple[Any, type, dict[str, Query]]] = [
        ("customer", Customer, CUSTOMER_QUERIES),
        ("interaction", Interaction, INTERACTION_QUERIES),
        ("complaint", Complaint, COMPLAINT_QUERIES),
        ("purchase", Purchase, PURCHASE_QUERIES),
    ]
    for kind, _, queries in kinds:
        for name, query in queries.items():
            steps = sql_backend.explain(kind, query).filters
            outside = [s for s in steps if not s.in_sql and s.op != "search"]
            assert outside == [], (kind, name)


def test_document_leaves_are_explained_as_document(sql_backend: SqlBackend) -> None:
    """Non-indexed paths and plain reachability run on the document, exactly."""
    query = Query(
        where=(Field("notes") != None)  # noqa: E711
        & (Field("organisation.registered_capital.amount") > 10)
        & (Field("phones.verified") == False)  # noqa: E712
        & Reachable(channel="sms")
    )
    explanation = sql_backend.explain("customer", query)
    assert explanation.exact
    assert [s.where for s in explanation.filters] == ["document"] * 4


def test_unknown_atom_is_refused_with_a_code() -> None:
    """A leaf type SQL storage cannot compare is refused (``query.not_in_sql``), not scanned."""
    from crmcore.query import Op
    from crmcore.storage.sqlalchemy._json_leaf import _leaf_test

    with pytest.raises(ValidationError) as caught:
        _leaf_test("x", complex, Op.EQ, 1)
    assert caught.value.codes == ("query.not_in_sql",)
