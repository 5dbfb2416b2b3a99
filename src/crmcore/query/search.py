"""Customer text search: the one definition of what is searched and how it matches.

:data:`SEARCH_FIELDS` lists the kinds of searchable value of a customer, each a
:class:`SearchField`: how its raw values are read from a :class:`Customer`, how one
value is normalised, the column a backend that indexes search keeps it in, and what
a search text looks for among its values (a :class:`Needle`). Everything else is
derived from it:

* the reference evaluator's :class:`SearchDocument` (:func:`search_document`) holds,
  per field, its normalised values, each once;
* :class:`crmcore.query.Search` matches a document when some field's needle is found
  in one of its values (:func:`search_needles`, :func:`matches_document`);
* the SQL backend's search columns hold, per field, :meth:`SearchField.joined`: the
  normalised values joined with :data:`SEPARATOR`, and a search becomes a ``LIKE`` of
  each needle on its field's column (a superset the reference predicate then narrows).

Two fields today: ``texts`` (names, nickname, legal name, contact persons' names and
email addresses; NFKC, case-folded, whitespace removed, matched as a substring, or as
a subsequence when the needle is all CJK) and ``digits`` (phone digit strings, matched
by phone-like search text).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from crmcore._fastpaths import fast_paths_enabled
from crmcore.models import Customer

__all__ = [
    "SEARCH_FIELDS",
    "SEPARATOR",
    "Needle",
    "SearchDocument",
    "SearchField",
    "is_cjk",
    "matches_document",
    "normalise_text",
    "phone_digits",
    "search_document",
    "search_needles",
]

SEPARATOR = "\x01"
"""Joins a field's values in its column form (:meth:`SearchField.joined`).

U+0001 is not whitespace, survives NFKC and case folding, is a starter that blocks
canonical reordering and composition, and is not a digit: normalising values joined
by it equals joining the normalised values.
"""

_PHONE_PUNCTUATION = frozenset(" +-().,/\t\u00a0")
_NOT_DIGIT = re.compile(r"[^0-9]")
_NOT_DIGIT_OR_SEPARATOR = re.compile(r"[^0-9\x01]")


# --------------------------------------------------------------------------- normalisation


def normalise_text(text: str) -> str:
    """Text as search compares it: NFKC, case-folded, with all whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _digits(text: str) -> str:
    return _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", text))


def _joined_digits(text: str) -> str:
    return _NOT_DIGIT_OR_SEPARATOR.sub("", unicodedata.normalize("NFKC", text))


