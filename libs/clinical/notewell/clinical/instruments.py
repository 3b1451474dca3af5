"""Measurement-based-care instruments: score ranges, severity bands and the change
that counts as reliable, from each instrument's published cut-offs.

For every instrument here a lower score means fewer symptoms (``lower_is_better``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from notewell.measures.v1.measures_pb2 import SeverityBand


@dataclass(frozen=True)
class ItemFlag:
    """An item whose score at or above ``at_least`` needs the clinician's attention."""

    item: int  # 1-based, in the instrument's order
    description: str
    at_least: int = 1


@dataclass(frozen=True, eq=False)
class Instrument:
    code: str
    name: str
    items: int
    item_min: int
    item_max: int
    min_score: int
    max_score: int
    # Contiguous, covering min_score..max_score; empty where no bands are published.
    bands: tuple[SeverityBand, ...] = ()
    # Smallest change in total (either way) that counts as reliable; 0 when none is
    # published for the instrument.
    reliable_change: int = 0
    item_flags: tuple[ItemFlag, ...] = ()
    # Said beside the score where the bands cannot be applied, e.g. AUDIT-C.
    note: str = ""
    sources: tuple[str, ...] = field(default=(), compare=False)
    # Whether a fall in the total is an improvement; true for every instrument here.
    lower_is_better: bool = True

    def severity(self, score: int) -> str:
        """The band label for a total, or "" when the instrument has no bands or the
        total lies outside them."""
        for band in self.bands:
            if band.low <= score <= band.high:
                return band.label
        return ""


def _bands(*bands: tuple[str, int, int]) -> tuple[SeverityBand, ...]:
    return tuple(SeverityBand(label=n, low=lo, high=hi) for n, lo, hi in bands)


# PHQ-9 bands at 5/10/15/20 (Kroenke, Spitzer & Williams, 2001). A reliable change of
# 6 points is the criterion of the English NHS Talking Therapies (IAPT) programme for
# reliable improvement or deterioration (IAPT Manual, NCCMH 2018; Gyani et al., 2013).
PHQ9 = Instrument(
    code="PHQ-9",
    name="Patient Health Questionnaire-9",
    items=9,
    item_min=0,
    item_max=3,
    min_score=0,
    max_score=27,
    bands=_bands(
        ("minimal", 0, 4),
        ("mild", 5, 9),
        ("moderate", 10, 14),
        ("moderately severe", 15, 19),
        ("severe", 20, 27),
    ),
    reliable_change=6,
    item_flags=(
        ItemFlag(9, "thoughts of being better off dead or of self-harm", at_least=1),
    ),
    sources=("Kroenke et al., 2001", "NCCMH IAPT Manual, 2018"),
)

# PHQ-8 drops the PHQ-9's ninth item and keeps its cut-offs (Kroenke et al., 2009).
# No reliable-change threshold is published for it, so none is applied.
PHQ8 = Instrument(
    code="PHQ-8",
    name="Patient Health Questionnaire-8",
    items=8,
    item_min=0,
    item_max=3,
    min_score=0,
    max_score=24,
    bands=_bands(
        ("minimal", 0, 4),
        ("mild", 5, 9),
        ("moderate", 10, 14),
        ("moderately severe", 15, 19),
        ("severe", 20, 24),
    ),
    sources=("Kroenke et al., 2009",),
)

# GAD-7 bands at 5/10/15 (Spitzer, Kroenke, Williams & Löwe, 2006). Reliable change of
# 4 points as in the NHS Talking Therapies (IAPT) criteria (NCCMH IAPT Manual, 2018);
# Bischoff et al. (2020) derive a stricter 6 from Jacobson-Truax in a US sample.
GAD7 = Instrument(
    code="GAD-7",
    name="Generalized Anxiety Disorder-7",
    items=7,
    item_min=0,
    item_max=3,
    min_score=0,
    max_score=21,
    bands=_bands(
        ("minimal", 0, 4),
        ("mild", 5, 9),
        ("moderate", 10, 14),
        ("severe", 15, 21),
    ),
    reliable_change=4,
    sources=("Spitzer et al., 2006", "NCCMH IAPT Manual, 2018"),
)

# The two-item screens: positive at 3 or more (PHQ-2: Kroenke, Spitzer & Williams,
# 2003; GAD-2: Kroenke et al., 2007).
PHQ2 = Instrument(
    code="PHQ-2",
    name="Patient Health Questionnaire-2",
    items=2,
    item_min=0,
    item_max=3,
    min_score=0,
    max_score=6,
    bands=_bands(("negative screen", 0, 2), ("positive screen", 3, 6)),
    sources=("Kroenke et al., 2003",),
)

GAD2 = Instrument(
    code="GAD-2",
    name="Generalized Anxiety Disorder-2",
    items=2,
    item_min=0,
    item_max=3,
    min_score=0,
    max_score=6,
    bands=_bands(("negative screen", 0, 2), ("positive screen", 3, 6)),
    sources=("Kroenke et al., 2007",),
)

# PCL-5: the published provisional cut-off is a range of 31-33 (Weathers et al., 2013);
# 33 is the point Bovin et al. (2016) validated against clinical interview in veterans,
# so it is used here. A change of 10 points is the clinically meaningful change the
# National Center for PTSD suggests for monitoring (Weathers et al., 2013), used as the
# reliable-change threshold.
PCL5 = Instrument(
    code="PCL-5",
    name="PTSD Checklist for DSM-5",
    items=20,
    item_min=0,
    item_max=4,
    min_score=0,
    max_score=80,
    bands=_bands(("below PTSD threshold", 0, 32), ("probable PTSD", 33, 80)),
    reliable_change=10,
    sources=("Weathers et al., 2013", "Bovin et al., 2016"),
)

# K10 scored 1-5 per item, 10-50 in total, with the primary-care bands at 20/25/30
# (Kessler et al., 2002; Andrews & Slade, 2001).
K10 = Instrument(
    code="K10",
    name="Kessler Psychological Distress Scale",
    items=10,
    item_min=1,
    item_max=5,
    min_score=10,
    max_score=50,
    bands=_bands(
        ("likely well", 10, 19),
        ("mild distress", 20, 24),
        ("moderate distress", 25, 29),
        ("severe distress", 30, 50),
    ),
    sources=("Kessler et al., 2002", "Andrews & Slade, 2001"),
)

# AUDIT-C: positive at 4 or more for men and 3 or more for women (Bush et al., 1998;
# Bradley et al., 2003). The measurement carries no sex, so no band is assigned.
AUDITC = Instrument(
    code="AUDIT-C",
    name="Alcohol Use Disorders Identification Test - Consumption",
    items=3,
    item_min=0,
    item_max=4,
    min_score=0,
    max_score=12,
    note="screen threshold 4 or more for men, 3 or more for women",
    sources=("Bush et al., 1998", "Bradley et al., 2003"),
)

INSTRUMENTS: tuple[Instrument, ...] = (PHQ9, PHQ8, PHQ2, GAD7, GAD2, PCL5, K10, AUDITC)

_BY_KEY = {re.sub(r"[^A-Z0-9]", "", i.code): i for i in INSTRUMENTS}


def normalise_code(code: str) -> str:
    """The catalogue code for a known instrument ("phq9" -> "PHQ-9"); otherwise the
    code as given, trimmed."""
    known = instrument(code)
    return known.code if known else code.strip()


def instrument(code: str) -> Instrument | None:
    """Looks an instrument up ignoring case, spaces, hyphens and underscores."""
    return _BY_KEY.get(re.sub(r"[^A-Z0-9]", "", code.upper()))
