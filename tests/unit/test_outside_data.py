"""Outside data reaching a public entry point raises crmcore errors only, with codes and paths."""

from __future__ import annotations

import datetime as dt

import pytest

from crmcore.errors import (
    CrmError,
    InvalidArgument,
    InvalidStorageURL,
    StorageError,
    ValidationError,
    WrongType,
)
from crmcore.models import Customer, CustomerKind, PersonName, PersonProfile
from crmcore.rules.verification import (
    CodeInfo,
    QualityScore,
    SourcedValue,
    VendorRecord,
    evaluate_vendor,
)
from crmcore.serialization import from_dict, from_json, to_dict
from crmcore.storage import connect
from crmcore.storage._arguments import check_batch_size

HUGE = 10**5000


def _problem(error: ValidationError) -> tuple[str, str]:
    return error.problems[0].code, error.problems[0].path


def test_a_huge_integer_is_out_of_range_at_its_path() -> None:
    """An integer over Python's 4,300-digit string limit is `value.out_of_range` where it is."""
    with pytest.raises(ValidationError) as error:
        from_dict({"kind": HUGE, "display_name": "x"}, Customer)
    assert ("value.out_of_range", "$.kind") in [(p.code, p.path) for p in error.value.problems]


def test_a_huge_integer_in_json_text_is_invalid_json() -> None:
    """JSON text with a 5,000-digit integer is `json.invalid`, not Python's ValueError."""
    with pytest.raises(ValidationError) as error:
        from_json('{"version": ' + "9" * 5000 + "}", Customer)
    assert _problem(error.value) == ("json.invalid", "$")


@pytest.mark.parametrize("text", [5, None, ["[]"]])
def test_from_json_of_a_non_text_is_a_type_problem(text: object) -> None:
    """from_json given something that is not str or bytes reports `type.invalid`."""
    with pytest.raises(ValidationError) as error:
        from_json(text, Customer)  # type: ignore[arg-type]
    assert _problem(error.value) == ("type.invalid", "$")


@pytest.mark.parametrize(
    ("elements", "path"),
    [
        ([["age", 41]], "$.elements"),
        ({"age": [41]}, "$.elements.age"),
        ({"age": 1.5}, "$.elements.age"),
        ({"age": HUGE}, "$.elements.age"),
    ],
    ids=["list", "nested", "float", "huge"],
)
def test_vendor_elements_of_the_wrong_shape_are_refused_at_their_path(
    elements: object, path: str
) -> None:
    """VendorRecord.elements must be an object of text, integers or nulls."""
    with pytest.raises(ValidationError) as error:
        from_dict({"customer_id": "c1", "elements": elements}, VendorRecord)
    assert error.value.problems[0].path == path


def test_vendor_elements_round_trip() -> None:
    """A well-formed vendor record structures into a mapping and back."""
    record = from_dict({"customer_id": "c1", "elements": {"age": 41, "城市": "上海"}}, VendorRecord)
    assert dict(record.elements) == {"age": 41, "城市": "上海"}
    assert from_dict(to_dict(record), VendorRecord) == record


def test_an_unknown_severity_is_not_allowed() -> None:
    """A Literal field (a problem's severity) given another value is `value.not_allowed`."""
    data = {"code": "x.y", "title": "t", "meaning": "m", "severity": "bogus"}
    with pytest.raises(ValidationError) as error:
        from_dict(data, CodeInfo)
    assert ("value.not_allowed", "$.severity") in [(p.code, p.path) for p in error.value.problems]


@pytest.mark.parametrize(
    "value", ["1.0", True, float("inf"), HUGE], ids=["text", "bool", "inf", "huge"]
)
def test_float_fields_are_strict(value: object) -> None:
    """A float field takes a finite JSON number only."""
    data = {"score": value, "completeness": 1.0, "validity": 1.0, "freshness": 1.0}
    with pytest.raises(ValidationError) as error:
        from_dict(data, QualityScore)
    assert "$.score" in [p.path for p in error.value.problems]


