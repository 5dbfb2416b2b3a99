"""The conformance kit run against the in-memory reference backend."""

from __future__ import annotations

import pytest

from crmcore.storage import MemoryBackend
from crmcore.testing import StoreConformance


class TestMemoryBackend(StoreConformance):
    """The memory backend passes the whole kit."""

    @pytest.fixture
    def backend(self) -> MemoryBackend:
        return MemoryBackend()
