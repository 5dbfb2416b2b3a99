"""Duplicate customers: find them without labels, explain them, plan their merge.

Pure rules, no storage (the SQL storage runs the blocking step as joins over an
index of the same keys). The steps, each a function of its own:

1. :func:`blocking_keys`: plain-string keys per customer (E.164 phone, email,
   identifiers, typo-proof and order-proof name keys, CJK in pinyin, birth date,
   postal code), and :func:`candidate_pairs`: the pairs sharing a key, with
   capped blocks and a :class:`BlockingReport` of what the cap cut.
2. :func:`compare_levels`: a comparison vector per pair (rapidfuzz Jaro-Winkler
   on names and streets, forgiving dates, exact phones and emails).
3. :func:`fit`: a Fellegi-Sunter :class:`MatchModel` by EM from the vectors
   alone, inspectable and serialisable.
4. :func:`explain_pair`: each field's level, m, u and weight, and the total.
5. :func:`cluster`: duplicate groups at a threshold, never joining a pair a
   :class:`NotDuplicate` decision keeps apart; each group lists the pairs that
   joined it.
6. :func:`plan_merge`: a :class:`MergePlan` saying which value survives and why.

:func:`find_duplicates` runs 1 to 5 over customers in memory;
:func:`likely_duplicates` checks a new customer against candidates on entry.
docs/dedupe.md has worked examples.
"""

from crmcore.rules.dedupe._features import Features, features
from crmcore.rules.dedupe._text import HAS_PINYIN
from crmcore.rules.dedupe.blocking import (
    BlockingReport,
    CandidatePair,
    Candidates,
    CutBlock,
    PassReport,
    candidate_pairs,
)
from crmcore.rules.dedupe.cluster import (
    Clustering,
    DuplicateGroup,
    KeptApart,
    NotDuplicate,
    Outweighed,
    cluster,
)
from crmcore.rules.dedupe.compare import (
    LEVEL_LABELS,
    NULL,
    ComparedField,
    ComparisonSpec,
    FieldComparison,
    compare,
    compare_levels,
)
from crmcore.rules.dedupe.entry import likely_duplicates
from crmcore.rules.dedupe.explain import (
    ExplainedPairs,
    FieldWeight,
    PairExplanation,
    WeightTable,
    explain_comparisons,
    explain_pair,
)
from crmcore.rules.dedupe.find import (
    DedupeResult,
    find_duplicates,
    needed_ids,
    pairs_of_one_kind,
    random_pairs,
    resolve_candidates,
    score_pairs,
)
from crmcore.rules.dedupe.keys import (
    BlockingPass,
    BlockingSpec,
    blocking_keys,
    feature_keys,
    key_pass,
)
from crmcore.rules.dedupe.merge_plan import (
    MERGE_FIELDS,
    FieldDecision,
    FieldRule,
    MergePlan,
    SurvivorChoice,
    SurvivorRule,
    SurvivorshipPolicy,
    plan_merge,
)
from crmcore.rules.dedupe.model import (
    FieldParameters,
    FitDiagnostics,
    LevelParameters,
    MatchModel,
    fit,
    pool_adjacent_violators,
    probability,
)
from crmcore.rules.dedupe.specs import DEDUPE_SPEC_TYPES, DedupeSpec

__all__ = [
    "DEDUPE_SPEC_TYPES",
    "HAS_PINYIN",
    "LEVEL_LABELS",
    "MERGE_FIELDS",
    "NULL",
    "BlockingPass",
    "BlockingReport",
    "BlockingSpec",
    "CandidatePair",
    "Candidates",
    "Clustering",
    "ComparedField",
    "ComparisonSpec",
    "CutBlock",
    "DedupeResult",
    "DedupeSpec",
    "DuplicateGroup",
    "ExplainedPairs",
    "Features",
    "FieldComparison",
    "FieldDecision",
    "FieldParameters",
    "FieldRule",
    "FieldWeight",
    "FitDiagnostics",
    "KeptApart",
    "LevelParameters",
    "MatchModel",
    "MergePlan",
    "NotDuplicate",
    "Outweighed",
    "PairExplanation",
    "PassReport",
    "SurvivorChoice",
    "SurvivorRule",
    "SurvivorshipPolicy",
    "WeightTable",
    "blocking_keys",
    "candidate_pairs",
    "cluster",
    "compare",
    "compare_levels",
    "explain_comparisons",
    "explain_pair",
    "feature_keys",
    "features",
    "find_duplicates",
    "fit",
    "key_pass",
    "likely_duplicates",
    "needed_ids",
    "pairs_of_one_kind",
    "plan_merge",
    "pool_adjacent_violators",
    "probability",
    "random_pairs",
    "resolve_candidates",
    "score_pairs",
]
