"""Every segmentation spec, by its ``kind`` tag.

A spec is frozen data: its ``kind`` field names it, so it travels as JSON and
another service can load it and run the same rule on its own summaries::

    from crmcore.serialization import from_json, to_json
    text = to_json(RfmSpec(scores=4, segments=()))
    spec = from_json(text, SegmentationSpec)   # dispatches on "kind"
"""

from __future__ import annotations

from collections.abc import Mapping

from crmcore.rules.segmentation.classes import ProfitabilitySpec, ValueClassSpec
from crmcore.rules.segmentation.lifecycle import LifecycleSpec
from crmcore.rules.segmentation.lifetime_value import HistoricValueSpec
from crmcore.rules.segmentation.predictive import PredictiveValueSpec
from crmcore.rules.segmentation.pyramid import ParetoSpec, PyramidSpec
from crmcore.rules.segmentation.relationship import RelationshipSpec
from crmcore.rules.segmentation.rfm import RfmSpec
from crmcore.rules.segmentation.satisfaction import SatisfactionSpec
from crmcore.rules.verification import Spec

__all__ = ["SEGMENTATION_SPEC_TYPES", "SegmentationSpec", "segmentation_spec_type"]

SegmentationSpec = (
    RfmSpec
    | PyramidSpec
    | ParetoSpec
    | ProfitabilitySpec
    | ValueClassSpec
    | LifecycleSpec
    | RelationshipSpec
    | HistoricValueSpec
    | PredictiveValueSpec
    | SatisfactionSpec
)
"""Any segmentation spec; structure JSON into it and the ``kind`` tag picks the class."""

SEGMENTATION_SPEC_TYPES: Mapping[str, type[Spec]] = {
    cls.TAG: cls
    for cls in (
        RfmSpec,
        PyramidSpec,
        ParetoSpec,
        ProfitabilitySpec,
        ValueClassSpec,
        LifecycleSpec,
        RelationshipSpec,
        HistoricValueSpec,
        PredictiveValueSpec,
        SatisfactionSpec,
    )
}
"""Each segmentation spec class by its ``kind`` tag."""


def segmentation_spec_type(kind: str) -> type[Spec]:
    """Return the spec class for a ``kind`` tag; raise ``KeyError`` when unknown."""
    return SEGMENTATION_SPEC_TYPES[kind]
