"""What both import runs share: rejections, refused updates, and the outcome recorder.

:class:`_Outcomes` counts the outcomes of one run, keeps those the report holds and
hands them on in input order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from crmcore.errors import Problem
from crmcore.storage.import_report import ImportOutcome, ImportReport, ImportStatus


def _rejected(index: int, record_id: str | None, problems: Iterable[Problem]) -> ImportOutcome:
    return ImportOutcome(
        index=index, id=record_id, status=ImportStatus.REJECTED, problems=tuple(problems)
    )


def _refused_update(kind: str, upsert: bool, claimed: int, stored: int) -> Problem | None:
    """Why an imported record may not update the stored one: no upsert, or a stale claim."""
    if not upsert:
        return Problem(
            code="storage.duplicate",
            path="$.id",
            message=f"a {kind} with this id already exists (upsert=False)",
        )
    if claimed not in (0, stored):
        return Problem(
            code="storage.conflict",
            path="$.version",
            message=f"based on version {claimed}, but the stored version is {stored}",
        )
    return None


class _Outcomes:
    """The outcomes of one run: counted, kept for the report, handed on in input order.

    Outcomes are decided out of order (a rejection before the batch holding the
    records read earlier is written); each is held until every earlier one is known,
    so ``on_outcome`` sees indexes 0, 1, 2, ... Memory held is bounded by a batch and
    the rejections decided while it fills.
    """

    def __init__(self, on_outcome: Callable[[ImportOutcome], None] | None) -> None:
        self.on_outcome = on_outcome
        self.kept: list[ImportOutcome] = []
        self.counts = dict.fromkeys(ImportStatus, 0)
        self.held: dict[int, ImportOutcome] = {}
        self.next_index = 0

    def record(self, outcomes: Iterable[ImportOutcome]) -> None:
        """Count each outcome, keep it for the report if it must be, and pass it on."""
        on_outcome, counts, kept = self.on_outcome, self.counts, self.kept
        for outcome in outcomes:
            counts[outcome.status] += 1
            if on_outcome is None or outcome.status is ImportStatus.REJECTED:
                kept.append(outcome)
        if on_outcome is None:
            return
        held = self.held
        for outcome in outcomes:
            held[outcome.index] = outcome
        while self.next_index in held:
            on_outcome(held.pop(self.next_index))
            self.next_index += 1

    def report(self) -> ImportReport:
        """The report of the whole run."""
        kept, counts = self.kept, self.counts
        kept.sort(key=lambda o: o.index)
        return ImportReport(
            outcomes=tuple(kept),
            created=counts[ImportStatus.CREATED],
            updated=counts[ImportStatus.UPDATED],
            unchanged=counts[ImportStatus.UNCHANGED],
            rejected=counts[ImportStatus.REJECTED],
            skipped=counts[ImportStatus.SKIPPED],
        )
