"""Tests for retention.scenario.next_steps: the Gaps page's "what next" suggestions, hand-worked on
a tiny park (four residences, one enterprise, three categories)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention.access.gaps import gap_index
from retention.errors import ParameterError, ValidationError
from retention.scenario.next_steps import NextStep, next_steps

INF = np.inf


@pytest.fixture
def tiny_park() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Origins and their gap index with equal weights and the default 5-minute targets (cap 15).

    Shortfall = (minutes - 5) / 10 clipped to 0-1; contribution = 100/3 × shortfall:

    ======  ======  =======  ======  =====  ==========
    origin  people  canteen  clinic  court  gap index
    ======  ======  =======  ======  =====  ==========
    h1      100     5 → 0    11 → .6 ∞ → 1  53.33
    h2      300     10 → .5  5 → 0   8 → .3 26.67
    h3      50      15 → 1   15 → 1  15 → 1 100
    h4      1000    5 → 0    5 → 0   5 → 0  0
    e1      500     ∞ → 1    ∞ → 1   ∞ → 1  100
    ======  ======  =======  ======  =====  ==========
    """
    origins = pd.DataFrame(
        {
            "origin_set": ["residence"] * 4 + ["enterprise"],
            "origin_id": ["h1", "h2", "h3", "h4", "e1"],
            "weight": [100.0, 300.0, 50.0, 1000.0, 500.0],
        }
    )
    nearest = pd.DataFrame(
        {
            "canteen": [5.0, 10.0, 15.0, 5.0, INF],
            "clinic": [11.0, 5.0, 15.0, 5.0, INF],
            "sports_court": [INF, 8.0, 15.0, 5.0, INF],
        }
    )
    gap = gap_index(nearest, weights={"canteen": 1.0, "clinic": 1.0, "sports_court": 1.0})
    assert gap["gap_index"].round(2).tolist() == [53.33, 26.67, 100.0, 0.0, 100.0]
    return origins, gap


def test_the_three_worst_residences_want_a_court_then_a_canteen(tiny_park) -> None:
    origins, gap = tiny_park
    # Worst three: h3 (100), h1 (53.3), h2 (26.7). People × contribution:
    # court   = 50×33.33 + 100×33.33 + 300×10    = 8,000   (450 people, 3 places; most at h1)
    # canteen = 50×33.33 + 0         + 300×16.67 = 6,666.7 (350 people, 2 places; most at h2)
    # clinic  = 50×33.33 + 100×20    + 0         = 3,666.7 (150 people, 2 places; most at h1,
    #           already chosen for the court: next is h3)
    steps = next_steps(origins, gap, origin_set="residence", worst=3, limit=3)
    assert [(s.category, s.near_id, s.people, s.places) for s in steps] == [
        ("sports_court", "h1", 450.0, 3),
        ("canteen", "h2", 350.0, 2),
        ("clinic", "h3", 150.0, 2),
    ]
    assert [s.weight for s in steps] == pytest.approx([8000.0, 20000.0 / 3, 11000.0 / 3])
    assert all(s.worst == 3 and s.origin_set == "residence" for s in steps)
    assert next_steps(origins, gap, origin_set="residence", worst=3, limit=1) == steps[:1]


def test_looking_at_fewer_places_changes_the_order(tiny_park) -> None:
    origins, gap = tiny_park
    # Worst two: h3, h1 → court 5,000 (most at h1), clinic 3,666.7 (h1 taken: h3), canteen
    # 1,666.7 (h3 alone lacks it: there, though taken).
    steps = next_steps(origins, gap, origin_set="residence", worst=2, limit=3)
    assert [(s.category, s.near_id, s.people) for s in steps] == [
        ("sports_court", "h1", 150.0),
        ("clinic", "h3", 150.0),
        ("canteen", "h3", 50.0),
    ]


def test_workers_get_their_own_suggestions_and_ties_keep_the_category_order(tiny_park) -> None:
    origins, gap = tiny_park
    steps = next_steps(origins, gap, origin_set="enterprise", worst=10, limit=3)
    # e1 lacks all three equally (500 × 33.33 each): the gap table's column order decides.
    assert [s.category for s in steps] == ["canteen", "clinic", "sports_court"]
    assert {(s.near_id, s.people, s.worst) for s in steps} == {("e1", 500.0, 1)}


def test_no_gap_no_suggestion(tiny_park) -> None:
    origins, gap = tiny_park
    served = origins.assign(weight=[0.0, 0.0, 0.0, 1000.0, 500.0])  # only h4 (no gap) has people
    assert next_steps(served, gap, origin_set="residence") == []


def test_bad_arguments_are_named(tiny_park) -> None:
    origins, gap = tiny_park
    with pytest.raises(ParameterError, match="origin_set is 'h3'"):
        next_steps(origins, gap, origin_set="h3")
    with pytest.raises(ParameterError, match="expected both at least 1"):
        next_steps(origins, gap, worst=0)
    with pytest.raises(ValidationError, match="same order as origins"):
        next_steps(origins, gap.iloc[::-1])
    assert isinstance(next_steps(origins, gap)[0], NextStep)
