"""Behaviour of the complaint state machine and its service-level deadlines."""

from __future__ import annotations

import datetime as dt

import pytest

from crmcore.errors import InvalidTransition, ValidationError
from crmcore.models import (
    ALLOWED_TRANSITIONS,
    Complaint,
    ComplaintState,
    ComplaintTransition,
    InteractionChannel,
    Severity,
)

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _complaint(**fields: object) -> Complaint:
    values: dict[str, object] = {
        "customer_id": "c1",
        "received_at": T0,
        "channel": InteractionChannel.PHONE,
        "category": "delivery",
        "description": "快递晚到三天,包装破损",
        "severity": Severity.HIGH,
        "response_due": T0 + 4 * HOUR,
        "resolution_due": T0 + 48 * HOUR,
    }
    values.update(fields)
    return Complaint(**values)  # type: ignore[arg-type]


def test_happy_path_records_every_transition() -> None:
    """Acknowledge, investigate, resolve and close each record who, when and what."""
    c = _complaint()
    c = c.acknowledge(by="客服小李", at=T0 + HOUR)
    c = c.investigate(by="质检", at=T0 + 2 * HOUR, note="仓库出库延迟")
    c = c.resolve(by="客服小李", at=T0 + 20 * HOUR, resolution="退运费并补发", root_cause="仓库")
    c = c.close(by="客服小李", at=T0 + 30 * HOUR, satisfaction=1)
    assert c.state is ComplaintState.CLOSED
    assert [t.to_state for t in c.transitions] == [
        ComplaintState.ACKNOWLEDGED,
        ComplaintState.INVESTIGATING,
        ComplaintState.RESOLVED,
        ComplaintState.CLOSED,
    ]
    assert c.transitions[1].note == "仓库出库延迟"
    assert (c.resolution, c.root_cause, c.satisfaction) == ("退运费并补发", "仓库", 1)
    assert c.responded_at == T0 + HOUR
    assert c.resolved_at == T0 + 20 * HOUR


def test_transitions_return_new_complaints_and_leave_the_old_unchanged() -> None:
    """Complaints are immutable: a transition returns a new one."""
    c = _complaint()
    acknowledged = c.acknowledge(by="a", at=T0)
    assert c.state is ComplaintState.RECEIVED
    assert c.transitions == ()
    assert acknowledged.state is ComplaintState.ACKNOWLEDGED


MOVES = {
    ComplaintState.ACKNOWLEDGED: lambda c: c.acknowledge(by="x", at=T0 + HOUR),
    ComplaintState.INVESTIGATING: lambda c: c.investigate(by="x", at=T0 + HOUR),
    ComplaintState.RESOLVED: lambda c: c.resolve(by="x", at=T0 + HOUR, resolution="fixed"),
    ComplaintState.CLOSED: lambda c: c.close(by="x", at=T0 + HOUR),
    ComplaintState.REOPENED: lambda c: c.reopen(by="x", at=T0 + HOUR),
    ComplaintState.REJECTED: lambda c: c.reject(by="x", at=T0 + HOUR, note="not ours"),
}

PATHS = {
    ComplaintState.RECEIVED: [],
    ComplaintState.ACKNOWLEDGED: [ComplaintState.ACKNOWLEDGED],
    ComplaintState.INVESTIGATING: [ComplaintState.ACKNOWLEDGED, ComplaintState.INVESTIGATING],
    ComplaintState.RESOLVED: [ComplaintState.ACKNOWLEDGED, ComplaintState.RESOLVED],
    ComplaintState.CLOSED: [
        ComplaintState.ACKNOWLEDGED,
        ComplaintState.RESOLVED,
        ComplaintState.CLOSED,
    ],
    ComplaintState.REOPENED: [
        ComplaintState.ACKNOWLEDGED,
        ComplaintState.RESOLVED,
        ComplaintState.REOPENED,
    ],
    ComplaintState.REJECTED: [ComplaintState.REJECTED],
}


def _reach(state: ComplaintState) -> Complaint:
    c = _complaint()
    for step in PATHS[state]:
        c = MOVES[step](c)
    return c


@pytest.mark.parametrize("start", list(ComplaintState))
@pytest.mark.parametrize("target", list(MOVES))
def test_only_allowed_transitions_succeed(start: ComplaintState, target: ComplaintState) -> None:
    """Every state allows exactly the moves in ALLOWED_TRANSITIONS and refuses the rest."""
    complaint = _reach(start)
    assert complaint.state is start
    if target in ALLOWED_TRANSITIONS[start]:
        assert MOVES[target](complaint).state is target
    else:
        with pytest.raises(InvalidTransition) as info:
            MOVES[target](complaint)
        assert info.value.current == start.value
        assert info.value.requested == target.value
        assert set(info.value.allowed) == {s.value for s in ALLOWED_TRANSITIONS[start]}


def test_state_must_agree_with_recorded_transitions() -> None:
    """A complaint cannot claim a state its transitions did not reach."""
    with pytest.raises(ValidationError) as info:
        _complaint(state=ComplaintState.CLOSED)
    assert info.value.codes == ("complaint.state_mismatch",)


def test_forged_transition_history_is_rejected() -> None:
    """A history that jumps from received straight to closed is invalid."""
    forged = ComplaintTransition(
        from_state=ComplaintState.RECEIVED, to_state=ComplaintState.CLOSED, at=T0, by="x"
    )
    with pytest.raises(ValidationError) as info:
        _complaint(state=ComplaintState.CLOSED, transitions=(forged,))
    assert info.value.codes == ("complaint.transition_invalid",)


def test_satisfaction_is_bounded() -> None:
    """Satisfaction runs from -2 to +2."""
    resolved = _reach(ComplaintState.RESOLVED)
    with pytest.raises(ValidationError) as info:
        resolved.close(by="x", at=T0 + HOUR, satisfaction=5)
    assert info.value.codes == ("value.out_of_range",)


def test_response_and_resolution_deadlines() -> None:
    """Deadlines are overdue only when missed, judged at the time given."""
    fresh = _complaint()
    assert not fresh.response_overdue(T0 + 3 * HOUR)
    assert fresh.response_overdue(T0 + 5 * HOUR)
    late_ack = fresh.acknowledge(by="x", at=T0 + 6 * HOUR)
    assert late_ack.response_overdue(T0 + 7 * HOUR)
    on_time = fresh.acknowledge(by="x", at=T0 + HOUR)
    assert not on_time.response_overdue(T0 + 100 * HOUR)
    assert on_time.resolution_overdue(T0 + 49 * HOUR)
    resolved = on_time.resolve(by="x", at=T0 + 47 * HOUR, resolution="ok")
    assert not resolved.resolution_overdue(T0 + 100 * HOUR)
    assert not _complaint(resolution_due=None).resolution_overdue(T0 + 1000 * HOUR)


def test_deadlines_cannot_precede_receipt() -> None:
    """A due time before the complaint was received is rejected."""
    with pytest.raises(ValidationError) as info:
        _complaint(response_due=T0 - HOUR)
    assert info.value.codes == ("complaint.due_before_received",)
