"""Remember a function's result for the last object it was given.

Row writing formats the same datetime object many times in a row: a record's
``created_at`` and ``updated_at`` are often one object, and an import stamps a
whole batch with one "now". A one-entry cache keyed by identity formats it once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from crmcore._fastpaths import fast_paths_enabled

__all__ = ["remember_last"]

A = TypeVar("A")
R = TypeVar("R")


def remember_last(fn: Callable[[A], R]) -> Callable[[A], R]:
    """Wrap ``fn`` (a pure function) to return its last result again for the same object.

    The entry is replaced as a whole and read once per call, so threads sharing the
    wrapper each get the result for the object they pass. It starts from a sentinel no
    caller can pass, and holds a reference to its object, so a new object can never
    reuse the remembered one's identity.

    This is a fast path: with ``CRMCORE_NO_FAST_PATHS=1`` set before crmcore is
    imported, ``fn`` itself is returned (the choice is made when a function is
    wrapped, at import, so :func:`crmcore._fastpaths.set_fast_paths` does not
    re-wrap functions wrapped before it).
    """
    if not fast_paths_enabled():
        return fn
    last: list[tuple[object, R]] = [(object(), cast(R, None))]

    def remembered(value: A) -> R:
        key, result = last[0]
        if value is key:
            return result
        result = fn(value)
        last[0] = (value, result)
        return result

    remembered.__doc__ = fn.__doc__
    remembered.__name__ = getattr(fn, "__name__", "remembered")
    return remembered
