"""Argument checks the dedupe rules share (no other dedupe module imported, so no cycle)."""

from __future__ import annotations

from crmcore.errors import Problem, ValidationError

__all__ = ["check_threshold"]


def check_threshold(threshold: object, subject: str) -> None:
    """Refuse a ``threshold`` that is not a match probability from 0 to 1.

    Raises:
        ValidationError: coded ``dedupe.threshold_invalid`` at ``$.threshold``.
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
                    path="$.threshold",
                    message="a match probability from 0 to 1",
                )
            ],
            subject=subject,
        )
