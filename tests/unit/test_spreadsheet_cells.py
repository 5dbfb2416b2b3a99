"""Spreadsheet-shaped values a JSON feed sends: year-first dates and blank optional cells."""

from __future__ import annotations

import datetime as dt

import pytest

from crmcore.errors import ValidationError
from crmcore.models import Customer, Identifier, Phone
from crmcore.rules.verification.cells import read_date
from crmcore.serialization import from_dict, from_json, to_json


def _person(birthday: str) -> dict[str, object]:
    return {
        "kind": "person",
        "display_name": "李",
        "person": {"name": {"given": "李"}, "birthday": birthday},
    }


@pytest.mark.parametrize(
    "text",
    [
        "1990-05-01",
        "1990-5-1",
        "1990/5/1",
        "1990.5.1",
        "1990年5月1日",
        " 1990/05/01 ",
        "１９９０/５/１",
    ],
)
def test_year_first_spreadsheet_dates_are_read(text: str) -> None:
    """from_dict reads the year-first dates spreadsheets export as the same date."""
    data = _person(text)
    assert from_dict(data, Customer).person.birthday == dt.date(1990, 5, 1)  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["5/1/1990", "1990/2/30", "1990/5", "19900501x", "May 1 1990"])
def test_ambiguous_or_impossible_dates_are_still_refused(text: str) -> None:
    """Day- or month-first and impossible dates stay `date.invalid`."""
    data = _person(text)
    with pytest.raises(ValidationError) as error:
        from_dict(data, Customer)
    assert ("date.invalid", "$.person.birthday") in [(p.code, p.path) for p in error.value.problems]


def test_a_lenient_date_is_written_back_as_iso() -> None:
    """A date read from "1990/5/1" is written as "1990-05-01", so JSON round trips are exact."""
    data = _person("1990/5/1")
    customer = from_dict(data, Customer)
    assert '"birthday": "1990-05-01"' in to_json(customer)
    assert from_json(to_json(customer), Customer) == customer


def test_the_pipeline_cells_read_dates_like_the_converter() -> None:
    """cells.read_date and the converter accept the same spreadsheet dates."""
    assert read_date("1990年5月1日") == dt.date(1990, 5, 1)
    assert read_date("5/1/1990") is None


@pytest.mark.parametrize("blank", ["", " ", "\u3000", "\t"])
def test_blank_optional_text_becomes_none(blank: str) -> None:
    """A blank cell for an optional text field (`extension`, `issuer`) is read as absent."""
    phone = from_dict({"number": "+8613800138000", "extension": blank}, Phone)
    assert phone.extension is None
    identifier = from_dict({"kind": "membership_card", "value": "M1", "issuer": blank}, Identifier)
    assert identifier.issuer is None


def test_blank_required_text_is_still_refused() -> None:
    """A blank required text field (a phone's number) is still refused."""
    with pytest.raises(ValidationError) as error:
        from_dict({"number": " "}, Phone)
    assert error.value.problems[0].path == "$.number"
