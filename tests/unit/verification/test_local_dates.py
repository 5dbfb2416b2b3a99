"""Date rules judge "today" in the time zone the pipeline is given, not the UTC date."""

from __future__ import annotations

import datetime as dt

import pytest

from crmcore.errors import ValidationError
from crmcore.models import Customer, PersonName, PersonProfile
from crmcore.rules.verification import (
    NormalisationPipeline,
    ValidationSpec,
    VendorEvaluationSpec,
    VendorRecord,
    evaluate_vendor,
    validate,
)
from crmcore.serialization import from_json, to_json

# 17:00 UTC on 1 May is 01:00 on 2 May in Shanghai
EVENING_UTC = dt.datetime(2026, 5, 1, 17, 0, tzinfo=dt.UTC)
MAY_2 = dt.date(2026, 5, 2)


def _acquired_on_may_2() -> Customer:
    return Customer.person_named(family="张", given="伟", acquired_on=MAY_2)


def test_a_date_that_is_today_in_shanghai_is_not_in_the_future() -> None:
    """Acquired on 2 May, checked at 2026-05-01T17:00Z: today in Shanghai, no finding."""
    pipeline = NormalisationPipeline(time_zone="Asia/Shanghai")
    result = pipeline.check(_acquired_on_may_2(), now=EVENING_UTC)
    assert "date.in_future" not in {p.code for p in result.findings}


def test_by_default_today_is_the_date_of_now_as_given() -> None:
    """Without a time zone the UTC date (the store's clock) is today: 2 May is in the future."""
    result = NormalisationPipeline().check(_acquired_on_may_2(), now=EVENING_UTC)
    found = [p for p in result.findings if p.code == "date.in_future"]
    assert [p.path for p in found] == ["$.acquired_on"]
    assert "2026-05-01" in found[0].message


def test_a_date_tomorrow_in_shanghai_is_still_in_the_future() -> None:
    """3 May is in the future in Shanghai at 01:00 on 2 May, and its message says today."""
    customer = Customer.person_named(family="张", acquired_on=dt.date(2026, 5, 3))
    result = NormalisationPipeline(time_zone="Asia/Shanghai").check(customer, now=EVENING_UTC)
    found = [p for p in result.findings if p.code == "date.in_future"]
    assert len(found) == 1
    assert "2026-05-02" in found[0].message


def test_a_zone_west_of_utc_moves_today_back() -> None:
    """At 2026-05-02T03:00Z it is still 1 May in New York: a birthday on 2 May is future."""
    early = dt.datetime(2026, 5, 2, 3, 0, tzinfo=dt.UTC)
    born_today = Customer.person_named(
        family="Smith", person=PersonProfile(name=PersonName(given="Ann"), birthday=MAY_2)
    )
    assert not NormalisationPipeline().check(born_today, now=early).findings
    in_new_york = NormalisationPipeline(time_zone="America/New_York").check(born_today, now=early)
    assert [p.code for p in in_new_york.findings] == ["date.in_future"]


def test_ages_turn_over_at_local_midnight() -> None:
    """Born 2 May 2008: 18 in Shanghai at 2026-05-01T17:00Z, still 17 by the UTC date."""
    spec = ValidationSpec(min_age=18, age_severity="warning")
    person = Customer.person_named(
        family="张",
        person=PersonProfile(name=PersonName(family="张"), birthday=dt.date(2008, 5, 2)),
    )
    assert [p.code for p in validate(person, spec=spec, now=EVENING_UTC)] == ["age.too_young"]
    assert validate(person, spec=spec, now=EVENING_UTC, time_zone="Asia/Shanghai") == ()
    pipeline = NormalisationPipeline(validation=spec, time_zone="Asia/Shanghai")
    assert pipeline.check(person, now=EVENING_UTC).findings == ()


def test_the_pipeline_time_zone_applies_when_now_defaults_to_updated_at() -> None:
    """With no now=, the record's updated_at is read in the pipeline's zone too."""
    customer = Customer.person_named(
        family="张", acquired_on=MAY_2, created_at=EVENING_UTC, updated_at=EVENING_UTC
    )
    assert NormalisationPipeline(time_zone="Asia/Shanghai").check(customer).findings == ()


def test_vendor_ages_use_the_time_zone() -> None:
    """evaluate_vendor compares ages on the local date when given a time zone."""
    person = Customer.person_named(
        family="张",
        id="c1",
        person=PersonProfile(name=PersonName(family="张"), birthday=dt.date(2008, 5, 2)),
    )
    record = VendorRecord(customer_id="c1", elements={"age": 18})
    spec = VendorEvaluationSpec(requested=("age",), age_tolerance_years=0)
    utc = evaluate_vendor([person], [record], now=EVENING_UTC, spec=spec)
    local = evaluate_vendor(
        [person], [record], now=EVENING_UTC, spec=spec, time_zone="Asia/Shanghai"
    )
    assert (utc.elements[0].agreed, local.elements[0].agreed) == (0, 1)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "UTC+8", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused_with_a_code(zone: str) -> None:
    """A name zoneinfo does not know is a coded ValidationError, not ZoneInfoNotFoundError."""
    with pytest.raises(ValidationError) as caught:
        NormalisationPipeline(time_zone=zone)
    assert caught.value.problems[0].path == "$.time_zone"
    assert caught.value.codes == ("timezone.unknown",), "one code for a bad zone, as segmentation"
    with pytest.raises(ValidationError) as caught:
        validate(_acquired_on_may_2(), now=EVENING_UTC, time_zone=zone)
    assert caught.value.problems[0].path == "$.time_zone"
    assert caught.value.codes == ("timezone.unknown",)


def test_the_time_zone_travels_with_the_pipeline_spec() -> None:
    """A pipeline with a time zone round-trips through JSON."""
    pipeline = NormalisationPipeline(default_region="CN", time_zone="Asia/Shanghai")
    assert from_json(to_json(pipeline), NormalisationPipeline) == pipeline
