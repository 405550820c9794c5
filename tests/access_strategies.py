"""Hypothesis strategies shared by the access and gap property tests (not a test module)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

TRAVEL_MINUTES = st.one_of(st.floats(0.0, 60.0), st.just(math.inf))
"""Minutes of one origin-amenity pair: 0-60, or unreachable."""


@st.composite
def access_problems(
    draw: st.DrawFn, *, categories: Sequence[str], supply: st.SearchStrategy[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw (minutes, categories, supply, people) for 1-6 origins and 1-6 amenities."""
    n_origins = draw(st.integers(1, 6))
    n_sites = draw(st.integers(1, 6))
    minutes = draw(hnp.arrays(float, (n_origins, n_sites), elements=TRAVEL_MINUTES))
    amenity_categories = np.array(
        draw(st.lists(st.sampled_from(list(categories)), min_size=n_sites, max_size=n_sites))
    )
    amenity_supply = draw(hnp.arrays(float, n_sites, elements=supply))
    people = draw(hnp.arrays(float, n_origins, elements=st.integers(0, 5000)))
    return minutes, amenity_categories, amenity_supply, people
