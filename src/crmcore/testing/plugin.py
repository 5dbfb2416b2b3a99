"""The kit's pytest plugin, loaded through the ``pytest11`` entry point ``crmcore``.

Installing crmcore is all the setup a backend author needs: pytest loads this plugin
by itself, which registers the ``crmcore_requires`` marker (so ``--strict-markers``
passes). It imports nothing of the kit; disable it with ``-p no:crmcore``. Where
plugin autoloading is off (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), load it by name:
``pytest -p crmcore.testing.plugin``, or ``pytest_plugins = ["crmcore.testing.plugin"]``
in the root ``conftest.py``.
"""

from __future__ import annotations

import pytest

__all__ = ["pytest_configure"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the kit's marker."""
    config.addinivalue_line(
        "markers",
        "crmcore_requires(*capabilities): run only if the backend declares every named "
        "crmcore Capabilities flag (persistent, concurrent_writers); skip otherwise",
    )
