"""Trusted reads: rows the store wrote itself are read back without re-running every check.

Every record row carries ``doc_digest`` (revision 0005), a keyed BLAKE2b digest of its
``doc`` text, written with the row (:func:`doc_digest`). On read
(:func:`stored_reader`), a row whose digest matches its document holds exactly the text
the store wrote from a model that had passed every check, so the document goes to the
codec's generated trusted reader (:func:`crmcore.storage.sqlalchemy._codec.trusted_reader`),
which builds the model without its type checks, value checks and invariants. Every other
row (digest NULL: written before revision 0005 or by another program; digest different:
edited by hand, corrupted) is read by :func:`~crmcore.storage.sqlalchemy._codec.decode`,
which checks everything and raises :class:`~crmcore.errors.ValidationError` with codes
and ``$.paths`` for an invalid document. No backfill is needed: NULL means "checked".

This is a fast path: its reference is the checked read, and with
``CRMCORE_NO_FAST_PATHS=1`` (:mod:`crmcore._fastpaths`) every row is read checked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from crmcore._fastpaths import fast_paths_enabled, on_switch
from crmcore.storage.sqlalchemy._codec import TRUSTED_ERRORS, decode, encode, trusted_reader

__all__ = [
    "DIGEST_KEY",
    "DIGEST_LENGTH",
    "digest",
    "doc_digest",
    "stored_reader",
]

T = TypeVar("T")

DIGEST_KEY = b"crmcore.doc_digest.v1"
"""The BLAKE2b key of document digests.

A keyed digest is not mistaken for a plain hash of the text (an md5 or sha column some
tool keeps), and a tool that rewrites ``doc`` without knowing crmcore does not
produce a matching one by accident. The version in it retires every stored digest at
once: change it when a model's checks become stricter, and rows written before are
read checked again until their next write. It guards against accidents (hand edits,
corruption, another program writing rows), not against someone who means to forge a
row: the key is in the source.
"""

DIGEST_LENGTH = 16
"""Characters of a digest: 8 bytes of BLAKE2b in hex (an altered row passes with odds of 2**-64).

Hex text (not bytes) keeps the column an ordinary ``VARCHAR(16)`` on every dialect, in
PostgreSQL's binary ``COPY`` as text, and readable in any SQL tool.
"""

_KEYED = hashlib.blake2b(digest_size=DIGEST_LENGTH // 2, key=DIGEST_KEY)

_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The json module's C scanner, which ``json.loads`` runs after two Python-level calls and a
whitespace check; encode() writes no whitespace around a document, so an ``end`` short of the
text means "not such a document" (StopIteration: not JSON there)."""


def digest(text: str | bytes) -> str:
    """Return the digest stored beside a document: keyed BLAKE2b of its UTF-8 text, in hex."""
    hasher = _KEYED.copy()  # the key is mixed in once, not once per document
    # lone surrogates (which no driver stores) are hashed as they are, so this never
    # raises: the driver's refusal of the row reports them
    hasher.update(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return hasher.hexdigest()


def doc_digest(record: object) -> str:
    """Return the digest of ``encode(record)``, the stored document of ``record``.

    :func:`~crmcore.storage.sqlalchemy._codec.encode` remembers the text of the last
    record it wrote, so a row function that takes the document and then its digest
    encodes once.
    """
    return digest(encode(record))


_READERS: dict[type, Callable[[str, str | None], object]] = {}
on_switch(_READERS.clear)


def stored_reader(cls: type[T]) -> Callable[[str, str | None], T]:
    """Return the function reading one row's ``(doc, doc_digest)`` back into ``cls``.

    A matching digest: the trusted reader builds the record, no model check runs.
    NULL or a different digest: :func:`~crmcore.storage.sqlalchemy._codec.decode`
    reads it, checking every value, and raises ``ValidationError`` for an invalid
    document. With the fast paths off, every row is read checked.
    """
    known = _READERS.get(cls)
    if known is None:
        known = _READERS[cls] = _make_reader(cls)
    return known  # type: ignore[return-value]


def _make_reader(cls: type[T]) -> Callable[[str, str | None], T]:
    if not fast_paths_enabled():

        def checked(text: str, mark: str | None) -> T:
            return decode(text, cls)

        return checked

    trusted = trusted_reader(cls)
    keyed = _KEYED
    scan = _SCAN
    untrusted: tuple[type[Exception], ...] = (*TRUSTED_ERRORS, StopIteration)

    def read(text: str, mark: str | None) -> T:
        # digest() inlined (a call less per row); a driver handing bytes gets the checked read
        if mark is not None and type(text) is str:
            hasher = keyed.copy()
            hasher.update(text.encode("utf-8", "surrogatepass"))
            if hasher.hexdigest() == mark:
                try:
                    data, end = scan(text, 0)
                    if end == len(text):
                        return trusted(data)
                except untrusted:
                    pass  # not a document encode() wrote after all: read it checked
        return decode(text, cls)

    return read
