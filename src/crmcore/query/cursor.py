"""Keyset page cursors: the sort values and id of a page's last record, as opaque text.

:func:`encode_cursor` writes the query's ordering and the record's sort values (in
JSON form, see :func:`~crmcore.query.operands.json_of_sort_value`) and id as
URL-safe base64 JSON; :func:`decode_cursor` checks that a query's cursor belongs to
its ordering and returns the values in comparable form. Make cursors with
:meth:`crmcore.query.Query.cursor_for`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from crmcore.errors import ValidationError
from crmcore.query._errors import query_problem
from crmcore.query.operands import coerce_value, json_of_sort_value, text_problem
from crmcore.query.paths import resolve_path

if TYPE_CHECKING:
    from crmcore.query.spec import Query

__all__ = ["decode_cursor", "encode_cursor"]


def encode_cursor(query: Query, sort_values: Sequence[Any], record_id: str) -> str:
    """The opaque cursor after a record with comparable ``sort_values`` and ``record_id``."""
    keys = [json_of_sort_value(v) for v in sort_values]
    payload = {
        "o": [[o.path, o.descending] for o in query.order_by],
        "k": [*keys, record_id],
    }
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(query: Query, model: type) -> tuple[Any, ...] | None:
    """The sort values and id encoded in ``query.after`` (``None`` if there is no cursor).

    Values come back in comparable form (see :func:`coerce_value`), ``None`` kept;
    the id is last. Raises ``query.cursor_invalid`` for a cursor of another ordering,
    ``text.invalid_character`` for a key holding NUL or an unpaired surrogate.
    """
    if query.after is None:
        return None

    def bad(message: str) -> ValidationError:
        return query_problem("query.cursor_invalid", "$.after", message)

    try:
        text = query.after + "=" * (-len(query.after) % 4)
        payload = json.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad("not a cursor made by Query.cursor_for") from None
    if not isinstance(payload, dict) or set(payload) != {"o", "k"}:
        raise bad("not a cursor made by Query.cursor_for")
    expected = [[o.path, o.descending] for o in query.order_by]
    if payload["o"] != expected:
        raise bad("the cursor belongs to a query with another ordering")
    keys = payload["k"]
    if not isinstance(keys, list) or len(keys) != len(query.order_by) + 1:
        raise bad("not a cursor made by Query.cursor_for")
    for key in keys:
        if isinstance(key, str):
            error = text_problem(key, "$.after")
            if error is not None:
                raise error
    values: list[Any] = []
    for order, key in zip(query.order_by, keys[:-1], strict=True):
        leaf = resolve_path(model, order.path).leaf
        values.append(None if key is None else coerce_value(leaf, key, where="$.after"))
    if not isinstance(keys[-1], str):
        raise bad("not a cursor made by Query.cursor_for")
    values.append(keys[-1])
    return tuple(values)
