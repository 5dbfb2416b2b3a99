"""Identifier generation for new records: time-ordered ids (UUID version 7).

Every id crmcore mints (customers, their contact points and persons, interactions,
complaints, purchases, decisions, merges, history entries) comes from :func:`new_id`:
a UUID in the version 7 layout of RFC 9562, written as 32 lowercase hex digits::

    48 bits  Unix time in milliseconds
     4 bits  version (7)
    42 bits  a counter: 12 bits (rand_a), then 2 variant bits (10), then 30 bits
    32 bits  random

This is the layout and counter of CPython 3.14's ``uuid.uuid7`` (RFC 9562, section 6.2,
method 1, with a 42-bit counter), which Python 3.11 lacks. At each new millisecond the
counter starts at a random value below 2**41 (its top bit a guard against overflow);
within one millisecond, or when the clock steps back, the timestamp stays at the last
one used and the counter goes up by one, so ids minted by one process are strictly
increasing, in time order and code point order alike. Should the counter overflow, the
timestamp moves on by one millisecond. The last 32 bits are new random bits for every
id, and a new millisecond draws 41 random counter bits too, so processes minting in the
same millisecond do not collide; a forked child starts its own sequence.

Ids of new rows therefore land at the right-hand end of a B-tree (the primary keys of
``crm_customer``, ``crm_history`` and the index tables keyed by customer id), instead of
on a random page each. Nothing in crmcore reads anything from an id but its text: ids
given by callers need not be UUIDs at all.
"""

from __future__ import annotations

import os
import threading
from os import urandom
from time import time_ns

__all__ = ["new_id"]

_VERSION_7 = (0x7 << 76) | (0b10 << 62)
_COUNTER_MAX = (1 << 42) - 1
_lock = threading.Lock()
_last_ms = -1
_last_counter = 0


def _reset() -> None:
    """Forget the last timestamp and counter (in a forked child: its own sequence)."""
    global _last_ms, _last_counter, _lock
    _lock = threading.Lock()
    _last_ms = -1
    _last_counter = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset)


def _fresh_counter() -> tuple[int, int]:
    """A new millisecond's counter (41 random bits, the top one clear) and random tail."""
    seed = int.from_bytes(urandom(10), "big")
    return (seed >> 32) & (_COUNTER_MAX >> 1), seed & 0xFFFF_FFFF


def new_id() -> str:
    """Return a new record id: a time-ordered UUID version 7 as 32 lowercase hex digits.

    Strictly increasing within a process (also across threads); random in its last 32
    bits and, at each new millisecond, in its 42-bit counter. See the module docstring
    for the layout (RFC 9562).
    """
    global _last_ms, _last_counter
    now = time_ns() // 1_000_000
    with _lock:
        if now > _last_ms:
            counter, tail = _fresh_counter()
        elif _last_counter < _COUNTER_MAX:
            # the same millisecond, or the clock stepped back: count on from the last id
            now, counter = _last_ms, _last_counter + 1
            tail = int.from_bytes(urandom(4), "big")
        else:  # the counter is spent: on to the next millisecond
            now = _last_ms + 1
            counter, tail = _fresh_counter()
        _last_ms, _last_counter = now, counter
    value = (
        ((now & 0xFFFF_FFFF_FFFF) << 80)
        | ((counter >> 30) << 64)
        | ((counter & 0x3FFF_FFFF) << 32)
        | tail
        | _VERSION_7
    )
    return f"{value:032x}"
