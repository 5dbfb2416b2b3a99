"""Checks of the arguments every verification rule takes: the time, its zone, the locale."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

from crmcore.errors import Problem, ValidationError
from crmcore.rules.verification.messages import Locale, check_locale

__all__ = ["local_date", "require_locale", "require_now", "require_time_zone", "time_zone_problem"]


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


def time_zone_problem(name: object) -> Problem | None:
    """The problem with ``name`` as an IANA time zone (``"Asia/Shanghai"``), or ``None``."""
    if name is None or (isinstance(name, str) and _zone(name) is not None):
        return None
    return Problem(
        code="timezone.unknown",  # the one code for a bad zone name, as segmentation's
        path="$.time_zone",
        message=f"{name!r} is not a time zone zoneinfo knows (an IANA name such as Asia/Shanghai)",
    )


def require_time_zone(name: object) -> dt.tzinfo | None:
    """Return the zone called ``name`` (``None`` for none); raise :class:`ValidationError`."""
    problem = time_zone_problem(name)
    if problem is not None:
        raise ValidationError([problem], subject="time_zone")
    return None if name is None else _zone(name)


@lru_cache(maxsize=64)
def _zone(name: str) -> dt.tzinfo | None:
    if not name or name != name.strip():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def local_date(now: dt.datetime, zone: dt.tzinfo | None) -> dt.date:
    """Today at ``now``: the calendar date in ``zone``, or in ``now``'s own offset without one."""
    return now.date() if zone is None else now.astimezone(zone).date()
