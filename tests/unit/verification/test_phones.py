"""Phone normalisation agrees with phonenumbers and keeps what it cannot normalise."""

from __future__ import annotations

import phonenumbers
import pytest

from crmcore.models import Phone, PhoneKind
from crmcore.rules.verification import (
    PhonePolicy,
    kind_for_number_type,
    normalise_phone,
    normalise_phone_point,
)


@pytest.mark.parametrize(
    ("raw", "region", "e164", "kind"),
    [
        ("010-62345678", "CN", "+861062345678", PhoneKind.LANDLINE),
        ("138 0013 8000", "CN", "+8613800138000", PhoneKind.MOBILE),
        ("+86 (0)10 6234 5678", None, "+861062345678", PhoneKind.LANDLINE),
        ("１３８００１３８０００", "CN", "+8613800138000", PhoneKind.MOBILE),
        ("(021) 5012 3456", "CN", "+862150123456", PhoneKind.LANDLINE),
        ("0086 138-0013-8000", "CN", "+8613800138000", PhoneKind.MOBILE),
        ("+1 650-253-0000", None, "+16502530000", PhoneKind.UNKNOWN),
        ("(650) 253-0000", "US", "+16502530000", PhoneKind.UNKNOWN),
        ("030 1234567", "DE", "+49301234567", PhoneKind.LANDLINE),
        ("+49 1512 3456789", None, "+4915123456789", PhoneKind.MOBILE),
        ("01 42 68 53 00", "FR", "+33142685300", PhoneKind.LANDLINE),
        ("020 7946 0018", "GB", "+442079460018", PhoneKind.LANDLINE),
        ("400-810-8888", "CN", "+864008108888", None),
    ],
)
def test_real_shapes_normalise_to_e164(
    raw: str, region: str | None, e164: str | None, kind: PhoneKind | None
) -> None:
    """Chinese, full-width, US and European shapes become the E.164 phonenumbers gives."""
    result = normalise_phone(raw, region=region)
    assert result.e164 == e164
    if kind is not None:
        assert result.kind is kind
        assert result.valid
        assert result.findings == ()


def test_region_is_case_insensitive() -> None:
    """A lower-case region code reads the number like the upper-case one."""
    assert normalise_phone("010-62345678", region="cn").e164 == "+861062345678"


def test_extension_is_split_out() -> None:
    """An extension written after the number is split off into its own field."""
    result = normalise_phone("+1 650-253-0000 ext. 123", region=None)
    assert (result.e164, result.extension, result.number_type) == (
        "+16502530000",
        "123",
        "FIXED_LINE_OR_MOBILE",
    )


@pytest.mark.parametrize(
    ("raw", "region", "code"),
    [
        ("not a number", "CN", "phone.not_a_number"),
        ("62345678", None, "phone.invalid_country_code"),
        ("+86 1", None, "phone.too_short"),
        ("1" * 40, "CN", "phone.too_long"),
    ],
)
def test_unparseable_is_an_error(raw: str, region: str | None, code: str) -> None:
    """Text phonenumbers cannot parse is an error finding with the library's reason."""
    result = normalise_phone(raw, region=region)
    assert not result.valid
    assert result.parsed is None
    assert [(p.code, p.severity) for p in result.findings] == [(code, "error")]
    assert result.stored == raw


def test_possible_but_invalid_is_a_warning_and_kept() -> None:
    """A number with a possible length but no valid range is kept as entered, with a warning."""
    result = normalise_phone("+1 200 555 0100", region=None)
    assert phonenumbers.is_possible_number(phonenumbers.parse("+1 200 555 0100"))
    assert not result.valid
    assert result.possible
    assert [(p.code, p.severity) for p in result.findings] == [("phone.invalid", "warning")]
    assert result.stored == "+1 200 555 0100"


