"""The customer search columns: :func:`crmcore.query.search_document` in two strings.

``search_text`` holds every normalised text of the customer's search document and
``search_digits`` every phone digit string, each joined with U+0001 (which is not
whitespace, survives NFKC and case folding, and composes with nothing). A
:class:`crmcore.query.Search` then becomes a ``LIKE`` on these columns: every customer
the reference search matches is among the rows the ``LIKE`` returns (a needle found in
one text is found in the joined string; a CJK subsequence becomes ``%张%伟%``), and the
reference predicate removes the rest in Python.

Normalising the joined string once equals normalising each part (NFKC decomposition
and case folding work character by character, and U+0001 is a starter that blocks
canonical reordering and composition), which makes the columns cheap to compute on
the bulk-import path; a property test checks them against ``search_document``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from crmcore.models import Customer

__all__ = ["LIKE_ESCAPE", "SEPARATOR", "like_pattern", "search_columns"]

SEPARATOR = "\x01"
"""Joins the parts of a search column."""

_WHITESPACE = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"[^0-9\x01]")
LIKE_ESCAPE = "!"
"""The escape character of :func:`like_pattern`'s patterns."""


def _name(name: Any, out: list[str]) -> None:
    if name is not None:
        out += (name.family, name.given, name.display)


def search_columns(customer: Customer) -> tuple[str, str]:
    """Return ``(search_text, search_digits)`` of a customer."""
    raw = [customer.display_name]
    numbers = [phone.number for phone in customer.phones]
    emails = [email.address for email in customer.emails]
    person = customer.person
    if person is not None:
        _name(person.name, raw)
        _name(person.other_name, raw)
        if person.nickname:
            raw.append(person.nickname)
    organisation = customer.organisation
    if organisation is not None:
        raw.append(organisation.legal_name)
        for contact in organisation.contact_persons:
            _name(contact.name, raw)
            numbers += (phone.number for phone in contact.phones)
            emails += (email.address for email in contact.emails)
    raw += emails
    text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", SEPARATOR.join(raw)).casefold())
    digits = _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", SEPARATOR.join(numbers)))
    return text, digits


def like_pattern(needle: str, *, subsequence: bool) -> str:
    """Return the ``LIKE`` pattern (escape character ``!``) finding ``needle`` anywhere.

    With ``subsequence``, the needle's characters may have anything between them.
    """
    escaped = [LIKE_ESCAPE + c if c in (LIKE_ESCAPE, "%", "_") else c for c in needle]
    if subsequence:
        return "%" + "%".join(escaped) + "%"
    return "%" + "".join(escaped) + "%"
