"""Messy input that is ordinary in China: extension markers, padded emails, spreadsheet cells."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from crmcore.models import (
    Customer,
    Email,
    OrganisationProfile,
    PersonName,
    PersonProfile,
    Phone,
    PhoneKind,
)
from crmcore.rules.verification import (
    NormalisationPipeline,
    normalise_email,
    normalise_phone,
    read_date,
)

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
PIPELINE = NormalisationPipeline(default_region="CN")


@pytest.mark.parametrize(
    "raw",
    [
        "010-62345678转123",
        "010-62345678 转 123",
        "010-62345678分机123",
        "010-62345678 分机：123",
        "010-62345678分机号123",
        "010-62345678转分机123",
        "010-62345678-123",
        "(010) 6234 5678-123",
        "010-62345678－１２３",
        "+86 10 6234 5678-123",
    ],
)
def test_chinese_extension_markers_give_an_extension(raw: str) -> None:
    """转, 分机 and a -123 after a full landline split off the extension."""
    result = normalise_phone(raw, region="CN")
    assert (result.e164, result.extension) == ("+861062345678", "123") or (
        result.e164 == "+861062345678" and result.extension == "１２３"
    )
    stored = PIPELINE(Customer.person_named(family="张", phones=(Phone(number=raw),)), now=NOW)
    phone = stored.phones[0]
    assert (phone.number, phone.extension, phone.kind) == (
        "+861062345678",
        "123",
        PhoneKind.LANDLINE,
    )
    assert not phone.invalid


def test_a_dash_group_after_a_mobile_is_not_an_extension() -> None:
    """Mobiles have no extensions: 13800138000-123 stays one (invalid) number."""
    result = normalise_phone("13800138000-123", region="CN")
    assert result.e164 is None
    assert result.extension is None


def test_a_dash_inside_a_valid_number_is_not_an_extension() -> None:
    """010-6234-5678 is one valid number: the last group is not split off."""
    result = normalise_phone("010-6234-5678", region="CN")
    assert (result.e164, result.extension) == ("+861062345678", None)


def test_a_local_number_with_a_dash_group_is_left_to_phonenumbers() -> None:
    """62345678-123 has no area code, so it is not a full landline and nothing is split."""
    result = normalise_phone("62345678-123", region="CN")
    assert result.extension is None
    assert not result.valid


def test_an_extension_marker_agrees_with_the_extension_field() -> None:
    """A marker extension equal to the extension field is no conflict."""
    phone = Phone(number="010-62345678转123", extension="123")
    stored = PIPELINE(Customer.person_named(family="张", phones=(phone,)), now=NOW)
    assert stored.phones[0].extension == "123"


@pytest.mark.parametrize(
    "raw", [" zhang@example.com ", "zhang@example.com\u3000", "\tzhang@example.com\n"]
)
def test_emails_are_trimmed_like_names_and_phones(raw: str) -> None:
    """Leading and trailing whitespace (ideographic spaces too) is trimmed before validating."""
    assert normalise_email(raw).normalized == "zhang@example.com"
    stored = PIPELINE(Customer.person_named(family="张", emails=(Email(address=raw),)), now=NOW)
    assert stored.emails[0].address == "zhang@example.com"
    assert not stored.emails[0].invalid


def test_inner_whitespace_in_an_email_is_still_refused() -> None:
    """Only the ends are trimmed: a space inside the address is still an error."""
    assert normalise_email("zhang wei@example.com").findings[0].code == "email.invalid"


def test_blank_optional_text_becomes_none() -> None:
    """Blank spreadsheet cells in optional text fields are stored as absent, not as blanks."""
    person = PersonProfile(
        name=PersonName(family="张", given="伟"),
        nickname=" ",
        education="",
        industry="\u3000",
        income_band="",
    )
    customer = Customer.person_named(
        family="张",
        person=person,
        grade="",
        owner=" ",
        notes="  ",
        phones=(Phone(number="13800138000", label=""),),
        emails=(Email(address="a@example.com", label=" "),),
    )
    stored = PIPELINE(customer, now=NOW)
    assert stored.person is not None
    assert (stored.person.nickname, stored.person.education) == (None, None)
    assert (stored.person.industry, stored.person.income_band) == (None, None)
    assert (stored.grade, stored.owner, stored.notes) == (None, None, None)
    assert (stored.phones[0].label, stored.emails[0].label) == (None, None)
    assert PIPELINE(stored, now=NOW) == stored


def test_blank_optional_text_of_organisations_becomes_none() -> None:
    """Organisation text cells left blank are absent too."""
    org = OrganisationProfile(legal_name="示例公司", registration_number=" ", business_scope="")
    stored = PIPELINE(Customer.organisation_named("示例公司", organisation=org), now=NOW)
    assert stored.organisation is not None
    assert (stored.organisation.registration_number, stored.organisation.business_scope) == (
        None,
        None,
    )


def test_text_that_is_not_blank_is_kept() -> None:
    """Non-blank notes and grades are kept exactly."""
    customer = Customer.person_named(family="张", grade="A", notes=" 爱喝胡萝卜汁 ")
    stored = PIPELINE(customer, now=NOW)
    assert (stored.grade, stored.notes) == ("A", " 爱喝胡萝卜汁 ")


@pytest.mark.parametrize(
    "text",
    ["1990/5/1", "1990-5-1", "1990.5.1", "1990/05/01", "1990-05-01", "1990年5月1日", " 1990/5/1 "],
)
def test_read_date_reads_spreadsheet_dates(text: str) -> None:
    """Year-first dates in the shapes spreadsheets export are read as dates."""
    assert read_date(text) == dt.date(1990, 5, 1)


@pytest.mark.parametrize("text", ["5/1/1990", "1/5/1990", "1990/13/1", "1990/2/30", "", "May 1"])
def test_read_date_refuses_ambiguous_or_impossible_dates(text: str) -> None:
    """Day-first or month-first dates are ambiguous and impossible dates are not dates: None."""
    assert read_date(text) is None


@given(
    area=st.sampled_from(["010", "021", "0755", "0571", "028"]),
    local=st.integers(min_value=6000_0000, max_value=8999_9999),
    extension=st.from_regex(r"[0-9]{1,6}", fullmatch=True),
    marker=st.sampled_from(["-", " - ", "转", " 转 ", "分机", "分机号", "转分机", "分机："]),
)
def test_any_full_landline_with_an_extension_marker_splits(
    area: str, local: int, extension: str, marker: str
) -> None:
    """Whatever the marker, a valid landline keeps its number and gains the extension."""
    landline = f"{area}-{local}"
    plain = normalise_phone(landline, region="CN")
    assume(plain.valid and plain.number_type == "FIXED_LINE")
    result = normalise_phone(landline + marker + extension, region="CN")
    assert (result.e164, result.extension) == (plain.e164, extension)
