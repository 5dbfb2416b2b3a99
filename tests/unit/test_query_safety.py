"""Untrusted query input: linear decoding, bounded depth and size, typed cache keys."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from crmcore.errors import ValidationError
from crmcore.models import Customer
from crmcore.query import Field, In, Not, Or, Query, Search
from crmcore.query import evaluate as evaluate_module
from crmcore.query.decoding import MAX_FILTER_DEPTH
from crmcore.query.evaluate import CACHE_BYTES, UNCACHED_BYTES, cache_stats, clear_cache
from crmcore.query.filters import MAX_SEARCH_LENGTH
from crmcore.serialization import from_dict, from_json, to_dict

LEAF: dict[str, Any] = {"op": "eq", "path": "display_name", "value": "x"}


def _nested(op: str, depth: int) -> dict[str, Any]:
    node: dict[str, Any] = dict(LEAF)
    for _ in range(depth):
        node = {"op": "not", "filter": node} if op == "not" else {"op": op, "filters": [node]}
    return node


def _codes(error: pytest.ExceptionInfo[ValidationError]) -> tuple[str, ...]:
    return error.value.codes


# --------------------------------------------------------------------------- item 14


def test_decoding_nested_or_builds_each_node_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoding 12 nested ``or`` filters constructs exactly 12 Or nodes (no retry per member)."""
    built = 0
    original = Or.__init__

    def counting(self: Or, *args: Any, **kwargs: Any) -> None:
        nonlocal built
        built += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(Or, "__init__", counting)
    query = from_dict({"where": _nested("or", 12)}, Query)
    assert built == 12
    assert isinstance(query.where, Or)


def test_eighteen_nested_or_decode_from_json() -> None:
    """The 18 nested ``or`` filters of the issue decode (exponential decoding would not finish)."""
    text = json.dumps({"where": _nested("or", 18)})
    query = from_json(text, Query)
    assert from_json(json.dumps(to_dict(query)), Query) == query


@pytest.mark.parametrize("op", ["not", "or", "and"])
def test_too_deep_a_filter_tree_is_refused_when_decoded(op: str) -> None:
    """300 nested filters are ``query.too_deep``, not a RecursionError."""
    with pytest.raises(ValidationError) as error:
        from_json(json.dumps({"where": _nested(op, 300)}), Query)
    assert _codes(error) == ("query.too_deep",)
    assert error.value.problems[0].path.startswith("$.where.")


def test_the_depth_limit_is_exact() -> None:
    """A tree of MAX_FILTER_DEPTH levels decodes and validates; one more level is refused."""
    fine = from_dict({"where": _nested("not", MAX_FILTER_DEPTH - 1)}, Query)
    fine.validate(Customer)
    with pytest.raises(ValidationError) as error:
        from_dict({"where": _nested("not", MAX_FILTER_DEPTH)}, Query)
    assert _codes(error) == ("query.too_deep",)


def test_a_deep_tree_built_in_python_is_refused_by_validate() -> None:
    """A 1,000-deep ``Not`` chain built in Python fails validate with ``query.too_deep``."""
    node: Any = Field("display_name") == "x"
    for _ in range(1000):
        node = Not(filter=node)
    with pytest.raises(ValidationError) as error:
        Query(where=node).validate(Customer)
    assert _codes(error) == ("query.too_deep",)


def test_search_text_length_is_bounded() -> None:
    """A search of MAX_SEARCH_LENGTH characters is fine; one more is ``query.search_too_long``."""
    Search(text="a" * MAX_SEARCH_LENGTH)
    with pytest.raises(ValidationError) as error:
        Search(text="a" * (MAX_SEARCH_LENGTH + 1))
    assert _codes(error) == ("query.search_too_long",)
    with pytest.raises(ValidationError) as error:
        from_dict({"where": {"op": "search", "text": "张" * 5000}}, Query)
    assert "query.search_too_long" in _codes(error)


