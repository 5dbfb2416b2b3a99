"""The base of every rule spec: a frozen, checked model with a ``kind`` tag."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from crmcore.errors import Problem
from crmcore.models import Model
from crmcore.rules.verification.messages import SEVERITIES

__all__ = ["Spec", "severity_problems"]


class Spec(Model):
    """Base of the rule specs: frozen attrs data with a ``kind`` tag naming the spec.

    Subclasses declare ``kind: str = "<tag>"`` and set ``TAG`` to the same value;
    construction refuses any other ``kind`` (code ``spec.kind_mismatch``), which is
    what lets a JSON document name the spec it holds.
    """

    __slots__ = ()

    TAG: ClassVar[str] = ""

    def _invariants(self) -> Iterable[Problem]:
        kind = getattr(self, "kind", None)
        if kind != self.TAG:
            yield Problem(
                code="spec.kind_mismatch",
                path="$.kind",
                message=f"must be {self.TAG!r} for {type(self).__name__}, got {kind!r}",
            )
        yield from self._spec_invariants()

    def _spec_invariants(self) -> Iterable[Problem]:
        """Yield problems with the spec's own values; subclasses override."""
        return ()


def severity_problems(spec: object, *names: str) -> Iterable[Problem]:
    """Yield a ``spec.severity_invalid`` problem for each named field not a valid severity."""
    for name in names:
        value = getattr(spec, name)
        if value not in SEVERITIES:
            yield Problem(
                code="spec.severity_invalid",
                path=f"$.{name}",
                message=f"must be one of {', '.join(SEVERITIES)}, got {value!r}",
            )
