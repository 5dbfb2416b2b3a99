"""Each backend of ``_broken_backends.py`` fails the kit tests written for its defect.

The kit runs once, through pytest, on every broken backend (its SPI tests and the
store mixins the defects concern; queries are covered by test_broken_backends.py).
A backend must fail every test its entry requires, and may fail no test its entry
does not allow: so the test written for a defect is shown to be the one catching it.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

pytest_plugins = ["pytester"]

BROKEN_SOURCE = Path(__file__).with_name("_broken_backends.py")


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crmcore_broken_backends", BROKEN_SOURCE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


broken = _load()

HARNESS = textwrap.dedent(
    """
    import pytest

    from crmcore_broken_backends import BROKEN
    from crmcore.testing import (
        ConcurrencyTests,
        HistoryTests,
        ImportTests,
        RoundTripTests,
        TransactionTests,
        UnitOfWorkTests,
    )


    class Kit(
        TransactionTests,
        RoundTripTests,
        UnitOfWorkTests,
        ConcurrencyTests,
        HistoryTests,
        ImportTests,
    ):
        # The memory backends never block a second transaction, so these waits end as
        # soon as it is done; long enough that a loaded machine cannot reorder a race.
        commit_race_wait = 30.0
        race_wait = 30.0

        @pytest.fixture
        def backend(self):
            backend = self.case.make()
            yield backend
            backend.close()

        def reopen(self, backend):
            if self.case.reopen is None:
                pytest.skip("not persistent")
            return self.case.reopen(backend)


    for name, case in BROKEN.items():
        globals()[f"Test{name}"] = type(f"Test{name}", (Kit,), {"case": case})
    """
)

_RESULTS: dict[str, dict[str, str]] = {}

# The kit's Hypothesis round trips: slow, and about serialisation, which no defect here touches.
_NOT_PROPERTY_TESTS = (
    "not (test_customer_round_trip or test_customer_update_round_trip"
    " or test_other_records_round_trip or test_history_rebuilds_every_version)"
)


def _results(pytester: pytest.Pytester) -> dict[str, dict[str, str]]:
    """Outcome of every kit test, by broken backend name and test name (run once)."""
    if not _RESULTS:
        pytester.makepyfile(test_kit_on_broken_backends=HARNESS)
        recorder = pytester.inline_run(
            "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-k", _NOT_PROPERTY_TESTS
        )
        for report in recorder.getreports("pytest_runtest_logreport"):
            if report.when != "call" and not (report.failed or report.skipped):
                continue
            match = re.search(r"::Test(\w+)::(test_\S+)$", report.nodeid)
            assert match, report.nodeid
            tests = _RESULTS.setdefault(match[1], {})
            if report.when == "call" or report.outcome != "passed":
                tests[match[2]] = report.outcome
    return _RESULTS


def _base(test: str) -> str:
    return test.partition("[")[0]


@pytest.mark.parametrize("name", sorted(broken.BROKEN))
def test_the_kit_catches_the_defect(pytester: pytest.Pytester, name: str) -> None:
    """The broken backend fails exactly the kit tests its defect breaks, and passes the rest."""
    case = broken.BROKEN[name]
    outcomes = _results(pytester)[name]
    failed = {test for test, outcome in outcomes.items() if outcome == "failed"}
    passed = {test for test, outcome in outcomes.items() if outcome == "passed"}
    assert len(passed) > 2 * len(failed), "the broken backend should pass most of the kit"
    for required in case.required:
        caught = {t for t in failed if t == required or _base(t) == required}
        assert caught, f"{name}: the kit did not catch it with {required}"
    allowed = {*case.required, *case.allowed}
    unexpected = {t for t in failed if t not in allowed and _base(t) not in allowed}
    assert not unexpected, f"{name} also fails {sorted(unexpected)}"
