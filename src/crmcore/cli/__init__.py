"""The ``crmcore`` command (install with ``pip install 'crmcore[cli]'``).

``crmcore demo`` builds a small customer database on the embedded default (SQLite)
and prints a summary of it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``crmcore`` command line; returns the process exit code."""
    try:
        from crmcore.cli._app import app
    except ImportError as error:  # click or rich missing: the cli extra is not installed
        print(
            f"crmcore: the command line needs extra packages ({error.name} is missing).\n"
            "Install them with:  pip install 'crmcore[cli]'",
            file=sys.stderr,
        )
        return 2
    try:
        app.main(args=list(argv) if argv is not None else None, prog_name="crmcore")
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
