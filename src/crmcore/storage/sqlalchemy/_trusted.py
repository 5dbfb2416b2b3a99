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

The trusted read parses the document with msgspec's JSON decoder when the ``fast``
extra is installed (``pip install 'crmcore[fast]'``; about twice as fast as the json
module on these documents), else with the json module's C scanner (:func:`parser`).
Both give the same data, of the same types, for any text
:func:`~crmcore.storage.sqlalchemy._codec.encode` writes (integers of any size stay
integers: orjson, as fast, reads one past 64 bits as a float, so it is not used);
where msgspec refuses what the json module reads (``NaN``, lone surrogates), it
raises, and the row is read checked.

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
from crmcore.storage.sqlalchemy._structs import struct_steps

__all__ = [
    "DIGEST_KEY",
    "DIGEST_LENGTH",
    "PARSE_ERRORS",
    "digest",
    "doc_digest",
    "parser",
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


_READERS: dict[type, Callable[[str | bytes, str | None], object]] = {}
on_switch(_READERS.clear)


def stored_reader(cls: type[T]) -> Callable[[str | bytes, str | None], T]:
    """Return the function reading one row's ``(doc, doc_digest)`` back into ``cls``.

    A matching digest: the trusted reader builds the record, no model check runs.
    The document is parsed by :func:`parser` (msgspec) when the ``fast`` extra is there.
    NULL or a different digest: :func:`~crmcore.storage.sqlalchemy._codec.decode`
    reads it, checking every value, and raises ``ValidationError`` for an invalid
    document. With the fast paths off, every row is read checked. ``doc`` is the
    document's text or its UTF-8 bytes (as SQLite's scan selects it): the digest is of
    those bytes either way, and msgspec parses bytes as it parses their text.
    """
    known = _READERS.get(cls)
    if known is None:
        known = _READERS[cls] = _make_reader(cls, parser())
    return known  # type: ignore[return-value]


def parser() -> Callable[[str | bytes], Any] | None:
    """The fast JSON parser of trusted reads: msgspec's decoder, or None without the extra.

    None: the trusted read parses with the json module's C scanner. On text it does not
    read as the json module does, msgspec raises (:data:`PARSE_ERRORS`).
    """
    try:
        import msgspec
    except ImportError:  # the `fast` extra is not installed
        return None
    decode: Callable[[str | bytes], Any] = msgspec.json.Decoder().decode
    return decode


def _parse_errors() -> tuple[type[Exception], ...]:
    try:
        import msgspec
    except ImportError:  # pragma: no cover - the `fast` extra is not installed
        return ()
    return (msgspec.DecodeError,)


PARSE_ERRORS: tuple[type[Exception], ...] = (*_parse_errors(), RecursionError, ValueError)
"""What :func:`parser` raises on text it does not read (the row is then read checked):
``msgspec.DecodeError``; ``UnicodeEncodeError`` (a ``ValueError``) for a lone surrogate;
``RecursionError`` for nesting too deep."""


def _make_reader(
    cls: type[T], parse: Callable[[str | bytes], Any] | None, *, typed: bool = True
) -> Callable[[str | bytes, str | None], T]:
    """The row reader of ``cls``; ``parse``: the JSON parser (None: the json module's scanner).

    With msgspec (``parse`` not None) and ``typed``, a class with a mirror Struct
    (:func:`~crmcore.storage.sqlalchemy._structs.struct_reader`) is parsed into it; else
    the parsed dict goes to the dict trusted reader.
    """
    if not fast_paths_enabled():

        def checked(text: str | bytes, mark: str | None) -> T:
            return decode(text, cls)

        return checked

    trusted = trusted_reader(cls)
    keyed = _KEYED
    untrusted: tuple[type[Exception], ...] = (
        *TRUSTED_ERRORS,
        StopIteration,
        RecursionError,
        UnicodeDecodeError,  # bytes that are not UTF-8
    )

    if parse is not None:
        refused: tuple[type[Exception], ...] = (*TRUSTED_ERRORS, *PARSE_ERRORS)
        steps = struct_steps(cls) if typed else None
        # into the mirror Struct and copied, or into dicts and read by the trusted reader
        to_data, build = steps if steps is not None else (parse, trusted)

        def read_fast(text: str | bytes, mark: str | None) -> T:
            # digest() inlined (a call less per row); msgspec parses UTF-8 bytes as their text
            if mark is not None:
                hasher = keyed.copy()
                if isinstance(text, bytes):
                    hasher.update(text)
                else:
                    hasher.update(text.encode("utf-8", "surrogatepass"))
                if hasher.hexdigest() == mark:
                    try:
                        return build(to_data(text))
                    except refused:
                        pass  # not a document encode() wrote after all: read it checked
            return decode(text, cls)

        return read_fast

    scan = _SCAN

    def read(text: str | bytes, mark: str | None) -> T:
        # digest() inlined (a call less per row); the scanner reads text, so bytes are decoded
        if mark is not None:
            hasher = keyed.copy()
            if isinstance(text, bytes):
                hasher.update(text)
            else:
                hasher.update(text.encode("utf-8", "surrogatepass"))
            if hasher.hexdigest() == mark:
                try:
                    body = (
                        text.decode("utf-8", "surrogatepass") if isinstance(text, bytes) else text
                    )
                    data, end = scan(body, 0)
                    if end == len(body):
                        return trusted(data)
                except untrusted:
                    pass  # not a document encode() wrote after all: read it checked
        return decode(text, cls)

    return read
