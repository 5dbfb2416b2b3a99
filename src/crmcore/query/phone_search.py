"""Phone-shaped search text read as a number, with the store's default region.

A :class:`~crmcore.storage.Store` stores valid phone numbers in E.164, so a search for
``"010-62345678"`` (a Beijing number typed as it is dialled at home) must also find
``+861062345678``, whose digits do not contain ``01062345678``. :func:`with_phone_digits`
rewrites each :class:`~crmcore.query.Search` whose text is phone-shaped (see
:func:`~crmcore.query.search.phone_digits`) and parses, with the region the store reads
numbers in, to a valid number: the E.164 digits go into :attr:`Search.also_digits`. The
store does this before handing the query to its backend, so every backend (and a
third-party one, through :meth:`Query.apply`) sees the same explicit query. The number is
read by crmcore's own phone normaliser
(:func:`crmcore.rules.verification.phones.normalise_phone`), exactly as writes read it.
"""

from __future__ import annotations

import unicodedata

import attrs

from crmcore.query.filters import And, AnyFilter, Not, Or, Search
from crmcore.query.search import phone_digits
from crmcore.query.spec import Query

__all__ = ["e164_digits", "with_phone_digits"]


def e164_digits(text: str, region: str | None) -> str | None:
    """The E.164 digits (no ``+``) of phone-shaped ``text`` read in ``region``, if valid.

    ``None`` when ``text`` is not phone-shaped, does not parse, or is not a valid number.
    """
    if phone_digits(text) is None:
        return None
    from crmcore.rules.verification.phones import normalise_phone

    result = normalise_phone(unicodedata.normalize("NFKC", text), region=region)
    if result.e164 is None:
        return None
    return result.e164.lstrip("+")


def _rewrite(node: AnyFilter, region: str | None) -> AnyFilter:
    if isinstance(node, Search):
        digits = e164_digits(node.text, region)
        if digits is None or digits == phone_digits(node.text) or digits in node.also_digits:
            return node
        return attrs.evolve(node, also_digits=(*node.also_digits, digits))
    if isinstance(node, And | Or):
        filters = tuple(_rewrite(f, region) for f in node.filters)
        if all(a is b for a, b in zip(filters, node.filters, strict=True)):
            return node
        return attrs.evolve(node, filters=filters)
    if isinstance(node, Not):
        inner = _rewrite(node.filter, region)
        return node if inner is node.filter else attrs.evolve(node, filter=inner)
    return node


def with_phone_digits(query: Query, region: str | None) -> Query:
    """``query`` with the E.164 digits of its phone-shaped searches, read in ``region``.

    Returns ``query`` itself when nothing changes. The query must have been validated
    (its depth is then bounded).
    """
    if query.where is None:
        return query
    where = _rewrite(query.where, region)
    return query if where is query.where else attrs.evolve(query, where=where)
