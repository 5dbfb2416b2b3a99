"""Names and addresses are tidied to one standard without losing anything."""

from __future__ import annotations

import pytest

from crmcore.models import NameOrder, PersonName, PostalAddress
from crmcore.rules.verification import (
    NamePolicy,
    country_code,
    normalise_address,
    normalise_name,
    normalise_text,
    split_full_name,
)


def test_text_is_nfkc_and_single_spaced() -> None:
    """Full-width letters and ideographic spaces become plain text with single spaces."""
    assert normalise_text("  Ｚｈａｎｇ\u3000 Wei ") == "Zhang Wei"
    assert normalise_text("Anna   Maria\tSchmidt") == "Anna Maria Schmidt"


def test_cjk_full_name_in_one_part_is_split() -> None:
    """A Chinese full name typed into the given name is split by the surname rule."""
    name, found = normalise_name(PersonName(given="张伟"))
    assert (name.family, name.given, name.display) == ("张", "伟", "张伟")
    assert [p.code for p in found] == ["name.split"]


def test_compound_surname_is_kept_together() -> None:
    """A compound surname such as 欧阳 stays whole when splitting."""
    name, _ = normalise_name(PersonName(family="欧阳娜娜"))
    assert (name.family, name.given) == ("欧阳", "娜娜")


def test_compound_surname_alone_is_not_split() -> None:
    """A compound surname alone in the family field is a family name, not a full name."""
    name, found = normalise_name(PersonName(family="欧阳"))
    assert (name.family, name.given, found) == ("欧阳", "", ())


def test_splitting_can_be_turned_off() -> None:
    """With splitting off, a full name in one field stays where it was typed."""
    name, _ = normalise_name(
        PersonName(given="张伟"), policy=NamePolicy(split_cjk_full_names=False)
    )
    assert (name.family, name.given) == ("", "张伟")


def test_kana_names_are_not_split() -> None:
    """Japanese kana names are never split by the Chinese surname rule."""
    name, _ = normalise_name(PersonName(given="さくら"))
    assert (name.family, name.given) == ("", "さくら")


def test_cjk_name_order_is_corrected() -> None:
    """A CJK name marked given-first is set to family-first, with an info finding."""
    name, found = normalise_name(PersonName(family="王", given="芳", order=NameOrder.GIVEN_FIRST))
    assert name.order is NameOrder.FAMILY_FIRST
    assert name.display == "王芳"
    assert [(p.code, p.path, p.severity) for p in found] == [
        ("name.order_corrected", "$.order", "info")
    ]


def test_western_name_keeps_its_order() -> None:
    """A Western name keeps given-first order and is only tidied."""
    name, found = normalise_name(PersonName(family=" Schmidt ", given="Anna\u3000Maria"))
    assert (name.family, name.given, name.display) == (
        "Schmidt",
        "Anna Maria",
        "Anna Maria Schmidt",
    )
    assert found == ()


def test_romanised_chinese_keeps_explicit_order() -> None:
    """A romanised Chinese name with family-first order keeps it."""
    name, _ = normalise_name(PersonName(family="Zhang", given="Wei", order=NameOrder.FAMILY_FIRST))
    assert name.display == "Zhang Wei"


@pytest.mark.parametrize(
    ("full", "order", "family", "given"),
    [
        ("张伟", None, "张", "伟"),
        ("司马 光", None, "司马", "光"),
        ("Anna Maria Schmidt", None, "Schmidt", "Anna Maria"),
        ("Schmidt, Anna", None, "Schmidt", "Anna"),
        ("Zhang Wei", NameOrder.FAMILY_FIRST, "Zhang", "Wei"),
    ],
)
def test_split_full_name(full: str, order: NameOrder | None, family: str, given: str) -> None:
    """split_full_name separates CJK, Western and comma-separated full names."""
    name = split_full_name(full, order=order)
    assert (name.family, name.given) == (family, given)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("cn", "CN"),
        ("CHN", "CN"),
        ("中国", "CN"),
        ("China", "CN"),
        ("PRC", "CN"),
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("德国", "DE"),
        ("USA", "US"),
        ("United States", "US"),
        ("UK", "GB"),
        ("ｃｎ", "CN"),
    ],
)
def test_country_names_and_codes(text: str, code: str) -> None:
    """Country codes and names in several languages become ISO 3166 alpha-2."""
    assert country_code(text) == code


def test_unknown_country_is_a_warning_and_kept() -> None:
    """An unknown country is a warning (the customer is still stored); the text is kept exactly."""
    address, found = normalise_address(PostalAddress(country=" Narnia "))
    assert address.country == " Narnia "
    assert [(p.code, p.path, p.severity) for p in found] == [
        ("address.country_unknown", "$.country", "warning")
    ]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("United States of America", "US"),
        ("Russian Federation", "RU"),
        ("Viet Nam", "VN"),
        ("Republic of Korea", "KR"),
        ("Czechia", "CZ"),
        ("The Netherlands", "NL"),
        ("UAE", "AE"),
        ("Ivory Coast", "CI"),
        ("Burma", "MM"),
        ("Eswatini", "SZ"),
        ("People's Republic of China", "CN"),
        ("澳门", "MO"),
        ("臺灣", "TW"),
        ("日本国", "JP"),
        ("大韩民国", "KR"),
    ],
)
def test_official_and_chinese_country_names_are_recognised(name: str, code: str) -> None:
    """ISO and UN official names and the Chinese names people write map to their codes."""
    assert country_code(name) == code


def test_chinese_address_is_tidied() -> None:
    """A Chinese address gets its ISO code, ASCII digits and no blank lines."""
    address, found = normalise_address(
        PostalAddress(
            country="中国",
            region=" 北京市 ",
            city="北京",
            district="海淀区",
            street_lines=("中关村大街１号", "  "),
            postal_code="１０００８０",
        )
    )
    assert (address.country, address.region, address.street_lines, address.postal_code) == (
        "CN",
        "北京市",
        ("中关村大街1号",),
        "100080",
    )
    assert found == ()


@pytest.mark.parametrize(
    ("country", "postal_code", "ok"),
    [
        ("US", "94043", True),
        ("US", "94043-1351", True),
        ("GB", "sw1a 1aa", True),
        ("NL", "1012 AB", True),
        ("DE", "8033", False),
        ("CN", "10008", False),
        ("JP", "100-0001", True),
        ("BR", "01310-100", True),
    ],
)
def test_postal_code_shape(country: str, postal_code: str, ok: bool) -> None:
    """Postal codes are checked against the country's shape; mismatches are warnings."""
    address, found = normalise_address(PostalAddress(country=country, postal_code=postal_code))
    assert address.postal_code == postal_code.upper()
    assert [(p.code, p.severity) for p in found] == (
        [] if ok else [("address.postal_code_shape", "warning")]
    )


def test_unknown_postal_shape_is_not_judged() -> None:
    """A country without a known postal-code shape gets no postal-code finding."""
    _, found = normalise_address(PostalAddress(country="AE", postal_code="anything"))
    assert found == ()
