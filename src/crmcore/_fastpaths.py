"""The one switch that routes every fast path to its reference implementation.

crmcore keeps a few fast paths beside the code they speed up (generated replacers,
the stored-document writer and reader, the field type predicates, ASCII text
checks). Each has a reference implementation that is the definition of what it
must do. Setting the environment variable ``CRMCORE_NO_FAST_PATHS=1`` before
crmcore is imported makes every one of them use its reference instead; CI runs the
whole test suite once that way.

Code that keeps a fast path asks :func:`fast_paths_enabled` when it builds (and
caches) what it will use, and registers that cache with :func:`on_switch` so that
:func:`set_fast_paths` (for tests) takes effect at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["ENV_VAR", "fast_paths_enabled", "on_switch", "set_fast_paths"]

ENV_VAR = "CRMCORE_NO_FAST_PATHS"
"""The environment variable that, set to anything but ``""`` or ``"0"``, disables fast paths."""

_enabled = os.environ.get(ENV_VAR, "") in ("", "0")
_clearers: list[Callable[[], None]] = []


def fast_paths_enabled() -> bool:
    """True unless the fast paths were switched off (by the environment or for a test)."""
    return _enabled


def on_switch(clear: Callable[[], None]) -> Callable[[], None]:
    """Register ``clear`` (e.g. a cache's ``clear``) to run whenever the switch changes."""
    _clearers.append(clear)
    return clear


def set_fast_paths(enabled: bool) -> bool:
    """Switch every fast path on or off for this process; returns the previous setting."""
    global _enabled
    previous = _enabled
    _enabled = enabled
    if previous != enabled:
        for clear in _clearers:
            clear()
    return previous