def test_impossible_length_is_an_error() -> None:
    """A number too short for its country is phone.impossible, an error by default."""
    result = normalise_phone("1380013800000", region="CN")
    assert not result.possible
    assert [(p.code, p.severity) for p in result.findings] == [("phone.impossible", "error")]


def test_policy_changes_severity() -> None:
    """The phone policy sets the severity of invalid and impossible numbers."""
    policy = PhonePolicy(invalid_severity="error", impossible_severity="warning")
    assert normalise_phone("+1 200 555 0100", region=None, policy=policy).findings[0].severity == (
        "error"
    )
    assert normalise_phone("+1 650 253 00", region=None, policy=policy).findings[0].severity == (
        "warning"
    )


def test_phone_point_keeps_invalid_number_and_flags_it() -> None:
    """An invalid number stays as entered, is flagged invalid and remembers its region."""
    phone, found = normalise_phone_point(Phone(number="12345"), region="CN")
    assert (phone.number, phone.invalid, phone.region) == ("12345", True, "CN")
    assert [p.path for p in found] == ["$.number"]


def test_phone_point_fills_kind_and_extension() -> None:
    """A valid number gets its E.164 form, its kind and its extension."""
    phone, found = normalise_phone_point(Phone(number="+86 10 6234 5678 ext 8001"), region=None)
    assert (phone.number, phone.kind, phone.extension) == (
        "+861062345678",
        PhoneKind.LANDLINE,
        "8001",
    )
    assert found == ()


def test_phone_own_region_wins() -> None:
    """The phone's own region reads the number, not the region passed in."""
    phone, _ = normalise_phone_point(Phone(number="030 1234567", region="DE"), region="CN")
    assert phone.number == "+49301234567"


def test_extension_conflict_is_an_error() -> None:
    """Two disagreeing extensions are an error and both are kept as entered."""
    phone, found = normalise_phone_point(
        Phone(number="+1 650-253-0000 ext. 123", extension="456"), region=None
    )
    assert (phone.number, phone.extension) == ("+1 650-253-0000 ext. 123", "456")
    assert [(p.code, p.path, p.severity) for p in found] == [
        ("phone.extension_conflict", "$.extension", "error")
    ]


def test_full_width_extension_becomes_digits() -> None:
    """A separately entered full-width extension is stored as ASCII digits."""
    phone, found = normalise_phone_point(
        Phone(number="010-62345678", extension="８００１"), region="CN"
    )
    assert phone.extension == "8001"
    assert found == ()


def test_fax_kind_is_kept_for_a_landline() -> None:
    """A number entered as a fax keeps that kind when the plan says fixed line."""
    phone, found = normalise_phone_point(
        Phone(number="010-62345678", kind=PhoneKind.FAX), region="CN"
    )
    assert phone.kind is PhoneKind.FAX
    assert found == ()


def test_kind_conflict_takes_the_plan_and_says_so() -> None:
    """A kind contradicting the numbering plan is corrected with an info finding."""
    phone, found = normalise_phone_point(
        Phone(number="13800138000", kind=PhoneKind.LANDLINE), region="CN"
    )
    assert phone.kind is PhoneKind.MOBILE
    assert [(p.code, p.severity) for p in found] == [("phone.kind_conflict", "info")]


def test_ambiguous_plan_keeps_entered_kind() -> None:
    """A North American number keeps the kind the user entered (the plan cannot tell)."""
    phone, _ = normalise_phone_point(
        Phone(number="+1 650-253-0000", kind=PhoneKind.MOBILE), region=None
    )
    assert phone.kind is PhoneKind.MOBILE


def test_every_library_type_maps_to_a_kind() -> None:
    """Every phonenumbers number type maps to a crmcore phone kind."""
    types = [v for k, v in vars(phonenumbers.PhoneNumberType).items() if k.isupper()]
    assert {kind_for_number_type(t) for t in types} <= set(PhoneKind)
    assert kind_for_number_type(phonenumbers.PhoneNumberType.MOBILE) is PhoneKind.MOBILE
