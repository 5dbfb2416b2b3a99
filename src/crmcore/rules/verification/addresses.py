"""Postal addresses: trimmed text, ISO 3166 country codes and postal-code shapes.

:func:`normalise_address`:

* applies :func:`~crmcore.rules.verification.names.normalise_text` (NFKC, trimmed,
  single spaces) to every text part; blank street lines and a blank postal code
  carry no information and are removed;
* turns the country into its ISO 3166-1 alpha-2 code with :func:`country_code`:
  an alpha-2 code in any case, an alpha-3 code for the common countries, or a
  country name in any language phonenumbers' locale data knows (``"China"``,
  ``"中国"``, ``"Deutschland"``, ``"Allemagne"``); an unknown country is
  ``address.country_unknown`` (a warning: the customer is still stored, with the
  country kept as entered, so nothing is lost for want of a table entry);
* upper-cases the postal code and checks its shape against the country's pattern
  where crmcore knows one (:data:`POSTAL_CODE_PATTERNS`); a mismatch is
  ``address.postal_code_shape`` (warning), kept as entered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache

import attrs

from crmcore.errors import Problem
from crmcore.models import PostalAddress, replace
from crmcore.rules.verification._spec import Spec, severity_problems
from crmcore.rules.verification._zh import POSTAL_SHAPES, word
from crmcore.rules.verification.messages import check_severity, finding
from crmcore.rules.verification.names import normalise_text
from crmcore.rules.verification.phones import supported_regions

__all__ = [
    "ALPHA3",
    "POSTAL_CODE_PATTERNS",
    "AddressPolicy",
    "country_code",
    "normalise_address",
    "postal_code_matches",
]

ALPHA3: Mapping[str, str] = {
    "ARE": "AE", "ARG": "AR", "AUS": "AU", "AUT": "AT", "BEL": "BE", "BGR": "BG",
    "BRA": "BR", "CAN": "CA", "CHE": "CH", "CHL": "CL", "CHN": "CN", "COL": "CO",
    "CZE": "CZ", "DEU": "DE", "DNK": "DK", "EGY": "EG", "ESP": "ES", "EST": "EE",
    "FIN": "FI", "FRA": "FR", "GBR": "GB", "GRC": "GR", "HKG": "HK", "HRV": "HR",
    "HUN": "HU", "IDN": "ID", "IND": "IN", "IRL": "IE", "ISL": "IS", "ISR": "IL",
    "ITA": "IT", "JPN": "JP", "KAZ": "KZ", "KOR": "KR", "LTU": "LT", "LUX": "LU",
    "LVA": "LV", "MAC": "MO", "MEX": "MX", "MYS": "MY", "NLD": "NL", "NOR": "NO",
    "NZL": "NZ", "PAK": "PK", "PER": "PE", "PHL": "PH", "POL": "PL", "PRT": "PT",
    "ROU": "RO", "RUS": "RU", "SAU": "SA", "SGP": "SG", "SRB": "RS", "SVK": "SK",
    "SVN": "SI", "SWE": "SE", "THA": "TH", "TUR": "TR", "TWN": "TW", "UKR": "UA",
    "USA": "US", "VNM": "VN", "ZAF": "ZA",
}  # fmt: skip
"""ISO 3166-1 alpha-3 codes crmcore reads, for the countries most customers live in."""

_ALIASES: Mapping[str, str] = {
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states": "US",
    "america": "US",
    "prc": "CN",
    "p.r.c.": "CN",
    "p.r. china": "CN",
    "mainland china": "CN",
    "中华人民共和国": "CN",
    "中國": "CN",
    "中国大陆": "CN",
    "美國": "US",
    "美利坚合众国": "US",
    # ISO 3166 and UN short and official names that differ from the common ones
    "united states of america": "US",
    "people's republic of china": "CN",
    "russian federation": "RU",
    "viet nam": "VN",
    "republic of korea": "KR",
    "korea, republic of": "KR",
    "south korea": "KR",
    "democratic people's republic of korea": "KP",
    "north korea": "KP",
    "czechia": "CZ",
    "czech republic": "CZ",
    "the netherlands": "NL",
    "holland": "NL",
    "uae": "AE",
    "u.a.e.": "AE",
    "ivory coast": "CI",
    "cote d'ivoire": "CI",
    "côte d'ivoire": "CI",
    "burma": "MM",
    "eswatini": "SZ",
    "swaziland": "SZ",
    "türkiye": "TR",
    "turkiye": "TR",
    "macao": "MO",
    "macau": "MO",
    "hong kong sar": "HK",
    "taiwan, province of china": "TW",
    "iran, islamic republic of": "IR",
    "syrian arab republic": "SY",
    "lao people's democratic republic": "LA",
    "bolivia, plurinational state of": "BO",
    "venezuela, bolivarian republic of": "VE",
    "tanzania, united republic of": "TZ",
    "moldova, republic of": "MD",
    # Chinese names as people write them
    "澳门": "MO",
    "澳門": "MO",
    "中国澳门": "MO",
    "香港": "HK",
    "中国香港": "HK",
    "台湾": "TW",
    "臺灣": "TW",
    "台灣": "TW",
    "中国台湾": "TW",
    "日本国": "JP",
    "大韩民国": "KR",
    "大韓民國": "KR",
    "南韩": "KR",
    "朝鲜": "KP",
    "俄罗斯联邦": "RU",
    "英国": "GB",
    "德国": "DE",
    "法国": "FR",
    "新加坡": "SG",
    "马来西亚": "MY",
    "泰国": "TH",
    "越南": "VN",
    "澳大利亚": "AU",
    "加拿大": "CA",
}


POSTAL_CODE_PATTERNS: Mapping[str, tuple[str, str]] = {
    "CN": (r"\d{6}", "6 digits"),
    "US": (r"\d{5}(-\d{4})?", "5 digits, or ZIP+4 as 12345-6789"),
    "CA": (r"[A-Z]\d[A-Z] ?\d[A-Z]\d", "A1A 1A1"),
    "GB": (r"GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", "a UK postcode such as SW1A 1AA"),
    "IE": (r"[A-Z]\d[\dW] ?[A-Z\d]{4}", "an Eircode such as D02 X285"),
    "NL": (r"\d{4} ?[A-Z]{2}", "1234 AB"),
    "JP": (r"\d{3}-?\d{4}", "123-4567"),
    "KR": (r"\d{5}", "5 digits"),
    "TW": (r"\d{3}(\d{2,3})?", "3, 5 or 6 digits"),
    "SG": (r"\d{6}", "6 digits"),
    "IN": (r"\d{6}", "6 digits"),
    "RU": (r"\d{6}", "6 digits"),
    "BR": (r"\d{5}-?\d{3}", "12345-678"),
    "PL": (r"\d{2}-\d{3}", "12-345"),
    "PT": (r"\d{4}-\d{3}", "1234-567"),
    "SE": (r"\d{3} ?\d{2}", "123 45"),
    "CZ": (r"\d{3} ?\d{2}", "123 45"),
    "SK": (r"\d{3} ?\d{2}", "123 45"),
    "GR": (r"\d{3} ?\d{2}", "123 45"),
    "LU": (r"(L-)?\d{4}", "1234"),
    **dict.fromkeys(
        ("DE", "FR", "IT", "ES", "FI", "MX", "MY", "TH", "UA", "TR", "ID", "HR"),
        (r"\d{5}", "5 digits"),
    ),
    **dict.fromkeys(
        ("AU", "AT", "BE", "CH", "DK", "NO", "NZ", "HU", "ZA", "PH", "SI", "BG"),
        (r"\d{4}", "4 digits"),
    ),
}
"""Postal-code shapes crmcore checks: ISO code to (regular expression, human description)."""

_COMPILED = {region: re.compile(pattern) for region, (pattern, _) in POSTAL_CODE_PATTERNS.items()}


@cache
def _locale_data() -> Mapping[str, Mapping[str, str]]:
    """Phonenumbers' country names in every language, imported on first need.

    It is the largest part of phonenumbers (hundreds of milliseconds to import), so
    neither ``import crmcore`` nor a country written as a common ISO code loads it;
    a country written as a name, or a rare code, does.
    """
    from phonenumbers.geodata.locale import LOCALE_DATA

    return LOCALE_DATA


def _is_region(code: str) -> bool:
    """Whether ``code`` is one of :func:`_regions`, without loading the locale data if possible."""
    if code in supported_regions():
        return code != "AN"
    return code in _regions()


@cache
def _regions() -> frozenset[str]:
    codes = {r for r in supported_regions() if len(r) == 2}
    codes.update(r for r in _locale_data() if len(r) == 2)
    codes.discard("AN")  # Netherlands Antilles: withdrawn from ISO 3166-1
    return frozenset(codes)


def _key(text: str) -> str:
    return normalise_text(text).casefold()


@cache
def _names() -> Mapping[str, str]:
    found: dict[str, set[str]] = {}
    for region, names in _locale_data().items():
        if region not in _regions():
            continue
        for name in names.values():
            if name.startswith("*"):
                continue
            found.setdefault(_key(name), set()).add(region)
    index = {name: next(iter(regions)) for name, regions in found.items() if len(regions) == 1}
    index.update(_ALIASES)
    return index


@lru_cache(maxsize=4096)
def country_code(text: str) -> str | None:
    """Return the ISO 3166-1 alpha-2 code for a country code or name (``None`` if unknown).

    >>> country_code("cn"), country_code("DEU"), country_code("中国"), country_code("Allemagne")
    ('CN', 'DE', 'CN', 'DE')
    >>> country_code("Narnia") is None
    True
    """
    cleaned = normalise_text(text)
    upper = cleaned.upper()
    if len(upper) == 2 and _is_region(upper):
        return upper
    if upper == "UK":
        return "GB"
    if len(upper) == 3 and upper in ALPHA3:
        return ALPHA3[upper]
    return _names().get(cleaned.casefold())


def postal_code_matches(country: str, postal_code: str) -> bool | None:
    """Whether ``postal_code`` has the shape of ``country``'s codes; ``None`` if unknown."""
    pattern = _COMPILED.get(country)
    if pattern is None:
        return None
    return pattern.fullmatch(postal_code) is not None


