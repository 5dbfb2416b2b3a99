"""The phone normaliser's valid-number shortcut gives exactly what its reference gives."""

from __future__ import annotations

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
