"""What dedupe reads from a customer, normalised once: names, dates, phones, emails, ids.

Blocking keys (:mod:`.keys`) and comparisons (:mod:`.compare`) both work from
:class:`Features`, so a customer is normalised once however many pairs it is in.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

import attrs

from crmcore._fastpaths import fast_paths_enabled, on_switch
from crmcore.errors import Problem, ValidationError
from crmcore.models import Customer, PersonName
from crmcore.rules.dedupe._text import fold, has_han, romanise
from crmcore.rules.verification import normalise_phone

__all__ = ["Address", "Features", "NameForm", "features", "fold_email", "phone_key"]

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_MIN_PHONE_DIGITS = 7

# Legal-form words left out of an organisation's name when it is matched.
_LEGAL_FORMS = frozenset(
    {
        "ltd", "limited", "inc", "incorporated", "co", "corp", "corporation", "company",
        "llc", "plc", "gmbh", "ag", "kg", "sa", "sarl", "bv", "nv", "srl", "spa", "oy", "ab",
        "有限公司", "有限责任公司", "股份有限公司", "有限責任公司", "公司",
    }
)  # fmt: skip
_CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "有限責任公司", "有限公司", "公司")


@attrs.frozen(kw_only=True)
class NameForm:
    """One way a customer's name is written, folded.

    Attributes:
        family: Family name (a person) or the whole name (an organisation), folded.
        given: Given name, folded; empty for an organisation.
        roman_family: ``family`` romanised (pinyin for Han text).
        roman_given: ``given`` romanised.
    """

    family: str
    given: str
    roman_family: str
    roman_given: str
    tokens: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    """The romanised name's words, sorted: the same for swapped family and given names."""
    token_text: str = attrs.field(init=False, eq=False, repr=False)
    """``tokens`` joined by single spaces (the ``name`` blocking key's value)."""
    written: str = attrs.field(init=False, eq=False, repr=False)
    """The romanised name as written, family name first."""
    latin_family: bool = attrs.field(init=False, eq=False, repr=False)
    """Whether ``family`` is written without Han characters (not romanised from Han)."""
    latin_given: bool = attrs.field(init=False, eq=False, repr=False)
    """Whether ``given`` is written without Han characters."""
    joined: str = attrs.field(init=False, eq=False, repr=False)
    """The folded family and given name run together without spaces."""

    def __attrs_post_init__(self) -> None:
        # Derived once here, not on every one of the many pairs the form is compared in.
        tokens = tuple(sorted(f"{self.roman_family} {self.roman_given}".split()))
        object.__setattr__(self, "tokens", tokens)
        object.__setattr__(self, "token_text", " ".join(tokens))
        object.__setattr__(self, "written", f"{self.roman_family} {self.roman_given}".strip())
        object.__setattr__(self, "joined", "".join(f"{self.family}{self.given}".split()))
        object.__setattr__(self, "latin_family", not has_han(self.family))
        object.__setattr__(self, "latin_given", not has_han(self.given))

    @property
    def display(self) -> str:
        """The folded name as written, family name first."""
        return " ".join(p for p in (self.family, self.given) if p)


@attrs.frozen(kw_only=True)
class Address:
    """A postal address reduced to what is compared: country, postal code, street, city."""

    country: str
    postal_code: str
    street: str
    city: str
    squeezed: str = attrs.field(init=False, eq=False, repr=False)
    """``street`` without spaces: ``Nanjing Road 1 98`` and ``Nanjing Road 198`` are one."""

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "squeezed", "".join(self.street.split()))


@attrs.frozen(kw_only=True)
class Features:
    """Everything dedupe compares of one customer, normalised.

    Attributes:
        customer_id: The customer's id.
        kind: ``"person"`` or ``"organisation"``.
        names: Every name form (the name, the other name; the legal name).
        birthday: A person's birthday (an organisation's founding day).
        gender: A person's gender, if stated and not undisclosed.
        phones: E.164 numbers (digits for a number that is not one).
        emails: Email addresses, NFKC and case folded.
        identifiers: ``(kind, value)`` pairs, values folded without spaces.
        addresses: Postal addresses.
    """

    customer_id: str
    kind: str
    names: tuple[NameForm, ...] = ()
    birthday: dt.date | None = None
    gender: str | None = None
    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    identifiers: frozenset[tuple[str, str]] = frozenset()
    addresses: tuple[Address, ...] = ()


