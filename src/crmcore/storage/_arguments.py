"""Checks of the arguments the storage API takes, written once for every caller.

The store, its repositories, the import and the backends all take a ``batch_size``;
they refuse a bad one the same way, with the same message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from crmcore.errors import InvalidArgument, WrongType

__all__ = [
    "check_batch_size",
    "check_choice",
    "check_index_paths",
    "check_records",
    "check_workers",
]


def check_batch_size(batch_size: object) -> int:
    """Return ``batch_size`` if it is a positive ``int``; otherwise raise :class:`InvalidArgument`.

    :class:`~crmcore.errors.InvalidArgument` (code ``argument.invalid``) is a
    :class:`ValueError` too.

    ``True`` is refused although it is an ``int``: a flag passed where a size belongs is a
    mistake, not a batch of one. A float, even ``2.0``, is refused too.

    >>> check_batch_size(500)
    500
    >>> check_batch_size(0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InvalidArgument: batch_size must be a positive integer, not 0
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidArgument(f"batch_size must be a positive integer, not {batch_size!r}")
    return batch_size


def check_choice(name: str, value: object, allowed: Iterable[str], *, hint: str = "") -> None:
    """Refuse ``value`` for the argument ``name`` unless it is one of ``allowed``.

    ``hint`` is added to the message (what to do instead).

    >>> check_choice("mode", "upsert", ("merge", "replace"))
    Traceback (most recent call last):
    ...
    crmcore.errors.InvalidArgument: mode must be one of "merge", "replace", not 'upsert'
    """
    options = tuple(allowed)
    if value not in options:
        listed = ", ".join(f'"{option}"' for option in options)
        raise InvalidArgument(f"{name} must be one of {listed}, not {value!r}{hint}")


def check_records(records: Any, *, what: str) -> None:
    """Refuse one record, a mapping or a string passed where an iterable of records belongs.

    Iterating a dict would import its keys, and a string its characters, one refused
    outcome each; :class:`~crmcore.errors.WrongType` says what was meant instead.
    """
    if isinstance(records, str | bytes | Mapping) or not isinstance(records, Iterable):
        raise WrongType(
            f"{what} takes an iterable of records (a list, a generator), not a "
            f"{type(records).__name__}; wrap a single record in a list"
        )


def check_workers(workers: object) -> int | None:
    """Return ``workers`` if it is ``None`` or a positive ``int``; otherwise refuse it.

    Not an ``int`` (a ``float``, a string, ``True``): :class:`WrongType`; zero or less:
    :class:`InvalidArgument`.

    >>> check_workers(2)
    2
    >>> check_workers(0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InvalidArgument: workers must be a positive integer or None, not 0
    """
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise WrongType(
            f"workers must be a positive integer or None, not a {type(workers).__name__}"
        )
    if workers < 1:
        raise InvalidArgument(f"workers must be a positive integer or None, not {workers!r}")
    return workers


def check_index_paths(indexes: object) -> tuple[str, ...]:
    """The customer paths of a backend's ``indexes`` option, refusing a bare string.

    ``indexes="@dedupe"`` would otherwise be read letter by letter.

    >>> check_index_paths(["@dedupe", "grade"])
    ('@dedupe', 'grade')
    >>> check_index_paths("@dedupe")
    Traceback (most recent call last):
    ...
    crmcore.errors.InvalidArgument: indexes must be a list of paths, not a string: ...
    """
    if isinstance(indexes, str):
        raise InvalidArgument(
            f"indexes must be a list of paths, not a string: indexes=[{indexes!r}]"
        )
    if not isinstance(indexes, Iterable):
        raise WrongType(f"indexes must be a list of paths, not {type(indexes).__name__}")
    paths = tuple(indexes)
    for path in paths:
        if not isinstance(path, str):
            raise WrongType(f"indexes must hold path strings, not {type(path).__name__}")
    return paths
