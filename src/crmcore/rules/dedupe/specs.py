"""Every dedupe spec, by its ``kind`` tag.

Each is frozen data that travels as JSON, so another service (or the SQL storage)
can load and run the same configuration::

    from crmcore.serialization import from_json, to_json
    text = to_json(BlockingSpec(max_block_size=50))
    spec = from_json(text, DedupeSpec)   # dispatches on "kind"
"""

from __future__ import annotations

from collections.abc import Mapping

from crmcore.rules.dedupe.compare import ComparisonSpec
from crmcore.rules.dedupe.keys import BlockingSpec
from crmcore.rules.dedupe.merge_plan import SurvivorshipPolicy
from crmcore.rules.verification import Spec

__all__ = ["DEDUPE_SPEC_TYPES", "DedupeSpec"]

DedupeSpec = BlockingSpec | ComparisonSpec | SurvivorshipPolicy
"""Any dedupe spec; structure JSON into it and the ``kind`` tag picks the class."""

DEDUPE_SPEC_TYPES: Mapping[str, type[Spec]] = {
    cls.TAG: cls for cls in (BlockingSpec, ComparisonSpec, SurvivorshipPolicy)
}
"""Each dedupe spec class by its ``kind`` tag."""
