"""Complaint transitions are dated in order: never before receipt, never before the last move."""

from __future__ import annotations

import datetime as dt

import pytest

from crmcore.errors import ValidationError
from crmcore.models import (
    Complaint,
    ComplaintState,
    ComplaintTransition,
    InteractionChannel,
)
from crmcore.serialization import from_dict, from_json, to_dict, to_json

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _complaint() -> Complaint:
    return Complaint(
        customer_id="c1",
        received_at=T0,
        channel=InteractionChannel.PHONE,
        category="delivery",
        description="快递晚到三天",
    )


def test_a_move_dated_before_received_at_is_refused() -> None:
    """Answering a complaint before it was received raises a coded ValidationError."""
    with pytest.raises(ValidationError) as caught:
        _complaint().acknowledge(by="客服", at=T0 - HOUR)
    assert caught.value.codes == ("complaint.transition_before_received",)
    assert caught.value.problems[0].path == "$.transitions[0].at"


def test_a_move_dated_before_the_previous_move_is_refused() -> None:
    """A backdated resolution (before the acknowledgement) is refused, with its path."""
    acknowledged = _complaint().acknowledge(by="客服", at=T0 + 5 * HOUR)
    with pytest.raises(ValidationError) as caught:
        acknowledged.resolve(by="客服", at=T0 + 2 * HOUR, resolution="退款")
    assert caught.value.codes == ("complaint.transition_out_of_order",)
    assert caught.value.problems[0].path == "$.transitions[1].at"


def test_moves_at_the_same_instant_and_at_receipt_are_allowed() -> None:
    """Time order is not strict: an instant reply and two moves in one second are fine."""
    c = _complaint().acknowledge(by="a", at=T0).resolve(by="a", at=T0, resolution="ok")
    assert c.state is ComplaintState.RESOLVED


def test_order_compares_instants_not_wall_clocks() -> None:
    """09:00+08:00 is 01:00Z, before an 08:00Z receipt; 17:00+08:00 is after it."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    with pytest.raises(ValidationError):
        _complaint().acknowledge(by="a", at=dt.datetime(2026, 3, 1, 9, tzinfo=shanghai))
    ok = _complaint().acknowledge(by="a", at=dt.datetime(2026, 3, 1, 17, tzinfo=shanghai))
    assert ok.responded_at == T0 + HOUR


def test_constructing_a_complaint_with_out_of_order_history_is_refused() -> None:
    """The invariant holds for complaints built directly, not only through the move methods."""
    steps = (
        ComplaintTransition(
            from_state=ComplaintState.RECEIVED,
            to_state=ComplaintState.ACKNOWLEDGED,
            at=T0 + 3 * HOUR,
            by="a",
        ),
        ComplaintTransition(
            from_state=ComplaintState.ACKNOWLEDGED,
            to_state=ComplaintState.RESOLVED,
            at=T0 + HOUR,
            by="a",
        ),
    )
    with pytest.raises(ValidationError) as caught:
        Complaint(
            customer_id="c1",
            received_at=T0,
            channel=InteractionChannel.PHONE,
            category="delivery",
            description="x",
            state=ComplaintState.RESOLVED,
            resolution="x",
            transitions=steps,
        )
    assert caught.value.codes == ("complaint.transition_out_of_order",)


def test_decoding_a_stored_complaint_with_backdated_moves_is_refused() -> None:
    """from_dict and from_json refuse a history whose first move predates received_at."""
    good = (
        _complaint()
        .acknowledge(by="a", at=T0 + HOUR)
        .resolve(by="a", at=T0 + 2 * HOUR, resolution="ok")
    )
    data = to_dict(good)
    data["transitions"][0]["at"] = (T0 - HOUR).isoformat()
    with pytest.raises(ValidationError) as caught:
        from_dict(data, Complaint)
    assert "complaint.transition_before_received" in caught.value.codes
    text = to_json(good).replace((T0 + 2 * HOUR).isoformat(), (T0 + 0.5 * HOUR).isoformat())
    text = text.replace((T0 + HOUR).isoformat(), (T0 + 4 * HOUR).isoformat())
    with pytest.raises(ValidationError) as caught:
        from_json(text, Complaint)
    assert caught.value.codes == ("complaint.transition_out_of_order",)
