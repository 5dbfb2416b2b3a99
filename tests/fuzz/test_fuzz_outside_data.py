"""Fuzz targets: outside data at crmcore's public entry points raises crmcore errors only.

Generated JSON-ish values and hand-made hostile ones go to ``from_dict`` and
``from_json`` for every model and rule spec, to ``connect()`` and to the rule entry
points; the only exceptions allowed out are :class:`~crmcore.errors.CrmError`, and
whatever ``from_json`` accepts round-trips. ``CRMCORE_FUZZ_EXAMPLES`` (default 25,
or the ``HYPOTHESIS_PROFILE``'s number) sets the number of examples per target:
``CRMCORE_FUZZ_EXAMPLES=100000 pytest tests/fuzz`` runs them longer (docs/fuzzing.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmcore.models
import crmcore.rules.verification
from crmcore.errors import CrmError, ValidationError
from crmcore.rules.verification import (
    SourcedValue,
    VendorRecord,
    evaluate_vendor,
    normalise_email,
    normalise_phone,
    normalise_text,
    score_quality,
    validate,
)
from crmcore.rules.verification.names import split_full_name
from crmcore.rules.verification.specs import VerificationSpec
from crmcore.serialization import from_dict, from_json, to_dict, to_json
from crmcore.storage import connect
from crmcore.testing.data import sample_customers

_REQUESTED = os.environ.get("CRMCORE_FUZZ_EXAMPLES")
EXAMPLES = (
    int(_REQUESTED)
    if _REQUESTED
    else settings().max_examples  # the profile tests/conftest.py loaded (HYPOTHESIS_PROFILE)
    if os.environ.get("HYPOTHESIS_PROFILE")
    else 25
)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def _attrs_classes(module: Any) -> list[Any]:
    names = module.__all__
    return [
        getattr(module, n)
        for n in names
        if isinstance(getattr(module, n), type) and attrs.has(getattr(module, n))
    ]


TYPES: list[Any] = [
    *_attrs_classes(crmcore.models),
    *_attrs_classes(crmcore.rules.verification),
    VerificationSpec,
    SourcedValue[str],
    SourcedValue[int],
]
TYPE_IDS = [getattr(t, "__name__", None) or str(t) for t in TYPES]

# Hand-made hostile values: Python's int-string limit, non-finite and extreme floats,
# NUL and lone surrogates, deep nesting, wrong shapes.
HOSTILE: list[Any] = [
    2**63,
    float("nan"),
    float("inf"),
    1e308,
    "1e999999999",
    "\x00",
    "\ud800",
    "",
    " ",
    "NaN",
    True,
    [],
    {},
    [[[[[[[[[[]]]]]]]]]],
    {"kind": None},
]

# beyond Python's 4,300-digit int-string limit (built lazily: Hypothesis reprs sampled values)
HUGE = st.sampled_from([1, -1]).map(lambda sign: sign * 10**5000)
text = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    st.sampled_from(HOSTILE),
    HUGE,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
SAMPLES = [to_dict(c) for c in sample_customers()[:20]]


def _mutate(data: Any, draw: st.DrawFn) -> Any:
    """Replace one node of ``data`` (a JSON document) with a generated value."""
    if isinstance(data, dict) and data and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(data)))
        return {**data, key: _mutate(data[key], draw)}
    if isinstance(data, list) and data and draw(st.booleans()):
        index = draw(st.integers(0, len(data) - 1))
        return [*data[:index], _mutate(data[index], draw), *data[index + 1 :]]
    return draw(json_values)


@st.composite
def mutated_customers(draw: st.DrawFn) -> Any:
    """A sample customer's JSON with one node replaced by a generated (often hostile) value."""
    return _mutate(draw(st.sampled_from(SAMPLES)), draw)