def test_a_generic_alias_structures_with_crmcore_errors() -> None:
    """SourcedValue[str] structures its value as str and reports problems like any model."""
    provenance = {"channel": "manual_entry", "observed_at": "2026-01-01T00:00:00+00:00"}
    good = from_dict({"value": "x", "provenance": provenance}, SourcedValue[str])
    assert good.value == "x"
    bad_inputs: list[object] = [None, [], {"value": 1, "provenance": provenance}, {"value": "x"}]
    for bad in bad_inputs:
        with pytest.raises(ValidationError):
            from_dict(bad, SourcedValue[str])


def test_a_class_whose_annotations_cannot_be_read_is_a_wrong_type() -> None:
    """from_dict into a class the converter cannot describe raises a crmcore TypeError."""
    from crmcore.rules.verification import PhoneResult

    with pytest.raises(WrongType):
        from_dict({}, PhoneResult)


def test_an_extreme_vendor_number_is_not_an_error() -> None:
    """A vendor age of 1e999999999 disagrees with ours rather than raising."""
    customer = Customer(
        id="c1",
        kind=CustomerKind.PERSON,
        display_name="Li",
        person=PersonProfile(name=PersonName(given="Li"), birthday=dt.date(1990, 5, 1)),
    )
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for value in ("1e999999999", "-1e999999999", "9" * 5000, HUGE, "1e-999999999"):
        record = VendorRecord(customer_id="c1", elements={"age": value, "employee_count": value})
        report = evaluate_vendor([customer], [record], now=now)
        assert report.element("age").agreed == 0


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///a\x00b",
        "sqlite:///\ud800",
        "sqlite:///:memory:?timeout=abc",
        "postgresql+psycopg://u@h\ud800/x",
        "postgresql+psycopg://",
        "postgresql+psycopg://u@127.0.0.1:5432",
        "mysql+pymysql://root@127.0.0.1:3306/",
        "postgresql+psycopg://[::1/x",
        "sqlite:////no-such-directory-for-crmcore/crm.db",
    ],
)
def test_odd_urls_are_refused_with_a_code(url: str) -> None:
    """connect() refuses a URL it cannot use: InvalidStorageURL, a StorageError, a ValueError."""
    with pytest.raises(InvalidStorageURL) as error:
        connect(url)
    assert isinstance(error.value, StorageError)
    assert isinstance(error.value, ValueError)
    assert error.value.code == "storage.invalid_url"


@pytest.mark.parametrize("size", [0, -1, True, 2.0, "10"])
def test_a_bad_batch_size_is_a_crmcore_value_error(size: object) -> None:
    """batch_size misuse raises InvalidArgument, which is also a ValueError."""
    with pytest.raises(InvalidArgument) as error:
        check_batch_size(size)
    assert isinstance(error.value, ValueError)
    assert error.value.code == "argument.invalid"


def test_a_dict_given_to_add_is_a_crmcore_type_error() -> None:
    """uow.customers.add({...}) raises WrongType, a CrmError and a TypeError."""
    store = connect("memory://")
    with store.unit_of_work() as uow, pytest.raises(WrongType) as error:
        uow.customers.add({"display_name": "x"})  # type: ignore[arg-type]
    assert isinstance(error.value, TypeError)
    assert isinstance(error.value, CrmError)
    assert error.value.code == "argument.wrong_type"


def test_a_huge_integer_nested_in_a_wrong_value_is_out_of_range_at_its_path() -> None:
    """A list holding a huge integer where an enum belongs reports the integer's own path."""
    with pytest.raises(ValidationError) as error:
        from_dict({"kind": "person", "display_name": "x", "lifecycle_stage": [HUGE]}, Customer)
    assert _problem(error.value) == ("value.out_of_range", "$.lifecycle_stage[0]")
