"""The dedupe rules share one threshold check and one union-find, without import cycles."""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest

from crmcore.errors import ValidationError
from crmcore.rules.dedupe import _checks, explain, fit
from crmcore.rules.dedupe._components import Components


def test_cluster_re_exports_the_one_threshold_check() -> None:
    """``cluster.check_threshold`` is the one in ``_checks`` (public through cluster)."""
    cluster = importlib.import_module("crmcore.rules.dedupe.cluster")
    assert cluster.check_threshold is _checks.check_threshold
    assert "check_threshold" in cluster.__all__


def test_explain_imports_nothing_inside_its_functions() -> None:
    """``ExplainedPairs.reaching``/``linked`` need no import in the function (no cycle)."""
    tree = ast.parse(inspect.getsource(explain))
    nested = [
        node.lineno
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert nested == []


@pytest.mark.parametrize("threshold", [-0.1, 1.5, True, "0.9", None])
def test_the_check_refuses_what_is_not_a_probability(threshold: object) -> None:
    """Out of range, a bool, a string or None: ``dedupe.threshold_invalid``."""
    with pytest.raises(ValidationError) as raised:
        _checks.check_threshold(threshold, "reaching")
    assert [p.code for p in raised.value.problems] == ["dedupe.threshold_invalid"]


def test_components_join_chains_and_leave_strangers_apart() -> None:
    """A chain 王芳-１ – 李雷 – ｃ０４ is one group; an id never joined is in none."""
    parts = Components()
    parts.join("王芳-１", "李雷")
    parts.join("ｃ０４", "李雷")
    parts.join("x", "y")
    assert parts.together("王芳-１", "ｃ０４")
    assert not parts.together("王芳-１", "x")
    assert not parts.together("王芳-１", "never")
    assert sorted(sorted(g) for g in parts.groups()) == [["x", "y"], ["李雷", "王芳-１", "ｃ０４"]]


@pytest.mark.parametrize("max_iterations", [0, -1, True, 2.0, "10"])
def test_fit_refuses_a_max_iterations_below_one(max_iterations: object) -> None:
    """``fit(max_iterations=0)`` (or -1, a bool, a float, a string) is coded, at its path."""
    with pytest.raises(ValidationError) as raised:
        fit([(7, 3, 2, 3, -1, 5, 1)] * 3, max_iterations=max_iterations)  # type: ignore[arg-type]
    [problem] = raised.value.problems
    assert (problem.code, problem.path) == ("dedupe.max_iterations_invalid", "$.max_iterations")


def test_fit_takes_one_iteration() -> None:
    """``max_iterations=1`` is the least accepted: it fits (and says it did not settle)."""
    model = fit([(7, 3, 2, 3, -1, 5, 1)] * 3 + [(0, 0, 0, 0, -1, 1, 0)] * 30, max_iterations=1)
    assert model.diagnostics is not None
