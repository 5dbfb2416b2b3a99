"""Checks of the arguments every verification rule takes: the time, and the locale."""

from __future__ import annotations

import datetime as dt

from crmcore.errors import Problem, ValidationError
from crmcore.rules.verification.messages import Locale, check_locale

__all__ = ["require_locale", "require_now"]


def require_now(now: object) -> dt.datetime:
    """Return ``now`` if it is an aware datetime; otherwise raise a :class:`ValidationError`.

    Rules compare ``now`` with stored instants, which are all aware: a naive ``now``
    would fail deep inside with a bare ``TypeError``, so it is refused at the door.
    """
    if not isinstance(now, dt.datetime):
        problem = Problem(
            code="type.invalid",
            path="$.now",
            message=f"expected an aware datetime, got {type(now).__name__}",
        )
        raise ValidationError([problem], subject="now")
    if now.tzinfo is None or now.utcoffset() is None:
        problem = Problem(
            code="datetime.naive",
            path="$.now",
            message="must be timezone-aware (attach tzinfo, e.g. datetime.UTC)",
        )
        raise ValidationError([problem], subject="now")
    return now


def require_locale(locale: object) -> Locale:
    """Return ``locale`` if crmcore has messages in it, else raise :class:`ValidationError`."""
    return check_locale(locale)  # type: ignore[arg-type]
