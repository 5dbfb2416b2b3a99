"""Grade and segment customers by value and relationship: pure rules over models.

Every segmentation is a frozen spec with a ``kind`` tag (JSON round trip through
:mod:`crmcore.serialization`, see :mod:`crmcore.rules.segmentation.specs`) whose
evaluation takes plain summaries (:class:`CurrencySummary`, :class:`RepeatSummary`),
so any engine that produces the same summaries gets the same assignments. Every
assignment carries an :class:`Explanation`: the values, scores and cut points that
decided it. Time is always an argument (``as_of=``); nothing reads the clock.

Modules: :mod:`~.summaries`, :mod:`~.rfm`, :mod:`~.pyramid` (value pyramid and
Pareto), :mod:`~.classes` (profitability and value classes), :mod:`~.lifecycle`,
:mod:`~.relationship`, :mod:`~.lifetime_value`, :mod:`~.satisfaction`,
:mod:`~.views` and :mod:`~.specs`.
"""

from __future__ import annotations

from crmcore.rules.segmentation._common import Explanation, Factor
from crmcore.rules.segmentation.classes import (
    ClassAssignment,
    ProfitabilitySpec,
    ProfitClass,
    ValueBasis,
    ValueClass,
    ValueClassSpec,
    profitability_classes,
    value_classes,
)
from crmcore.rules.segmentation.lifecycle import (
    LADDER,
    LifecycleSpec,
    LifecycleSuggestion,
    suggest_stages,
)
from crmcore.rules.segmentation.lifetime_value import (
    CustomerEquity,
    HistoricValueSpec,
    LifetimeValue,
    customer_equity,
    historic_lifetime_values,
)
from crmcore.rules.segmentation.pyramid import (
    BRIEF_TIERS,
    RANK_TIERS,
    ParetoPoint,
    ParetoResult,
    ParetoSpec,
    PyramidMethod,
    PyramidResult,
    PyramidSpec,
    Tier,
    TierAssignment,
    assign_tiers,
    pareto,
    pyramid_cut_points,
    value_pyramid,
)
from crmcore.rules.segmentation.relationship import (
    RelationshipAssessment,
    RelationshipLevel,
    RelationshipSpec,
    relationship_level,
)
from crmcore.rules.segmentation.rfm import (
    DEFAULT_SEGMENTS,
    MonetaryBasis,
    RfmCutPoints,
    RfmResult,
    RfmScore,
    RfmSpec,
    ScoreMethod,
    SegmentRule,
    assign_rfm,
    rfm,
    rfm_cut_points,
    single_currency,
)
from crmcore.rules.segmentation.satisfaction import (
    SatisfactionAssessment,
    SatisfactionLevel,
    SatisfactionSpec,
    complaint_satisfaction,
    satisfaction_gap,
)
from crmcore.rules.segmentation.specs import (
    SEGMENTATION_SPEC_TYPES,
    SegmentationSpec,
    segmentation_spec_type,
)
from crmcore.rules.segmentation.summaries import (
    CurrencySummary,
    Period,
    RepeatSummary,
    period_start,
    repeat_summaries,
    summarise_purchases,
    zone,
)
from crmcore.rules.segmentation.views import (
    ChainLink,
    ChronicleEvent,
    ComplaintAnalysis,
    Ranking,
    RosterEntry,
    chronicle,
    complaint_analysis,
    decision_chain,
    grades,
    group_by_region,
    rank_by_amount,
    roster,
)

__all__ = [
    "BRIEF_TIERS",
    "DEFAULT_SEGMENTS",
    "LADDER",
    "RANK_TIERS",
    "SEGMENTATION_SPEC_TYPES",
    "ChainLink",
    "ChronicleEvent",
    "ClassAssignment",
    "ComplaintAnalysis",
    "CurrencySummary",
    "CustomerEquity",
    "Explanation",
    "Factor",
    "HistoricValueSpec",
    "LifecycleSpec",
    "LifecycleSuggestion",
    "LifetimeValue",
    "MonetaryBasis",
    "ParetoPoint",
    "ParetoResult",
    "ParetoSpec",
    "Period",
    "ProfitClass",
    "ProfitabilitySpec",
    "PyramidMethod",
    "PyramidResult",
    "PyramidSpec",
    "Ranking",
    "RelationshipAssessment",
    "RelationshipLevel",
    "RelationshipSpec",
    "RepeatSummary",
    "RfmCutPoints",
    "RfmResult",
    "RfmScore",
    "RfmSpec",
    "RosterEntry",
    "SatisfactionAssessment",
    "SatisfactionLevel",
    "SatisfactionSpec",
    "ScoreMethod",
    "SegmentRule",
    "SegmentationSpec",
    "Tier",
    "TierAssignment",
    "ValueBasis",
    "ValueClass",
    "ValueClassSpec",
    "assign_rfm",
    "assign_tiers",
    "chronicle",
    "complaint_analysis",
    "complaint_satisfaction",
    "customer_equity",
    "decision_chain",
    "grades",
    "group_by_region",
    "historic_lifetime_values",
    "pareto",
    "period_start",
    "profitability_classes",
    "pyramid_cut_points",
    "rank_by_amount",
    "relationship_level",
    "repeat_summaries",
    "rfm",
    "rfm_cut_points",
    "roster",
    "satisfaction_gap",
    "segmentation_spec_type",
    "single_currency",
    "suggest_stages",
    "summarise_purchases",
    "value_classes",
    "value_pyramid",
    "zone",
]
