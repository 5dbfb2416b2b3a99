"""Segments as data: a saved selection of one segment's members, re-evaluated as of a date.

A :class:`SegmentSelection` names a segmentation spec (RFM or the value pyramid) and
one of its outcomes: an RFM segment name (``"Champions"``) or, for a spec without a
segment map, a score code (``"545"``); a pyramid tier (``"VIP"``). It is frozen data
with a ``kind`` tag, so an app can store it as JSON and evaluate it again on any date:
the "dynamic list" stays current because nothing about its members is stored.

>>> from crmcore.rules.segmentation import RfmSpec
>>> champions = SegmentSelection(rule=RfmSpec(currency="CNY"), segment="Champions")
>>> champions.kind
'segment_selection'

:func:`select_members` evaluates it over summaries (pure);
:mod:`crmcore.storage.segments` evaluates it over a store (``members``,
``count_members``), with the aggregation inside the database where the backend can.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import product

import attrs

from crmcore.errors import Problem
from crmcore.models._base import checks, non_blank
from crmcore.rules._items import item_types
from crmcore.rules.segmentation.pyramid import PyramidResult, PyramidSpec, value_pyramid
from crmcore.rules.segmentation.rfm import RfmResult, RfmSpec, rfm
from crmcore.rules.segmentation.summaries import CurrencySummary
from crmcore.rules.verification import Spec

__all__ = ["SegmentSelection", "members_of_result", "select_members"]


@attrs.frozen(kw_only=True)
class SegmentSelection(Spec):
    """One segment of a segmentation, as data.

    Attributes:
        rule: The segmentation: an RFM spec or a value-pyramid spec.
        segment: The outcome selected: an RFM segment name, or an RFM score code such
            as ``"545"`` (recency, frequency, monetary); a pyramid tier name.
    """

    TAG = "segment_selection"
    kind: str = "segment_selection"
    rule: RfmSpec | PyramidSpec
    segment: str = attrs.field(metadata=checks(non_blank))

    def _spec_invariants(self) -> Iterable[Problem]:
        names = _names(self.rule)
        if self.segment in names or (
            isinstance(self.rule, RfmSpec) and self.segment in _score_codes(self.rule.scores)
        ):
            return
        listed = ", ".join(repr(n) for n in names) or "no names, only score codes such as '111'"
        yield Problem(
            code="segmentation.segment_unknown",
            path="$.segment",
            message=f"{self.segment!r} is not an outcome of this {self.rule.kind} spec: "
            f"it has {listed}",
        )


def _names(rule: RfmSpec | PyramidSpec) -> tuple[str, ...]:
    """The names a selection of ``rule`` can pick, in the spec's order."""
    if isinstance(rule, PyramidSpec):
        return tuple(tier.name for tier in rule.tiers)
    return tuple(s.name for s in rule.segments)


def _score_codes(scores: int) -> frozenset[str]:
    """Every RFM score code of ``scores`` scores: ``"111"`` to ``"555"`` for five."""
    span = range(1, scores + 1)
    return frozenset(f"{r}{f}{m}" for r, f, m in product(span, span, span))


def members_of_result(
    selection: SegmentSelection, result: RfmResult | PyramidResult
) -> tuple[str, ...]:
    """The ids in an RFM or pyramid ``result`` that the selection picks, in id order."""
    wanted = selection.segment
    if isinstance(result, RfmResult):
        ids = [s.customer_id for s in result.scores if s.segment == wanted or s.code == wanted]
    else:
        ids = [a.customer_id for a in result.assignments if a.tier == wanted]
    return tuple(sorted(ids))


@item_types(summaries=CurrencySummary)
def select_members(
    selection: SegmentSelection, summaries: Iterable[CurrencySummary]
) -> tuple[str, ...]:
    """The customer ids in the selected segment, in id order (the pure evaluation)."""
    rows = list(summaries)
    if isinstance(selection.rule, RfmSpec):
        return members_of_result(selection, rfm(selection.rule, rows))
    return members_of_result(selection, value_pyramid(selection.rule, rows))
