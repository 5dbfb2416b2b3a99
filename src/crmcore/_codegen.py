"""The one place crmcore generates code at run time.

Generated functions (model replacers, the stored-document writer and reader) are
compiled here with a unique file name, and their source is registered in
:mod:`linecache` (as attrs' ``_linecache_and_compile`` and cattrs' ``gen/_lc.py``
do), so tracebacks, ``inspect.getsource`` and pdb show the generated lines.
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable
from typing import Any

__all__ = ["generate"]

_counter = itertools.count(1)


def generate(source: str, name: str, env: dict[str, Any], *, what: str) -> Callable[..., Any]:
    """Compile ``source`` in namespace ``env`` and return the function ``name`` it defines.

    ``what`` says what the code is (e.g. ``"replace for Customer"``); it names the
    generated file ``<crmcore generated N: what>`` in tracebacks.
    """
    if not source.endswith("\n"):
        source += "\n"
    filename = f"<crmcore generated {next(_counter)}: {what}>"
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(code, env)
    func: Callable[..., Any] = env[name]
    return func