@attrs.frozen(kw_only=True)
class AddressPolicy(Spec):
    """How addresses are checked.

    Attributes:
        unknown_country_severity: Severity of ``address.country_unknown``.
        postal_code_severity: Severity of ``address.postal_code_shape``.
    """

    TAG = "address_policy"
    kind: str = "address_policy"
    unknown_country_severity: str = "warning"
    postal_code_severity: str = "warning"

    def _spec_invariants(self) -> Iterable[Problem]:
        return severity_problems(self, "unknown_country_severity", "postal_code_severity")


_DEFAULT_POLICY = AddressPolicy()


def _optional(text: str | None) -> str | None:
    if text is None:
        return None
    return normalise_text(text) or None


_OPTIONAL_PARTS = ("region", "city", "district", "recipient")


def normalise_address(
    address: PostalAddress,
    *,
    policy: AddressPolicy = _DEFAULT_POLICY,
    locale: str = "en",
) -> tuple[PostalAddress, tuple[Problem, ...]]:
    """Normalise a :class:`PostalAddress`; findings have paths below it (``$.country``, ...).

    Returns the same object when the address is already in normal form.
    """
    findings: list[Problem] = []
    changes: dict[str, object] = {}
    code = country_code(address.country)
    if code is None:
        findings.append(
            finding(
                "address.country_unknown",
                "$.country",
                locale=locale,
                severity=check_severity(policy.unknown_country_severity),
                country=address.country,
            )
        )  # unknown: kept exactly as entered
    elif code != address.country:
        changes["country"] = code
    for part in _OPTIONAL_PARTS:
        value = getattr(address, part)
        if value is not None and (new := _optional(value)) != value:
            changes[part] = new
    if address.street_lines:
        street_lines = tuple(line for line in map(normalise_text, address.street_lines) if line)
        if street_lines != address.street_lines:
            changes["street_lines"] = street_lines
    if address.postal_code is not None:
        postal_code = _optional(address.postal_code)
        if postal_code is not None:
            postal_code = postal_code.upper()
            if code is not None and postal_code_matches(code, postal_code) is False:
                findings.append(
                    finding(
                        "address.postal_code_shape",
                        "$.postal_code",
                        locale=locale,
                        severity=check_severity(policy.postal_code_severity),
                        postal_code=postal_code,
                        country=code,
                        expected=word(POSTAL_SHAPES, POSTAL_CODE_PATTERNS[code][1], locale),
                    )
                )
        if postal_code != address.postal_code:
            changes["postal_code"] = postal_code
    return (replace(address, **changes) if changes else address), tuple(findings)
