"""Complaints, with an explicit state machine and a recorded history of transitions.

::

    received ──acknowledge──▶ acknowledged ──investigate──▶ investigating
       │                         │    │                         │
       └──reject──▶ rejected ◀───┘    └────resolve──▶ resolved ◀┘
                       │                                │   │
                       └──reopen──▶ reopened ◀──reopen──┘   close
                                      │  │                  ▼
                        investigate ◀─┘  └─resolve       closed ──reopen──▶ reopened

Each transition is a method that returns a new complaint with the move recorded
(who, when, note); a move the current state does not allow raises
:class:`crmcore.errors.InvalidTransition`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Mapping

import attrs

from crmcore.errors import InvalidTransition, Problem
from crmcore.models._base import Model
from crmcore.models._ids import new_id
from crmcore.models.checks import checks, in_range, max_length, non_blank, non_negative
from crmcore.models.customer import utc_now
from crmcore.models.interaction import InteractionChannel

__all__ = ["ALLOWED_TRANSITIONS", "Complaint", "ComplaintState", "ComplaintTransition", "Severity"]


class ComplaintState(enum.StrEnum):
    """Where a complaint is in its handling."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        """True while the complaint still needs work."""
        return self in (
            ComplaintState.RECEIVED,
            ComplaintState.ACKNOWLEDGED,
            ComplaintState.INVESTIGATING,
            ComplaintState.REOPENED,
        )


class Severity(enum.StrEnum):
    """How serious a complaint is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


_S = ComplaintState
ALLOWED_TRANSITIONS: Mapping[ComplaintState, frozenset[ComplaintState]] = {
    _S.RECEIVED: frozenset({_S.ACKNOWLEDGED, _S.REJECTED}),
    _S.ACKNOWLEDGED: frozenset({_S.INVESTIGATING, _S.RESOLVED, _S.REJECTED}),
    _S.INVESTIGATING: frozenset({_S.RESOLVED, _S.REJECTED}),
    _S.RESOLVED: frozenset({_S.CLOSED, _S.REOPENED}),
    _S.CLOSED: frozenset({_S.REOPENED}),
    _S.REOPENED: frozenset({_S.INVESTIGATING, _S.RESOLVED}),
    _S.REJECTED: frozenset({_S.REOPENED}),
}
"""Every allowed move, from state to the states reachable from it."""


@attrs.frozen(kw_only=True)
class ComplaintTransition(Model):
    """One recorded move of a complaint from one state to another."""

    from_state: ComplaintState
    to_state: ComplaintState
    at: dt.datetime
    by: str = attrs.field(metadata=checks(non_blank, max_length(128)))
    note: str | None = None