def _json_text(value: Any) -> str:
    """JSON text of ``value``; a 5,000-digit literal where the json module cannot write it."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except ValueError:
        return '{"version": ' + "9" * 5000 + "}"


def _structure_only_crm_errors(data: Any, cls: Any) -> Any:
    try:
        return from_dict(data, cls)
    except CrmError:
        return None


@pytest.mark.parametrize("cls", TYPES, ids=TYPE_IDS)
@FUZZ
@given(data=json_values)
def test_from_dict_raises_crmcore_errors_only(cls: Any, data: Any) -> None:
    """from_dict of any JSON-ish value into any model or spec raises only crmcore errors."""
    _structure_only_crm_errors(data, cls)


@FUZZ
@given(data=mutated_customers())
def test_a_mutated_customer_raises_crmcore_errors_only(data: Any) -> None:
    """A sample customer with one hostile node is a Customer or a ValidationError."""
    _structure_only_crm_errors(data, crmcore.models.Customer)


@pytest.mark.parametrize("cls", TYPES, ids=TYPE_IDS)
@FUZZ
@given(raw=st.one_of(text, st.binary(max_size=30), json_values.map(_json_text)))
def test_from_json_of_any_text_raises_crmcore_errors_only(cls: Any, raw: Any) -> None:
    """from_json of any text or bytes raises only crmcore errors; what it accepts round-trips."""
    try:
        value = from_json(raw, cls)
    except CrmError:
        return
    assert from_json(to_json(value), cls) == value


@FUZZ
@given(data=mutated_customers())
def test_what_from_json_accepts_round_trips(data: Any) -> None:
    """A customer from_json accepts comes back equal through to_json and from_json."""
    raw = _json_text(data)
    try:
        customer = from_json(raw, crmcore.models.Customer)
    except CrmError:
        return
    assert from_json(to_json(customer), crmcore.models.Customer) == customer


URL_PARTS = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)


@pytest.mark.filterwarnings("ignore:Query string argument")  # SQLAlchemy: ignored sqlite options
@FUZZ
@given(
    scheme=st.sampled_from(
        ["sqlite", "postgresql+psycopg", "mysql+pymysql", "mariadb+pymysql", "memory", "nope"]
    ),
    user=URL_PARTS,
    database=URL_PARTS,
    query=URL_PARTS,
)
def test_connect_with_odd_urls_raises_crmcore_errors_only(
    scheme: str, user: str, database: str, query: str
) -> None:
    """connect() with generated URLs refuses them with crmcore errors (never a driver's)."""
    if scheme == "sqlite":
        # never a file: an in-memory database with generated query options
        url = f"sqlite:///:memory:?{query}"
    elif scheme == "memory":
        url = f"memory://{database}"
    else:
        # port 1 refuses at once: nothing is reached, nothing waits on the network
        url = f"{scheme}://{user}@127.0.0.1:1/{database}?{query}"
    try:
        store = connect(url)
    except CrmError:
        return
    store.close()


ELEMENTS = ("age", "employee_count", "phone", "email", "name", "gender", "city", "home_value")


@FUZZ
@given(
    elements=st.dictionaries(
        st.sampled_from(ELEMENTS) | text,
        st.one_of(
            st.none(),
            st.integers(),
            text,
            st.sampled_from(["1e999999999", "-1e999999999", "1e-999999999"]),
            HUGE,
        ),
    )
)
def test_evaluate_vendor_raises_nothing_on_extreme_values(elements: dict[str, Any]) -> None:
    """evaluate_vendor scores any vendor values, extreme numbers included, without raising."""
    customer = sample_customers()[0]
    spec = crmcore.rules.verification.VendorEvaluationSpec(requested=ELEMENTS)
    record = VendorRecord(customer_id=customer.id, elements=elements)
    evaluate_vendor([customer], [record], now=NOW, spec=spec, reference={customer.id: elements})


@FUZZ
@given(raw=text)
def test_normalisers_raise_crmcore_errors_only(raw: str) -> None:
    """The text normalisers take any text, surrogates and NUL included."""
    calls = (
        lambda t: normalise_phone(t, region=None),
        normalise_email,
        normalise_text,
        split_full_name,
    )
    for call in calls:
        with contextlib.suppress(CrmError):
            call(raw)


@FUZZ
@given(data=mutated_customers())
def test_rules_judge_any_customer_the_converter_accepts(data: Any) -> None:
    """validate() and score_quality() judge every customer from_dict accepts without raising."""
    try:
        customer = from_dict(data, crmcore.models.Customer)
    except ValidationError:
        return
    validate(customer, now=NOW)
    score_quality(customer, now=NOW)
