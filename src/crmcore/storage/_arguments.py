"""Checks of the arguments the storage API takes, written once for every caller.

The store, its repositories, the import and the backends all take a ``batch_size``;
they refuse a bad one the same way, with the same message.
"""

from __future__ import annotations

__all__ = ["check_batch_size"]


def check_batch_size(batch_size: object) -> int:
    """Return ``batch_size`` if it is a positive ``int``; otherwise raise :class:`ValueError`.

    ``True`` is refused although it is an ``int``: a flag passed where a size belongs is a
    mistake, not a batch of one. A float, even ``2.0``, is refused too.

    >>> check_batch_size(500)
    500
    >>> check_batch_size(0)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be a positive integer, not 0
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    return batch_size