@attrs.frozen(kw_only=True)
class Complaint(Model):
    """A customer complaint, recorded in detail and moved through its states by methods.

    Attributes:
        satisfaction: The customer's satisfaction after resolution, from -2 (very
            dissatisfied) through 0 (satisfied: performance met expectation) to +2
            (highly satisfied), following the brief's satisfaction = performance -
            expectation.
        response_due: When the customer must have had a first response (SLA).
        resolution_due: When the complaint must be resolved (SLA).
        transitions: Every state change, oldest first.
    """

    customer_id: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    received_at: dt.datetime
    channel: InteractionChannel
    category: str = attrs.field(metadata=checks(non_blank, max_length(128)))
    description: str = attrs.field(metadata=checks(non_blank))
    severity: Severity = Severity.MEDIUM
    id: str = attrs.field(factory=new_id, metadata=checks(non_blank, max_length(64)))
    version: int = attrs.field(default=0, metadata=checks(non_negative))
    created_at: dt.datetime = attrs.field(factory=utc_now)
    state: ComplaintState = ComplaintState.RECEIVED
    contact_person_id: str | None = None
    product: str | None = None
    root_cause: str | None = attrs.field(default=None, metadata=checks(max_length(256)))
    resolution: str | None = None
    satisfaction: int | None = attrs.field(default=None, metadata=checks(in_range(-2, 2)))
    response_due: dt.datetime | None = None
    resolution_due: dt.datetime | None = None
    transitions: tuple[ComplaintTransition, ...] = ()

    kind_name = "complaint"

    def _invariants(self) -> Iterator[Problem]:
        expected = self.transitions[-1].to_state if self.transitions else ComplaintState.RECEIVED
        if self.state is not expected:
            yield Problem(
                code="complaint.state_mismatch",
                path="$.state",
                message=f"must be {expected.value!r}, the state the last transition reached",
            )
        previous = ComplaintState.RECEIVED
        for index, step in enumerate(self.transitions):
            allowed = ALLOWED_TRANSITIONS[previous]
            if step.from_state is not previous or step.to_state not in allowed:
                yield Problem(
                    code="complaint.transition_invalid",
                    path=f"$.transitions[{index}]",
                    message=f"{step.from_state.value} -> {step.to_state.value} is not allowed here",
                )
                break
            previous = step.to_state
        yield from self._time_order()
        for name in ("response_due", "resolution_due"):
            due = getattr(self, name)
            if due is not None and due < self.received_at:
                yield Problem(
                    code="complaint.due_before_received",
                    path=f"$.{name}",
                    message="cannot be earlier than received_at",
                )

    def _time_order(self) -> Iterator[Problem]:
        """Each move is dated no earlier than receipt and than the move before it.

        Equal instants are allowed (an immediate answer; two moves in one second);
        instants are compared, not wall-clock readings, so offsets do not matter.
        """
        earliest = self.received_at
        for index, step in enumerate(self.transitions):
            if step.at < earliest:
                if index == 0 or earliest == self.received_at:
                    code, what = "complaint.transition_before_received", "received_at"
                else:
                    code, what = "complaint.transition_out_of_order", "the previous transition"
                yield Problem(
                    code=code,
                    path=f"$.transitions[{index}].at",
                    message=f"cannot be earlier than {what} ({earliest.isoformat()})",
                )
                return
            earliest = step.at

    # ------------------------------------------------------------------ moves

    def allowed_transitions(self) -> frozenset[ComplaintState]:
        """The states this complaint may move to next."""
        return ALLOWED_TRANSITIONS[self.state]

    def _move(
        self, to: ComplaintState, *, by: str, at: dt.datetime, note: str | None, **changes: object
    ) -> Complaint:
        if to not in ALLOWED_TRANSITIONS[self.state]:
            raise InvalidTransition(
                subject=f"complaint {self.id}",
                current=self.state.value,
                requested=to.value,
                allowed=(s.value for s in ALLOWED_TRANSITIONS[self.state]),
            )
        step = ComplaintTransition(from_state=self.state, to_state=to, at=at, by=by, note=note)
        return attrs.evolve(self, state=to, transitions=(*self.transitions, step), **changes)  # type: ignore[arg-type]

    def acknowledge(self, *, by: str, at: dt.datetime, note: str | None = None) -> Complaint:
        """Confirm to the customer that the complaint was received (received -> acknowledged)."""
        return self._move(ComplaintState.ACKNOWLEDGED, by=by, at=at, note=note)

    def investigate(self, *, by: str, at: dt.datetime, note: str | None = None) -> Complaint:
        """Start analysing the cause (acknowledged or reopened -> investigating)."""
        return self._move(ComplaintState.INVESTIGATING, by=by, at=at, note=note)

    def resolve(
        self,
        *,
        resolution: str,
        by: str,
        at: dt.datetime,
        root_cause: str | None = None,
        note: str | None = None,
    ) -> Complaint:
        """Give the customer a solution (acknowledged, investigating or reopened -> resolved)."""
        changes: dict[str, object] = {"resolution": resolution}
        if root_cause is not None:
            changes["root_cause"] = root_cause
        return self._move(ComplaintState.RESOLVED, by=by, at=at, note=note, **changes)

    def close(
        self,
        *,
        by: str,
        at: dt.datetime,
        satisfaction: int | None = None,
        note: str | None = None,
    ) -> Complaint:
        """Close a resolved complaint with the customer's satisfaction (resolved -> closed)."""
        changes: dict[str, object] = {}
        if satisfaction is not None:
            changes["satisfaction"] = satisfaction
        return self._move(ComplaintState.CLOSED, by=by, at=at, note=note, **changes)

    def reopen(self, *, by: str, at: dt.datetime, note: str | None = None) -> Complaint:
        """Reopen a resolved, closed or rejected complaint (-> reopened)."""
        return self._move(ComplaintState.REOPENED, by=by, at=at, note=note)

    def reject(self, *, by: str, at: dt.datetime, note: str) -> Complaint:
        """Reject an unfounded complaint, saying why (received, acknowledged, investigating)."""
        return self._move(ComplaintState.REJECTED, by=by, at=at, note=note)

    # ------------------------------------------------------------------ SLA

    @property
    def responded_at(self) -> dt.datetime | None:
        """When the complaint first left the received state, if it has."""
        return self.transitions[0].at if self.transitions else None

    @property
    def resolved_at(self) -> dt.datetime | None:
        """When the complaint was last resolved, if it has been."""
        for step in reversed(self.transitions):
            if step.to_state is ComplaintState.RESOLVED:
                return step.at
        return None

    def response_overdue(self, now: dt.datetime) -> bool:
        """True when the response deadline passed without a response."""
        if self.response_due is None:
            return False
        responded = self.responded_at
        return (responded or now) > self.response_due

    def resolution_overdue(self, now: dt.datetime) -> bool:
        """True when the resolution deadline passed while the complaint was unresolved."""
        if self.resolution_due is None:
            return False
        if self.state.is_open:
            return now > self.resolution_due
        resolved = self.resolved_at
        return resolved is not None and resolved > self.resolution_due