def test_search_text_is_normalised_once_per_query(monkeypatch: pytest.MonkeyPatch) -> None:
    """Searching 50 customers computes the search needles once, not once per record."""
    calls = 0
    original = evaluate_module.search_needles  # type: ignore[attr-defined]

    def counting(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(*args)

    monkeypatch.setattr(evaluate_module, "search_needles", counting)
    clear_cache()
    customers = [Customer.person_named(family="张", given=f"伟{i}") for i in range(50)]
    assert len(Query(where=Search(text="张伟")).apply(customers)) == 50
    assert calls == 1


def test_cached_int_operand_does_not_validate_a_bool() -> None:
    """``version == 1`` cached first does not make ``version == True`` valid."""
    clear_cache()
    Query(where=Field("version") == 1).validate(Customer)
    with pytest.raises(ValidationError) as error:
        Query(where=Field("version") == True).validate(Customer)  # noqa: E712
    assert _codes(error) == ("query.value_invalid",)


def test_cached_bool_operand_does_not_validate_an_int() -> None:
    """``phones.verified == True`` cached first does not make ``phones.verified == 1`` valid."""
    clear_cache()
    Query(where=Field("phones.verified") == True).validate(Customer)  # noqa: E712
    with pytest.raises(ValidationError) as error:
        Query(where=Field("phones.verified") == 1).validate(Customer)
    assert _codes(error) == ("query.value_invalid",)


def test_a_huge_query_is_not_cached() -> None:
    """A query larger than UNCACHED_BYTES is compiled but leaves the cache as it was."""
    clear_cache()
    values = tuple(f"{i:08d}" + "x" * 100 for i in range(UNCACHED_BYTES // 100))
    Query(where=In(path="display_name", values=values)).validate(Customer)
    assert cache_stats() == (0, 0)


def test_the_cache_is_bounded_in_bytes() -> None:
    """Many distinct mid-size queries never hold more than CACHE_BYTES in the cache."""
    clear_cache()
    for i in range(200):
        values = tuple(f"{i}-{j}" + "y" * 200 for j in range(200))
        Query(where=In(path="display_name", values=values)).validate(Customer)
        assert cache_stats()[1] <= CACHE_BYTES
    entries, size = cache_stats()
    assert 0 < entries < 200
    assert size <= CACHE_BYTES


# --------------------------------------------------------------------------- item 16


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfff"])
def test_odd_text_in_an_operand_is_refused(bad: str) -> None:
    """NUL and lone surrogates in Compare and In operands are ``text.invalid_character``."""
    with pytest.raises(ValidationError) as error:
        Field("display_name") == bad  # noqa: B015
    assert error.value.problems[0].code == "text.invalid_character"
    assert error.value.problems[0].path == "$.value"
    with pytest.raises(ValidationError) as error:
        Field("display_name").in_(["ok", bad])
    assert error.value.problems[0].code == "text.invalid_character"
    assert error.value.problems[0].path == "$.values[1]"


def _cursor(keys: list[Any]) -> str:
    raw = json.dumps({"o": [["display_name", False]], "k": keys}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("keys", [["a\x00", "id"], ["a", "id\x00"], ["\ud800", "id"]])
def test_odd_text_in_a_cursor_is_refused(keys: list[Any]) -> None:
    """A cursor key or id holding NUL or a lone surrogate is ``text.invalid_character``."""
    query = Query(order_by=("display_name",), after=_cursor(keys))
    with pytest.raises(ValidationError) as error:
        query.validate(Customer)
    assert error.value.codes == ("text.invalid_character",)
    assert error.value.problems[0].path == "$.after"


# --------------------------------------------------------------------------- item 15


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ([], "type.invalid"),
        ({"where": []}, "type.invalid"),
        ({"where": {"path": "x"}}, "field.required"),
        ({"where": {"op": "xor"}}, "value.not_allowed"),
        ({"where": {"op": ["eq"]}}, "value.not_allowed"),
        ({"where": {"op": "eq", "path": "version", "value": [1]}}, "query.value_invalid"),
        ({"where": {"op": "eq", "path": "version", "value": 10**60}}, "query.value_invalid"),
        ({"where": {"op": "in", "path": "version", "values": "abc"}}, "type.invalid"),
        ({"where": {"op": "in", "path": "version", "values": 3}}, "type.invalid"),
        ({"where": {"op": "or", "filters": {"op": "eq"}}}, "type.invalid"),
        ({"where": {"op": "not", "filter": None}}, "type.invalid"),
        ({"limit": "5"}, "type.invalid"),
    ],
)
def test_malformed_query_data_is_a_coded_validation_error(data: Any, code: str) -> None:
    """Malformed query data raises ValidationError with the expected code."""
    with pytest.raises(ValidationError) as error:
        from_dict(data, Query)
    assert code in error.value.codes


def test_a_huge_integer_in_query_json_is_json_invalid() -> None:
    """An integer of 5,000 digits in query JSON is ``json.invalid``, not Python's ValueError."""
    text = '{"where": {"op": "eq", "path": "version", "value": ' + "9" * 5000 + "}}"
    with pytest.raises(ValidationError) as error:
        from_json(text, Query)
    assert error.value.codes == ("json.invalid",)


@pytest.mark.parametrize("order_by", [5, b"x", {"path": "display_name"}])
def test_an_ordering_of_the_wrong_type_is_a_validation_error(order_by: Any) -> None:
    """``Query(order_by=5)`` is ``type.invalid`` at ``$.order_by``, not a TypeError."""
    with pytest.raises(ValidationError) as error:
        Query(order_by=order_by)
    assert error.value.codes == ("type.invalid",)
    assert error.value.problems[0].path == "$.order_by"


def test_apply_to_something_not_iterable_is_a_validation_error() -> None:
    """``Query().apply(None)`` is ``type.invalid``, not a TypeError."""
    with pytest.raises(ValidationError) as error:
        Query().apply(None)  # type: ignore[arg-type]
    assert error.value.codes == ("type.invalid",)


def test_check_query_names_the_way_to_decode_a_dict() -> None:
    """A dict where a Query belongs is refused with a hint to use from_dict."""
    from crmcore.query.spec import check_query

    with pytest.raises(ValidationError, match="from_dict"):
        check_query({"where": None})
    query = Query()
    assert check_query(query) is query
