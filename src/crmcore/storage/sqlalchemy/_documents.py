"""A customer's stored document, encoded ahead of its version and timestamps.

An import stamps each new customer when its batch is written (version 1, ``created_at``
and ``updated_at`` the batch's time), in the importing process; everything else of the
document is known as soon as the customer is normalised. With import workers
(``import_customers(workers=)``), each worker encodes the document of each customer it
normalised and splits it around those three fields (:func:`document_parts`); the
importing process then writes the stamped document by joining the parts with the
stamped values (:func:`join_document`), instead of encoding the whole customer again.

A fast path: the reference is :func:`~crmcore.storage.sqlalchemy._codec.encode` of
the stamped customer, which the importing process uses whenever a worker sent no
parts (fast paths off, or a document the split does not recognise). A property test
proves the two equal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import attrs

from crmcore._fastpaths import fast_paths_enabled
from crmcore.models import Customer
from crmcore.storage.sqlalchemy import _codec

__all__ = ["DocumentParts", "document_parts", "join_document"]

DocumentParts = tuple[str, str]
"""A customer's document before its version (or its ``created_at``, version 0 being
left out) and after its ``updated_at`` value."""

_VERSION = ',"version":'
_CREATED = ',"created_at":"'
_UPDATED = '","updated_at":"'
_VERSIONED = re.compile(r',"version":[0-9]+\Z')
_DEFAULT_VERSION = attrs.fields(Customer).version.default
"""The writer leaves a default out: a customer of this version has no ``"version"``."""

_iso: Callable[[dt.datetime], str] = dt.datetime.isoformat


def join_document(
    parts: DocumentParts, version: int, created: dt.datetime, updated: dt.datetime
) -> str:
    """The document of the customer ``parts`` came from, with these version and timestamps."""
    head, tail = parts
    stamp = "" if version == _DEFAULT_VERSION else f"{_VERSION}{version}"
    return f'{head}{stamp}{_CREATED}{_iso(created)}{_UPDATED}{_iso(updated)}"{tail}'


def document_parts(customer: Customer) -> DocumentParts | None:
    """Split ``encode(customer)`` around its version and timestamps (``None``: not split).

    The three fields follow ``kind``, ``display_name`` and ``id``, which are texts, so
    the first ``,"created_at":"`` is the field's (a quote inside a JSON text is
    escaped) and a ``,"version":<digits>`` just before it is the version. The split is
    checked by joining it again with the customer's own values: a document that does
    not come back exactly is not split. With fast paths off, nothing is.
    """
    if not fast_paths_enabled():
        return None
    doc = _codec.encode(customer)
    created = doc.find(_CREATED)
    updated = doc.find(_UPDATED, created)
    if created < 0 or updated < 0:
        return None
    end = doc.find('"', updated + len(_UPDATED))
    if end < 0:
        return None
    head = doc[:created]
    versioned = _VERSIONED.search(head)
    if versioned is not None:
        head = head[: versioned.start()]
    parts = (head, doc[end + 1 :])
    if join_document(parts, customer.version, customer.created_at, customer.updated_at) != doc:
        return None
    return parts
