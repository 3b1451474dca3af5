from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from notewell.clinical.measures import (
    InvalidMeasurement,
    describe_measure,
    summarise,
    trajectory,
    validate_measurement,
)
from notewell.measures.v1.measures_pb2 import Measurement


def ts(day: str) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(datetime.fromisoformat(day).replace(tzinfo=UTC))
    return out


def measurement(
    mid: str,
    code: str,
    total: int,
    day: str,
    items: list[int] | None = None,
) -> Measurement:
    return Measurement(
        measurement_id=mid,
        client_id="client-1",
        clinician_id="clin-1",
        instrument=code,
        total_score=total,
        item_scores=items or [],
        administered_at=ts(day),
        source="partner",
    )


def test_valid_measurements_pass() -> None:
    validate_measurement(measurement("m1", "PHQ-9", 14, "2026-09-01"))
    validate_measurement(
        measurement("m2", "PHQ-9", 14, "2026-09-01", [2, 2, 2, 2, 2, 2, 1, 1, 0])
    )
    validate_measurement(measurement("m3", "K10", 10, "2026-09-01", [1] * 10))
    # A code outside the catalogue is kept.
    validate_measurement(measurement("m4", "WSAS", 22, "2026-09-01"))


@pytest.mark.parametrize(
    ("m", "code", "reason"),
    [
        (measurement("", "PHQ-9", 3, "2026-09-01"), "missing_field", "measurement_id"),
        (measurement("m", "", 3, "2026-09-01"), "missing_field", "instrument"),
        (
            Measurement(
                measurement_id="m",
                client_id="c",
                clinician_id="x",
                instrument="PHQ-9",
                total_score=3,
            ),
            "missing_field",
            "administered_at",
        ),
        (measurement("m", "PHQ-9", 28, "2026-09-01"), "score_out_of_range", "range"),
        (measurement("m", "PHQ-9", -1, "2026-09-01"), "score_out_of_range", "range"),
        (measurement("m", "K10", 9, "2026-09-01"), "score_out_of_range", "range"),
        (measurement("m", "GAD-7", 5, "2026-09-01", [1, 1, 3]), "wrong_item_count", "7"),
        (
            measurement("m", "GAD-7", 5, "2026-09-01", [1, 1, 1, 1, 1, 1, 1]),
            "items_do_not_sum",
            "sum",
        ),
        (
            measurement("m", "GAD-7", 7, "2026-09-01", [4, 0, 0, 0, 0, 3, 0]),
            "score_out_of_range",
            "item",
        ),
        (measurement("m", "WSAS", -2, "2026-09-01"), "score_out_of_range", "negative"),
        (measurement("m", "WSAS", 5, "2026-09-01", [1, 1]), "items_do_not_sum", "sum"),
    ],
)
def test_invalid_measurements_give_reasons_without_values(
    m: Measurement, code: str, reason: str
) -> None:
    if not m.client_id:
        m.client_id = "c"
    with pytest.raises(InvalidMeasurement) as err:
        validate_measurement(m)
    assert err.value.code == code
    assert reason in err.value.reason
    assert str(m.total_score) not in err.value.reason.split()


def test_reasons_never_repeat_reported_scores() -> None:
    for m in (
        measurement("m", "PHQ-9", 99, "2026-09-01"),
        measurement("m", "GAD-7", 88, "2026-09-01", [77] * 7),
        measurement("m", "WSAS", 66, "2026-09-01", [55]),
    ):
        with pytest.raises(InvalidMeasurement) as err:
            validate_measurement(m)
        for value in ("99", "88", "77", "66", "55"):
            assert value not in err.value.reason


def test_missing_client_and_clinician_ids_are_invalid() -> None:
    m = measurement("m", "PHQ-9", 3, "2026-09-01")
    m.client_id = ""
    with pytest.raises(InvalidMeasurement, match="client_id is missing"):
        validate_measurement(m)
    m.client_id = "c"
    m.clinician_id = " "
    with pytest.raises(InvalidMeasurement, match="clinician_id is missing"):
        validate_measurement(m)


def series() -> list[Measurement]:
    return [
        measurement("p3", "PHQ-9", 16, "2026-11-16"),
        measurement("p1", "phq9", 21, "2026-09-01"),
        measurement("g1", "GAD-7", 12, "2026-09-01"),
        measurement("p2", "PHQ-9", 18, "2026-10-01"),
        measurement("p4", "PHQ 9", 14, "2026-11-30", [2, 2, 2, 2, 2, 2, 0, 0, 2]),
        measurement("g2", "GAD-7", 8, "2026-11-30"),
        measurement("p4", "PHQ 9", 14, "2026-11-30", [2, 2, 2, 2, 2, 2, 0, 0, 2]),
    ]