def _is_cjk_char(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL"))


def is_cjk(text: str) -> bool:
    """True when every character of ``text`` is CJK (Han, kana or Hangul)."""
    return all(_is_cjk_char(c) for c in text)


def phone_digits(text: str) -> str | None:
    """The digit string of phone-like ``text``, or ``None`` when it is not phone-like.

    Phone-like: after NFKC only digits, whitespace and ``+-().,/``, with at least one digit.
    """
    text = unicodedata.normalize("NFKC", text)
    if not any(c in "0123456789" for c in text):
        return None
    if all(c in "0123456789" or c in _PHONE_PUNCTUATION or c.isspace() for c in text):
        return _digits(text)
    return None


# --------------------------------------------------------------------------- the definition


@attrs.frozen
class Needle:
    """What a search looks for among the values of one search field.

    Attributes:
        text: The normalised search text.
        subsequence: Its characters may have anything between them (CJK names).
    """

    text: str
    subsequence: bool

    def found_in(self, value: str) -> bool:
        """True when the needle is found in one normalised ``value``."""
        if self.subsequence:
            it = iter(value)
            return all(char in it for char in self.text)
        return self.text in value


@attrs.frozen
class SearchField:
    """One kind of searchable value of a customer, for every evaluator and backend.

    Attributes:
        name: Its attribute of :class:`SearchDocument`.
        column: The column a backend that indexes search keeps it in.
        extract: The raw values of a customer, in document order.
        normalise: One raw value as search compares it.
        normalise_joined: The same for raw values joined by :data:`SEPARATOR`, in one
            pass (the cheap form for bulk writes); equal to joining the normalised values.
        needle: What a search text looks for among the values (``None``: nothing).
    """

    name: str
    column: str
    extract: Callable[[Customer], list[str]]
    normalise: Callable[[str], str]
    normalise_joined: Callable[[str], str]
    needle: Callable[[str], Needle | None]

    def values(self, customer: Customer) -> tuple[str, ...]:
        """The normalised values of ``customer``: non-empty, each once, in document order."""
        return tuple(dict.fromkeys(v for v in map(self.normalise, self.extract(customer)) if v))

    def joined(self, customer: Customer) -> str:
        """Every normalised value joined by :data:`SEPARATOR` (the column value).

        Empty and repeated values are kept; :meth:`split` of it equals :meth:`values`.
        Fast path: the joined raw values are normalised in one pass; the reference
        (``CRMCORE_NO_FAST_PATHS=1``) normalises each value and joins the results.
        """
        if fast_paths_enabled():
            return self.normalise_joined(SEPARATOR.join(self.extract(customer)))
        return SEPARATOR.join(map(self.normalise, self.extract(customer)))

    @staticmethod
    def split(joined: str) -> tuple[str, ...]:
        """The values of a :meth:`joined` string: non-empty, each once, in order."""
        return tuple(dict.fromkeys(v for v in joined.split(SEPARATOR) if v))


def _name_texts(name: Any, out: list[str]) -> None:
    if name is not None:
        out += (name.family, name.given, name.display)


def _texts(customer: Customer) -> list[str]:
    """The raw searchable texts of a customer, in document order.

    Display name; the person's name (family, given, as displayed), other name and
    nickname; the organisation's legal name; every contact person's name; every email
    address (the customer's, then its contact persons').
    """
    raw = [customer.display_name]
    emails = [email.address for email in customer.emails]
    person = customer.person
    if person is not None:
        _name_texts(person.name, raw)
        _name_texts(person.other_name, raw)
        if person.nickname:
            raw.append(person.nickname)
    organisation = customer.organisation
    if organisation is not None:
        raw.append(organisation.legal_name)
        for contact in organisation.contact_persons:
            _name_texts(contact.name, raw)
            emails += (email.address for email in contact.emails)
    raw += emails
    return raw


def _phone_numbers(customer: Customer) -> list[str]:
    """Every phone number: the customer's, then its contact persons'."""
    numbers = [phone.number for phone in customer.phones]
    if customer.organisation is not None:
        for contact in customer.organisation.contact_persons:
            numbers += (phone.number for phone in contact.phones)
    return numbers


def _text_needle(text: str) -> Needle | None:
    needle = normalise_text(text)
    return Needle(text=needle, subsequence=is_cjk(needle)) if needle else None


def _digits_needle(text: str) -> Needle | None:
    digits = phone_digits(text)
    return Needle(text=digits, subsequence=False) if digits else None


SEARCH_FIELDS: tuple[SearchField, ...] = (
    SearchField(
        name="texts",
        column="search_text",
        extract=_texts,
        normalise=normalise_text,
        normalise_joined=normalise_text,  # SEPARATOR is not whitespace: it passes through
        needle=_text_needle,
    ),
    SearchField(
        name="digits",
        column="search_digits",
        extract=_phone_numbers,
        normalise=_digits,
        normalise_joined=_joined_digits,
        needle=_digits_needle,
    ),
)
"""What customer search looks at, field by field: the one definition."""


# --------------------------------------------------------------------------- derived


@attrs.frozen
class SearchDocument:
    """What :class:`~crmcore.query.Search` looks at in one customer.

    One attribute per :data:`SEARCH_FIELDS` entry, holding its normalised values.

    Attributes:
        texts: Normalised (:func:`normalise_text`) names, nickname, legal name,
            contact-person names and email addresses.
        digits: The digit strings (after NFKC) of every phone number, the customer's
            and its contact persons'.
    """

    texts: tuple[str, ...]
    digits: tuple[str, ...]


def search_document(customer: Customer) -> SearchDocument:
    """The searchable texts and phone digit strings of a customer.

    Texts: display name; the person's name (family, given, as displayed), other name
    and nickname; the organisation's legal name; every contact person's name; every
    email address (the customer's and its contact persons'). Backends that index
    search precompute this document (see :data:`SEARCH_FIELDS`).
    """
    return SearchDocument(**{field.name: field.values(customer) for field in SEARCH_FIELDS})


def search_needles(
    text: str, also_digits: Sequence[str] = ()
) -> tuple[tuple[SearchField, Needle], ...]:
    """What a search for ``text`` looks for, per field (fields it cannot match left out).

    ``also_digits`` are further digit strings looked for among the phone digits (the
    E.164 digits of phone-shaped text, see :class:`crmcore.query.Search`).
    """
    found: list[tuple[SearchField, Needle]] = []
    for field in SEARCH_FIELDS:
        needle = field.needle(text)
        if needle is not None:
            found.append((field, needle))
    digits_field = next(f for f in SEARCH_FIELDS if f.name == "digits")
    seen = {n.text for f, n in found if f is digits_field}
    for digits in also_digits:
        if digits and digits not in seen:
            seen.add(digits)
            found.append((digits_field, Needle(text=digits, subsequence=False)))
    return tuple(found)


def matches_document(
    needles: Sequence[tuple[SearchField, Needle]], document: SearchDocument
) -> bool:
    """True when some field's needle is found in one of its values in ``document``."""
    return any(
        needle.found_in(value)
        for field, needle in needles
        for value in getattr(document, field.name)
    )
