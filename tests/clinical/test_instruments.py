from __future__ import annotations

import pytest

from notewell.clinical.instruments import INSTRUMENTS, instrument, normalise_code


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("PHQ-9", "PHQ-9"),
        ("phq9", "PHQ-9"),
        ("PHQ 9", "PHQ-9"),
        (" gad_7 ", "GAD-7"),
        ("pcl5", "PCL-5"),
        ("k10", "K10"),
        ("audit c", "AUDIT-C"),
        ("Phq-2", "PHQ-2"),
        ("gad2", "GAD-2"),
        ("PHQ8", "PHQ-8"),
    ],
)
def test_codes_are_found_whatever_their_case_and_spacing(
    code: str, expected: str
) -> None:
    found = instrument(code)
    assert found is not None
    assert found.code == expected
    assert normalise_code(code) == expected


def test_unknown_codes_are_not_in_the_catalogue() -> None:
    assert instrument("WSAS") is None
    assert instrument("") is None
    assert normalise_code("  WSAS ") == "WSAS"


@pytest.mark.parametrize(
    ("code", "score", "band"),
    [
        ("PHQ-9", 0, "minimal"),
        ("PHQ-9", 4, "minimal"),
        ("PHQ-9", 5, "mild"),
        ("PHQ-9", 9, "mild"),
        ("PHQ-9", 10, "moderate"),
        ("PHQ-9", 14, "moderate"),
        ("PHQ-9", 15, "moderately severe"),
        ("PHQ-9", 19, "moderately severe"),
        ("PHQ-9", 20, "severe"),
        ("PHQ-9", 27, "severe"),
        ("PHQ-8", 4, "minimal"),
        ("PHQ-8", 20, "severe"),
        ("PHQ-8", 24, "severe"),
        ("GAD-7", 0, "minimal"),
        ("GAD-7", 4, "minimal"),
        ("GAD-7", 5, "mild"),
        ("GAD-7", 9, "mild"),
        ("GAD-7", 10, "moderate"),
        ("GAD-7", 14, "moderate"),
        ("GAD-7", 15, "severe"),
        ("GAD-7", 21, "severe"),
        ("PHQ-2", 2, "negative screen"),
        ("PHQ-2", 3, "positive screen"),
        ("PHQ-2", 6, "positive screen"),
        ("GAD-2", 0, "negative screen"),
        ("GAD-2", 2, "negative screen"),
        ("GAD-2", 3, "positive screen"),
        ("PCL-5", 32, "below PTSD threshold"),
        ("PCL-5", 33, "probable PTSD"),
        ("PCL-5", 80, "probable PTSD"),
        ("K10", 10, "likely well"),
        ("K10", 19, "likely well"),
        ("K10", 20, "mild distress"),
        ("K10", 24, "mild distress"),
        ("K10", 25, "moderate distress"),
        ("K10", 29, "moderate distress"),
        ("K10", 30, "severe distress"),
        ("K10", 50, "severe distress"),
        ("AUDIT-C", 7, ""),
        ("PHQ-9", 28, ""),
    ],
)
def test_bands_at_every_boundary(code: str, score: int, band: str) -> None:
    found = instrument(code)
    assert found is not None
    assert found.severity(score) == band


def test_bands_cover_each_range_without_gaps_or_overlaps() -> None:
    for known in INSTRUMENTS:
        if not known.bands:
            continue
        assert known.bands[0].low == known.min_score, known.code
        assert known.bands[-1].high == known.max_score, known.code
        for before, after in zip(known.bands, known.bands[1:], strict=False):
            assert after.low == before.high + 1, known.code
        assert known.max_score == known.items * known.item_max, known.code
        assert known.min_score == known.items * known.item_min, known.code


def test_published_ranges_and_reliable_change_thresholds() -> None:
    expected = {
        "PHQ-9": (9, 27, 6),
        "PHQ-8": (8, 24, 0),
        "GAD-7": (7, 21, 4),
        "PHQ-2": (2, 6, 0),
        "GAD-2": (2, 6, 0),
        "PCL-5": (20, 80, 10),
        "K10": (10, 50, 0),
        "AUDIT-C": (3, 12, 0),
    }
    got = {i.code: (i.items, i.max_score, i.reliable_change) for i in INSTRUMENTS}
    assert got == expected
    audit = instrument("AUDIT-C")
    assert audit is not None
    assert audit.bands == ()
    assert "4 or more for men" in audit.note
    assert "3 or more for women" in audit.note
