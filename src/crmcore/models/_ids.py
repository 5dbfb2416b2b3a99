"""Identifier generation for new records."""

from __future__ import annotations

import uuid

__all__ = ["new_id"]


def new_id() -> str:
    """Return a new random record id (a UUID4 in its 32-character hex form)."""
    return uuid.uuid4().hex
