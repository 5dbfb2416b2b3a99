"""The kit's own machinery: its pytest plugin, assertion rewriting, Hypothesis profile, extras."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from crmcore.storage import Capabilities
from crmcore.testing import KIT_PROFILE, KIT_SETTINGS, TickingClock, requires

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]


def test_marker_gates_on_capabilities_under_strict_markers(pytester: pytest.Pytester) -> None:
    """With no setup but installing crmcore, --strict-markers passes and gated tests skip."""
    pytester.makepyfile(
        test_kit=textwrap.dedent(
            """
            import pytest

            from crmcore.storage import MemoryBackend
            from crmcore.testing import HistoryLogTests


            class TestMemory(HistoryLogTests):
                @pytest.fixture
                def backend(self):
                    return MemoryBackend()

                @pytest.mark.crmcore_requires("concurrent_writers")
                def test_own_gated_test(self, backend):
                    assert backend.capabilities.concurrent_writers
            """
        )
    )
    result = pytester.runpytest_inprocess("--strict-markers", "-rs", "-p", "no:randomly")
    result.assert_outcomes(passed=4, skipped=1)
    result.stdout.fnmatch_lines(["*backend does not declare capability 'persistent'*"])


def test_a_failing_kit_assertion_shows_the_values(pytester: pytest.Pytester) -> None:
    """The kit's modules are assertion-rewritten: a failure shows what was compared."""
    pytester.makepyfile(
        test_kit=textwrap.dedent(
            """
            import pytest

            from crmcore.storage import MemoryBackend, MemoryTransaction
            from crmcore.testing import TransactionReadTests


            class Counting(MemoryTransaction):
                def count(self, kind, query):
                    return super().count(kind, query) + 40


            class TestBroken(TransactionReadTests):
                @pytest.fixture
                def backend(self):
                    backend = MemoryBackend()
                    backend.begin = lambda: Counting(backend)
                    return backend
            """
        )
    )
    result = pytester.runpytest_inprocess(
        "-p", "no:randomly", "-k", "test_reads_see_own_removes and customer"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*'count': 43*"])


def test_importing_the_kit_without_pytest_says_what_to_install() -> None:
    """Without pytest, importing crmcore.testing raises ImportError naming crmcore[kit]."""
    code = "import sys; sys.modules['pytest'] = None; import crmcore.testing"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "pip install 'crmcore[kit]'" in result.stderr


def test_the_plugin_loads_without_hypothesis_and_the_kit_then_says_what_to_install() -> None:
    """Without Hypothesis the plugin still loads; using the kit raises the install hint."""
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import crmcore.testing.plugin\n"
        "try:\n"
        "    from crmcore.testing import StoreConformance\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "hypothesis is missing): pip install 'crmcore[kit]'" in result.stdout


def test_the_hypothesis_profile_fails_fast() -> None:
    """The kit's profile is registered by name, has no deadline and never shrinks."""
    profile = settings.get_profile(KIT_PROFILE)
    assert KIT_SETTINGS is profile
    assert Phase.shrink not in profile.phases
    assert profile.deadline is None
    assert profile.database is None


def test_the_kit_extra_installs_the_kit_without_tooling() -> None:
    """The kit extra has pytest and Hypothesis, no linters or drivers; test includes it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    names = {d.split(">")[0].split(";")[0].split("=")[0].strip() for d in extras["kit"]}
    assert {"pytest", "hypothesis"} <= names
    assert not names & {"mypy", "ruff", "psycopg[binary]", "PyMySQL"}
    assert any("kit" in d for d in extras["test"] if d.startswith("crmcore["))
    assert project["entry-points"]["pytest11"] == {"crmcore": "crmcore.testing.plugin"}


def test_capabilities_have_no_defaults() -> None:
    """A backend must declare every capability: Capabilities() alone is refused."""
    with pytest.raises(TypeError):
        Capabilities()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Capabilities(persistent=True)  # type: ignore[call-arg]
    assert Capabilities(persistent=False, concurrent_writers=True).concurrent_writers


def test_requires_refuses_an_unknown_capability() -> None:
    """requires() with a misspelt capability fails when the test is defined."""
    with pytest.raises(ValueError, match="persistant"):
        requires("persistant")


def test_the_kit_clock_crosses_a_daylight_saving_change() -> None:
    """The default kit clock reports Berlin time: +02:00, then +01:00 from the fourth tick."""
    clock = TickingClock()
    ticks = [clock() for _ in range(5)]
    assert [t.isoformat() for t in ticks[2:4]] == [
        "2026-10-25T02:59:59+02:00",
        "2026-10-25T02:00:00+01:00",
    ]
    assert ticks == sorted(ticks)
    assert sorted(ticks, key=lambda t: t.replace(tzinfo=None)) != ticks
