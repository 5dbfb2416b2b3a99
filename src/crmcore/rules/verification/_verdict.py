"""The pipeline's verdict on a contact point's value, kept apart from the user's flag.

``ContactPoint.invalid`` is set by the user (bounced, disconnected) or by the
pipeline when the value as entered cannot be normalised; ``invalid_by_pipeline``
says which. The verdict is recomputed on every normalisation, so a corrected
value loses it, while a flag the user set is never touched.
"""

from __future__ import annotations

from crmcore.models import ContactPoint

__all__ = ["verdict_changes"]

_FLAGGED = {"invalid": True, "invalid_by_pipeline": True}
_CLEARED = {"invalid": False, "invalid_by_pipeline": False}
_NONE: dict[str, bool] = {}


def verdict_changes(point: ContactPoint, *, normalised: bool) -> dict[str, bool]:
    """The flag changes that record the pipeline's verdict on ``point``'s value.

    ``normalised``: the value passed (it is, or became, its normal form). A value
    that fails is flagged unless the user flagged it already (their flag owns it);
    a value that passes withdraws a verdict the pipeline gave earlier.
    """
    if normalised:
        return _CLEARED if point.invalid_by_pipeline else _NONE
    return _NONE if point.invalid else _FLAGGED