def test_summaries_per_instrument_with_changes_from_intake_and_previous() -> None:
    gad, phq = summarise(series())

    assert phq.instrument == "PHQ-9"
    assert phq.context_id == "measure:PHQ-9"
    assert phq.count == 4  # the redelivered p4 counts once
    assert phq.latest_score == 14
    assert phq.latest_at == ts("2026-11-30")
    assert phq.severity == "moderate"
    assert phq.max_score == 27
    assert phq.has_previous and phq.change_since_previous == -2
    assert phq.has_baseline and phq.change_since_baseline == -7
    assert phq.baseline_at == ts("2026-09-01")
    assert phq.reliable_change == "improved"
    assert list(phq.item_flags) == [
        "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) scored 2"
    ]

    assert gad.instrument == "GAD-7"
    assert gad.change_since_baseline == -4
    assert gad.change_since_previous == -4
    assert gad.reliable_change == "improved"
    assert gad.severity == "mild"
    assert list(gad.item_flags) == []


@pytest.mark.parametrize(
    ("code", "first", "last", "expected"),
    [
        ("PHQ-9", 20, 14, "improved"),
        ("PHQ-9", 20, 15, "no reliable change"),
        ("PHQ-9", 14, 19, "no reliable change"),
        ("PHQ-9", 14, 20, "deteriorated"),
        ("GAD-7", 12, 8, "improved"),
        ("GAD-7", 12, 9, "no reliable change"),
        ("GAD-7", 8, 12, "deteriorated"),
        ("PCL-5", 50, 40, "improved"),
        ("PCL-5", 50, 41, "no reliable change"),
        ("PCL-5", 30, 40, "deteriorated"),
        ("K10", 30, 12, ""),
        ("WSAS", 30, 12, ""),
    ],
)
def test_reliable_change_against_intake(
    code: str, first: int, last: int, expected: str
) -> None:
    (summary,) = summarise(
        [
            measurement("a", code, first, "2026-09-01"),
            measurement("b", code, last, "2026-10-01"),
        ]
    )
    assert summary.reliable_change == expected
    assert summary.change_since_baseline == last - first


def test_a_single_administration_has_no_comparison() -> None:
    (summary,) = summarise([measurement("a", "PHQ-9", 9, "2026-09-01", [1] * 9)])
    assert summary.count == 1
    assert not summary.has_previous and not summary.has_baseline
    assert summary.reliable_change == ""
    assert list(summary.item_flags) == [
        "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) scored 1"
    ]
    assert describe_measure(summary) == (
        "PHQ-9 on 2026-09-01: 9 of 27 (mild); PHQ-9 item 9 (thoughts of being better "
        "off dead or of self-harm) scored 1."
    )
    (plain,) = summarise([measurement("b", "GAD-2", 3, "2026-09-01")])
    assert describe_measure(plain) == "GAD-2 on 2026-09-01: 3 of 6 (positive screen)."


def test_item_nine_at_zero_is_not_flagged() -> None:
    (summary,) = summarise(
        [measurement("a", "PHQ-9", 9, "2026-09-01", [1, 1, 1, 1, 1, 1, 1, 2, 0])]
    )
    assert list(summary.item_flags) == []


def test_trajectory_with_reliable_change_between_neighbours() -> None:
    points = trajectory(series(), "phq9")
    assert [(p[0], p[1], p[2], p[3]) for p in points] == [
        (ts("2026-09-01"), 21, "severe", ""),
        (ts("2026-10-01"), 18, "moderately severe", "no reliable change"),
        (ts("2026-11-16"), 16, "moderately severe", "no reliable change"),
        (ts("2026-11-30"), 14, "moderate", "no reliable change"),
    ]
    assert trajectory(series(), "PCL-5") == []


def test_describe_measure_says_every_figure() -> None:
    gad, phq = summarise(series())
    assert phq.previous_at == ts("2026-11-16")
    assert describe_measure(phq) == (
        "PHQ-9 on 2026-11-30: 14 of 27 (moderate); 7 lower than at intake on "
        "2026-09-01 (reliable improvement); 2 lower than on 2026-11-16; "
        "4 administrations on record; PHQ-9 item 9 (thoughts of being better off "
        "dead or of self-harm) scored 2."
    )
    phq.ClearField("previous_at")
    assert describe_measure(phq).startswith(
        "PHQ-9 on 2026-11-30: 14 of 27 (moderate); 7 lower than at intake on "
        "2026-09-01 (reliable improvement); 2 lower than at the previous administration;"
    )
    assert describe_measure(gad) == (
        "GAD-7 on 2026-11-30: 8 of 21 (mild); 4 lower than at intake on 2026-09-01 "
        "(reliable improvement); 2 administrations on record."
    )


def test_describe_measure_without_bands_or_threshold() -> None:
    audit, wsas = summarise(
        [
            measurement("a", "AUDIT-C", 5, "2026-09-01"),
            measurement("b", "AUDIT-C", 5, "2026-10-01"),
            measurement("c", "WSAS", 20, "2026-09-01"),
            measurement("d", "WSAS", 24, "2026-10-01"),
        ]
    )
    assert describe_measure(audit) == (
        "AUDIT-C on 2026-10-01: 5 of 12; screen threshold 4 or more for men, 3 or "
        "more for women, sex not recorded; the same as at intake on 2026-09-01; "
        "2 administrations on record."
    )
    assert describe_measure(wsas) == (
        "WSAS on 2026-10-01: 24; 4 higher than at intake on 2026-09-01; "
        "2 administrations on record."
    )