def phone_key(number: str, region: str | None) -> str | None:
    """The E.164 form of a phone number, else its digits (at least 7), else ``None``.

    A number already in E.164 (as the normalisation pipeline stores it) is taken
    as it is; any other text goes through phonenumbers with ``region``.

    >>> phone_key("１３８-0013-8000", "CN"), phone_key("+8613800138000", None)
    ('+8613800138000', '+8613800138000')
    """
    text = number.strip()
    if _E164.match(text):
        return text
    result = normalise_phone(text, region=region)
    if result.e164 is not None:
        return result.e164
    digits = "".join(c for c in fold(text) if c.isdigit())
    digits = "".join(str(int(c)) for c in digits)  # any script's digits as ASCII
    return f"#{digits}" if len(digits) >= _MIN_PHONE_DIGITS else None


def _identifier_value(value: str) -> str:
    return "".join(fold(value).split()).upper()


def _person_form(name: PersonName) -> NameForm | None:
    if fast_paths_enabled():
        # Fast path: one form per distinct written name (the same frozen value).
        return _person_form_cached(name.family, name.given)
    return _person_form_of(name.family, name.given)


def _person_form_of(family_name: str, given_name: str) -> NameForm | None:
    """The reference: a person's name folded and romanised."""
    family, given = fold(family_name), fold(given_name)
    if not family and not given:
        return None
    return NameForm(
        family=family, given=given, roman_family=_roman(family), roman_given=_roman(given)
    )


def _roman(part: str) -> str:
    """A name part romanised as one word per written word (``欧阳`` -> ``ouyang``)."""
    if not has_han(part):
        return part
    return " ".join("".join(romanise(w).split()) for w in part.split())


def _organisation_form(legal_name: str) -> NameForm | None:
    if fast_paths_enabled():
        return _organisation_form_cached(legal_name)
    return _organisation_form_of(legal_name)


def _organisation_form_of(legal_name: str) -> NameForm | None:
    """The reference: an organisation's legal name folded, legal forms left out."""
    text = fold(legal_name)
    for suffix in _CJK_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)].strip()
            break
    words = [w for w in text.split() if w not in _LEGAL_FORMS]
    text = " ".join(words) or text
    if not text:
        return None
    roman = _roman(text) if has_han(text) else text
    return NameForm(family=text, given="", roman_family=roman, roman_given="")


_person_form_cached = lru_cache(maxsize=1 << 16)(_person_form_of)
_organisation_form_cached = lru_cache(maxsize=1 << 14)(_organisation_form_of)
on_switch(_person_form_cached.cache_clear)
on_switch(_organisation_form_cached.cache_clear)


def features(customer: Customer, *, region: str | None = None) -> Features:
    """Read and normalise what dedupe compares of ``customer``.

    ``region`` reads phone numbers written without a country code (a phone's own
    ``region`` comes first).
    """
    if not isinstance(customer, Customer):
        raise ValidationError(
            [
                Problem(
                    code="type.invalid",
                    path="$",
                    message=f"expected a Customer, got {type(customer).__name__}",
                )
            ],
            subject="dedupe",
        )
    names: list[NameForm] = []
    birthday: dt.date | None = None
    gender: str | None = None
    identifiers = {(i.kind.value, _identifier_value(i.value)) for i in customer.identifiers}
    if customer.person is not None:
        person = customer.person
        for name in (person.name, person.other_name):
            form = _person_form(name) if name is not None else None
            if form is not None and form not in names:
                names.append(form)
        birthday = person.birthday
        if person.gender is not None and person.gender.value != "undisclosed":
            gender = person.gender.value
    if customer.organisation is not None:
        organisation = customer.organisation
        form = _organisation_form(organisation.legal_name)
        if form is not None:
            names.append(form)
        birthday = organisation.founded_on
        if organisation.registration_number:
            value = _identifier_value(organisation.registration_number)
            if value:
                identifiers.add(("business_registration", value))
    phones = {
        key for p in customer.phones if (key := phone_key(p.number, p.region or region)) is not None
    }
    emails = {e.address.strip().casefold() for e in customer.emails if e.address.strip()}
    emails = {fold_email(e) for e in emails}
    addresses = tuple(
        Address(
            country=fold(a.country),
            postal_code="".join(fold(a.postal_code or "").split()),
            street=fold(" ".join(a.street_lines)),
            city=fold(a.city or ""),
        )
        for a in customer.addresses
    )
    return Features(
        customer_id=customer.id,
        kind=customer.kind.value,
        names=tuple(names),
        birthday=birthday,
        gender=gender,
        phones=frozenset(phones),
        emails=frozenset(emails),
        identifiers=frozenset((k, v) for k, v in identifiers if v),
        addresses=addresses,
    )


def fold_email(address: str) -> str:
    """An email address NFKC-normalised, trimmed and case folded (the blocking form)."""
    return unicodedata.normalize("NFKC", address).strip().casefold()
