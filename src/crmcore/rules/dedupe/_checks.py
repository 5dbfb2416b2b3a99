"""Argument checks the dedupe rules share (no other dedupe module imported, so no cycle)."""

from __future__ import annotations

from crmcore.errors import Problem, ValidationError

__all__ = ["check_max_iterations", "check_threshold"]


def check_threshold(threshold: object, subject: str, *, path: str = "$.threshold") -> None:
    """Refuse a ``threshold`` that is not a match probability from 0 to 1.

    ``path`` names the argument as the caller spells it (``$.duplicate_threshold`` for
    ``import_customers``).

    Raises:
        ValidationError: coded ``dedupe.threshold_invalid`` at ``path``.
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not (0.0 <= threshold <= 1.0)
    ):
        raise ValidationError(
            [
                Problem(
                    code="dedupe.threshold_invalid",
                    path=path,
                    message="a match probability from 0 to 1",
                )
            ],
            subject=subject,
        )


def check_max_iterations(max_iterations: object, subject: str) -> None:
    """Refuse a ``max_iterations`` that is not a whole number of at least 1.

    Raises:
        ValidationError: coded ``dedupe.max_iterations_invalid`` at ``$.max_iterations``.
    """
    if (
        isinstance(max_iterations, bool)
        or not isinstance(max_iterations, int)
        or max_iterations < 1
    ):
        raise ValidationError(
            [
                Problem(
                    code="dedupe.max_iterations_invalid",
                    path="$.max_iterations",
                    message=f"a whole number of EM iterations, at least 1, not {max_iterations!r}",
                )
            ],
            subject=subject,
        )
