"""Fuzz targets: query data from outside only ever raises crmcore errors, and backends agree.

Run longer on demand: ``HYPOTHESIS_PROFILE=fuzz pytest tests/fuzz`` (see docs/fuzzing.md).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.errors import CrmError
from crmcore.models import Customer, Phone
from crmcore.query import Query
from crmcore.serialization import from_dict, from_json, to_dict
from crmcore.storage import connect

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

ODD_TEXT = st.sampled_from(
    ["", " ", "\x00", "\ud800", "a\udfffb", "张伟", "%_!", "0086 138", "+86"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**30, max_value=10**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | ODD_TEXT
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)

OPS = st.sampled_from(
    [
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "starts_with",
        "contains",
        "in",
        "is_null",
        "search",
        "and",
        "or",
        "not",
        "xor",
        "",
        1,
        None,
    ]
)
PATHS = st.sampled_from(
    [
        "display_name",
        "version",
        "tags",
        "phones.number",
        "phones.verified",
        "created_at",
        "person.name.family",
        "organisation",
        "kind",
        "nope",
        "",
        "a..b",
        "id\x00",
    ]
)


def _filters() -> st.SearchStrategy[Any]:
    """Filter-shaped dicts: mostly well formed, with odd ops, paths, values and shapes."""
    leaf = st.fixed_dictionaries(
        {"op": OPS, "path": PATHS},
        optional={
            "value": SCALARS,
            "values": st.lists(SCALARS, max_size=3) | SCALARS,
            "text": SCALARS,
            "also_digits": JSONISH,
        },
    )
    return st.recursive(
        leaf | JSONISH,
        lambda inner: (
            st.fixed_dictionaries(
                {"op": st.sampled_from(["and", "or"]), "filters": st.lists(inner, max_size=3)}
            )
            | st.fixed_dictionaries({"op": st.just("not"), "filter": inner})
        ),
        max_leaves=12,
    )


QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "where": _filters(),
        "order_by": JSONISH | st.lists(st.fixed_dictionaries({"path": PATHS}), max_size=2),
        "limit": SCALARS,
        "after": SCALARS,
    },
)

CUSTOMERS = [
    Customer.person_named(
        family="张", given="伟", tags=("vip",), phones=(Phone(number="+8613800138000"),)
    ),
    Customer.person_named(family="Li", given="Na"),
]


def _decode_and_run(data: Any) -> None:
    try:
        query = from_dict(data, Query)
        query.validate(Customer)
        query.apply(CUSTOMERS)
        assert from_dict(to_dict(query), Query) == query
    except CrmError:
        pass


@FUZZ
@given(JSONISH)
def test_any_jsonish_value_decodes_or_raises_a_crmcore_error(data: Any) -> None:
    """Arbitrary JSON-ish data as a Query: a query or a CrmError, nothing else."""
    _decode_and_run(data)


@FUZZ
@given(QUERIES)
def test_query_shaped_data_decodes_or_raises_a_crmcore_error(data: Any) -> None:
    """Query-shaped data with odd ops, paths and operands: a query or a CrmError."""
    _decode_and_run(data)


@FUZZ
@given(st.text(max_size=60) | QUERIES.map(lambda d: json.dumps(d, default=str)))
def test_query_json_text_decodes_or_raises_a_crmcore_error(text: str) -> None:
    """Arbitrary text as query JSON: a query or a CrmError."""
    with contextlib.suppress(CrmError):
        from_json(text, Query).validate(Customer)


@FUZZ
@given(QUERIES)
def test_memory_and_sqlite_agree_on_fuzzed_queries(data: Any) -> None:
    """A decoded query gets the same ids (or the same error codes) from memory and SQLite."""
    try:
        query = from_dict(data, Query)
    except CrmError:
        return
    answers: list[tuple[str, object]] = []
    for url in ("memory://", "sqlite://"):
        with connect(url, normaliser=None) as store:
            with store.unit_of_work() as uow:
                for customer in CUSTOMERS:
                    uow.customers.add(customer)
                uow.commit()
            with store.unit_of_work() as uow:
                try:
                    answers.append(("ok", [c.id for c in uow.customers.find(query)]))
                except CrmError as error:
                    answers.append(("error", getattr(error, "codes", (error.code,))))
    assert answers[0] == answers[1]
