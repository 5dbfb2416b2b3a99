"""The phone normaliser's valid-number shortcut gives exactly what its reference gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore._fastpaths import set_fast_paths
from crmcore.models import Phone, PhoneKind
from crmcore.rules.verification.phones import normalise_phone_point
from crmcore.storage.sqlalchemy._last import remember_last

TYPED = [
    "010-62345678",
    "138 0013 8000",
    "+86 (0)10 6234 5678",
    "１３８００１３８０００",
    "+1 650-253-0000 ext. 123",
    "+86 10 6234 5678 转 8001",
    "010-62345678-123",
    "(0755) 8888 6666",
    "+49 (0) 89 1234567",
    "090-1234-5678",
    "+852 2123 4567",
    "12345",
    "not a number",
]


def _both_ways(phone: Phone, region: str | None, locale: str) -> tuple[object, object]:
    previous = set_fast_paths(True)
    try:
        fast = normalise_phone_point(phone, region=region, locale=locale)
        set_fast_paths(False)
        reference = normalise_phone_point(phone, region=region, locale=locale)
    finally:
        set_fast_paths(previous)
    return fast, reference


@settings(max_examples=150, deadline=None)
@given(
    number=st.sampled_from(TYPED),
    extension=st.sampled_from([None, "123", "８００１", "x9"]),
    kind=st.sampled_from(list(PhoneKind)),
    region=st.sampled_from([None, "CN", "US", "DE", "JP"]),
    locale=st.sampled_from(["en", "zh-Hans"]),
)
def test_the_valid_number_shortcut_equals_its_reference(
    number: str,
    extension: str | None,
    kind: PhoneKind,
    region: str | None,
    locale: str,
) -> None:
    """Phone and findings are the same with the shortcut and with normalise_phone's judge."""
    fast, reference = _both_ways(
        Phone(number=number, extension=extension, kind=kind), region, locale
    )
    assert fast == reference


@given(st.lists(st.sampled_from([1, 2, 3]).map(lambda n: [n]), max_size=12))
def test_remember_last_answers_what_the_function_answers(values: list[list[int]]) -> None:
    """The one-entry cache returns the function's own result for each object, in any order."""

    def describe(value: list[int]) -> tuple[int, list[int]]:
        return id(value), list(value)

    remembered = remember_last(describe)
    for value in values + values[::-1]:
        assert remembered(value) == (id(value), list(value))


def test_normalise_phone_gives_the_extension_in_ascii_digits() -> None:
    """A full-width extension comes back as the ASCII digits the pipeline stores."""
    from crmcore.rules.verification.phones import normalise_phone

    assert normalise_phone("010-62345678转１２３", region="CN").extension == "123"
    assert normalise_phone("+1 650-253-0000 ext. １２３", region=None).extension == "123"
    assert normalise_phone("+1 650-253-0000", region=None).extension is None


def _read_both_ways(text: str, region: str | None) -> tuple[object, object]:
    """``_read``'s answer (number and type, or the parse error) with and without the shortcut."""
    from crmcore.rules.verification.phones import _read, _tables

    def answer() -> object:
        try:
            number, number_type = _read(text, region, _tables())
        except Exception as error:  # phonenumbers' NumberParseException
            return ("error", type(error).__name__, getattr(error, "error_type", None))
        return (number, number_type)

    previous = set_fast_paths(True)
    try:
        fast = answer()
        set_fast_paths(False)
        reference = answer()
    finally:
        set_fast_paths(previous)
    return fast, reference


DASHED_STARTS = [
    "",
    "+",
    "＋",
    "00",
    "0086",
    "011",
    "+86",
    "+86 ",
    "+1 ",
    "+44 ",
    "+852 ",
    "tel:+86-",
]
DASHES = ["-", "－", "–", "—", " - ", " "]


@settings(max_examples=300, deadline=None)
@given(
    start=st.sampled_from(DASHED_STARTS),
    groups=st.lists(st.text("0123456789", min_size=1, max_size=5), min_size=1, max_size=4),
    seps=st.lists(st.sampled_from([*DASHES, "", "(", ")"]), min_size=4, max_size=4),
    last=st.text("0123456789", min_size=1, max_size=7),
    region=st.sampled_from([None, "CN", "US", "GB", "HK", "DE"]),
)
def test_the_dashed_extension_shortcut_equals_its_reference(
    start: str, groups: list[str], seps: list[str], last: str, region: str | None
) -> None:
    """Reading a number that ends in -digits gives the same number with and without the shortcut.

    The shortcut skips parsing the text before the last dash unless the whole text was
    read with China's country code: the reference parses it for every dashed number.
    """
    body = "".join(g + s for g, s in zip(groups, seps, strict=False))
    text = f"{start}{body}-{last}"
    fast, reference = _read_both_ways(text, region)
    assert fast == reference


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("010-62345678-123", "CN"),
        ("+86 10 6234 5678-8001", None),
        ("0086-755-8888-6666-12", None),
        ("+1 650-253-0000-123", None),
        ("(212) 555-1", "US"),
        ("+1 200 555 1234-5678", None),
        ("0755-8888666-1", "CN"),
    ],
)
def test_the_dashed_extension_shortcut_on_typed_numbers(text: str, region: str | None) -> None:
    """Typical switchboard numbers and spoiled numbers read the same both ways."""
    fast, reference = _read_both_ways(text, region)
    assert fast == reference
