"""Bad arguments a new user gives the segmentation and signal rules: each a crmcore error.

Found by trying the rules from the docs alone: each of these used to raise a raw
``AttributeError``/``TypeError``/``ValueError`` or to be accepted and select nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
from crmcore.errors import CrmError, ValidationError, WrongType
from crmcore.models import Money, Purchase
from crmcore.rules.segmentation import (
    DEFAULT_SEGMENTS,
    PyramidSpec,
    RfmSpec,
    SegmentationSpec,
    SegmentRule,
    SegmentSelection,
    pareto,
    repeat_summaries,
    rfm,
    summarise_purchases,
    value_pyramid,
)
from crmcore.rules.signals import complaint_signals, upcoming_dates
from crmcore.serialization import from_json, to_json
from crmcore.storage import segments

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def codes_and_paths(error: ValidationError) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in error.problems]


def test_money_in_two_currencies_does_not_add() -> None:
    with pytest.raises(ValidationError) as caught:
        _ = Money.of("388.00", "CNY") + Money.of("25", "EUR")
    assert codes_and_paths(caught.value) == [("money.currency_mismatch", "$.currency")]
    assert isinstance(caught.value, ValueError)  # what it raised before, still caught
    assert Money.of("1.5", "CNY") + Money.of("2", "CNY") == Money.of("3.5", "CNY")


def test_rfm_with_other_scores_and_the_default_map_says_so_once() -> None:
    with pytest.raises(ValidationError) as caught:
        from_json('{"kind": "rfm", "currency": "CNY", "scores": 3}', SegmentationSpec)  # type: ignore[arg-type]
    assert codes_and_paths(caught.value) == [("segmentation.score_invalid", "$.segments")]
    assert "segments=()" in caught.value.problems[0].message
    spec: object = from_json('{"kind": "rfm", "scores": 3, "segments": []}', SegmentationSpec)  # type: ignore[arg-type]
    assert isinstance(spec, RfmSpec)
    assert spec.segments == ()
    assert RfmSpec().segments == DEFAULT_SEGMENTS


def test_a_map_of_ones_own_for_other_scores_is_still_checked_rule_by_rule() -> None:
    rules = (SegmentRule(name="近期", recency=(2, 3)), SegmentRule(name="沉睡", recency=(1, 4)))
    with pytest.raises(ValidationError) as caught:
        RfmSpec(scores=3, segments=rules)
    assert ("segmentation.score_invalid", "$.segments[1].recency") in codes_and_paths(caught.value)


@pytest.mark.parametrize("currency", ["cny", "RMB", "XXXX", "CNY\n", "人民币"])
def test_a_spec_currency_must_be_an_iso_code(currency: str) -> None:
    for make in (RfmSpec, PyramidSpec):
        with pytest.raises(ValidationError) as caught:
            make(currency=currency)
        assert codes_and_paths(caught.value) == [("money.currency_invalid", "$.currency")]
    assert RfmSpec(currency="JPY").currency == "JPY"
    assert PyramidSpec(currency=None).currency is None


def test_a_selection_names_an_outcome_of_its_rule() -> None:
    rfm_spec = RfmSpec(currency="CNY")
    cases: list[tuple[str, RfmSpec | PyramidSpec]] = [
        ("Kings", rfm_spec),
        ("Gold", PyramidSpec()),
        ("611", rfm_spec),
        ("22", RfmSpec(scores=2, segments=())),
    ]
    for segment, rule in cases:
        with pytest.raises(ValidationError) as caught:
            SegmentSelection(rule=rule, segment=segment)
        assert codes_and_paths(caught.value) == [("segmentation.segment_unknown", "$.segment")]
    text = '{"kind": "segment_selection", "segment": "Gold", "rule": {"kind": "value_pyramid"}}'
    with pytest.raises(ValidationError) as caught:
        from_json(text, SegmentSelection)
    assert codes_and_paths(caught.value) == [("segmentation.segment_unknown", "$.segment")]
    assert "'VIP', 'large', 'medium', 'small'" in caught.value.problems[0].message


@given(st.integers(2, 10), st.data())
def test_every_score_code_and_segment_name_is_selectable(scores: int, data: st.DataObject) -> None:
    span = st.integers(1, scores)
    r, f, m = data.draw(span), data.draw(span), data.draw(span)
    spec = RfmSpec(scores=scores, segments=())
    selection = SegmentSelection(rule=spec, segment=f"{r}{f}{m}")
    assert from_json(to_json(selection), SegmentSelection) == selection
    rule = data.draw(st.sampled_from(DEFAULT_SEGMENTS))
    assert SegmentSelection(rule=RfmSpec(), segment=rule.name).segment == rule.name


@given(st.text(min_size=1).filter(lambda s: s.strip() != ""))
def test_a_name_outside_the_map_is_refused(segment: str) -> None:
    names = {rule.name for rule in DEFAULT_SEGMENTS}
    if segment in names or (len(segment) == 3 and all(c in "12345" for c in segment)):
        assert SegmentSelection(rule=RfmSpec(), segment=segment).segment == segment
    else:
        with pytest.raises(ValidationError):
            SegmentSelection(rule=RfmSpec(), segment=segment)


def test_a_period_that_is_no_period_is_refused_with_its_path() -> None:
    purchases = [
        Purchase(
            customer_id="c1", purchased_at=NOW, product="普洱茶", amount=Money.of("388", "CNY")
        )
    ]
    assert repeat_summaries(purchases, as_of=NOW, period="week")[0].period == "week"  # type: ignore[arg-type]
    store = crmcore.connect("memory://")
    runs: list[Callable[[], object]] = [
        lambda: repeat_summaries(purchases, as_of=NOW, period="year"),  # type: ignore[arg-type]
        lambda: segments.repeat_summaries(store, as_of=NOW, period="年"),  # type: ignore[arg-type]
    ]
    for run in runs:
        with pytest.raises(ValidationError) as caught:
            run()
        assert codes_and_paths(caught.value) == [("value.not_allowed", "$.period")]
    store.close()


def test_members_after_must_be_an_id() -> None:
    store = crmcore.connect("memory://")
    selection = SegmentSelection(rule=PyramidSpec(), segment="VIP")
    with pytest.raises(WrongType):
        segments.members(store, selection, as_of=NOW, after=5)  # type: ignore[arg-type]
    assert segments.members(store, selection, as_of=NOW, after="陈") == ()
    store.close()


@pytest.mark.parametrize("days", ["30", 30.0, True, None])
def test_upcoming_dates_wants_whole_days(days: object) -> None:
    with pytest.raises(ValidationError) as caught:
        upcoming_dates([], now=NOW, days=days)  # type: ignore[arg-type]
    assert codes_and_paths(caught.value) == [("type.invalid", "$.days")]


def test_an_empty_store_and_empty_input_give_empty_results_not_errors() -> None:
    store = crmcore.connect("memory://")
    try:
        assert rfm(RfmSpec(), []).scores == ()
        assert segments.rfm(store, RfmSpec(currency="CNY"), as_of=NOW).scores == ()
        assert summarise_purchases([], as_of=NOW) == ()
    except CrmError as error:  # pragma: no cover - the failure message
        pytest.fail(f"an empty input raised {error!r}")
    finally:
        store.close()


def test_a_rule_given_another_rules_spec_or_its_json_raises_wrong_type() -> None:
    summaries = summarise_purchases(
        [Purchase(customer_id="c1", purchased_at=NOW, product="茶", amount=Money.of("1", "CNY"))],
        as_of=NOW,
    )
    store = crmcore.connect("memory://")
    wrong: list[tuple[Callable[[object], object], object]] = [
        (lambda spec: rfm(spec, summaries), {"kind": "rfm"}),  # type: ignore[arg-type]
        (lambda spec: rfm(spec, summaries), PyramidSpec()),  # type: ignore[arg-type]
        (lambda spec: value_pyramid(spec, summaries), RfmSpec()),  # type: ignore[arg-type]
        (lambda spec: pareto(spec, summaries), '{"kind": "pareto"}'),  # type: ignore[arg-type]
        (lambda spec: segments.rfm(store, spec, as_of=NOW), PyramidSpec()),  # type: ignore[arg-type]
        (lambda spec: segments.value_pyramid(store, spec, as_of=NOW), RfmSpec()),  # type: ignore[arg-type]
        (lambda spec: segments.pareto(store, spec, as_of=NOW), {"kind": "pareto"}),  # type: ignore[arg-type]
    ]
    for run, spec in wrong:
        with pytest.raises(WrongType) as caught:
            run(spec)
        assert caught.value.code == "argument.wrong_type"
        assert type(spec).__name__ in str(caught.value)
    with pytest.raises(WrongType, match="from_json"):
        rfm({"kind": "rfm"}, summaries)  # type: ignore[arg-type]
    store.close()


@pytest.mark.parametrize(
    ("warn_within", "code"),
    [(dt.timedelta(hours=-1), "value.negative"), (24, "type.invalid"), ("1d", "type.invalid")],
)
def test_complaint_warnings_need_a_non_negative_timedelta(warn_within: object, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        complaint_signals([], now=NOW, warn_within=warn_within)  # type: ignore[arg-type]
    assert codes_and_paths(caught.value) == [(code, "$.warn_within")]
    assert complaint_signals([], now=NOW, warn_within=dt.timedelta(0)) == ()
