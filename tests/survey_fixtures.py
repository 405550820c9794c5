"""Small survey tables for the survey tests (not a test module)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention.survey_schema import IMP_COLUMNS, SAT_COLUMNS, cast_survey_frame


def make_survey(sizes: dict[str, int], *, seed: int = 7) -> pd.DataFrame:
    """Return a canonical survey with ``sizes[enterprise]`` respondents per enterprise."""
    rng = np.random.default_rng(seed)
    rows = []
    ages = ["post70", "post80", "post90", "post00"]
    reasons = ["boring_life", "commute", "wage", "workload"]
    for enterprise, count in sizes.items():
        for i in range(count):
            row: dict[str, object] = {
                "respondent_id": f"{enterprise}-{i}",
                "enterprise_id": enterprise,
                "residence_id": f"H{i % 3}",
                "age_band": ages[int(rng.integers(0, 4))],
                "tenure_months": float(rng.integers(1, 60)),
                "shift": "two_shift",
                "wage_band": "4000-6000",
                "commute_mode": "ebike",
                "commute_minutes": float(rng.integers(5, 40)),
                "overall_satisfaction": int(rng.integers(1, 6)),
                "intent_to_leave": int(rng.integers(1, 6)),
                "reasons": list(rng.choice(reasons, int(rng.integers(0, 3)), replace=False)),
                "submitted_at": "2024-03-01 08:00:00",
                "wave": "w1",
            }
            for column in (*SAT_COLUMNS, *IMP_COLUMNS):
                row[column] = int(rng.integers(1, 6))
            rows.append(row)
    return cast_survey_frame(pd.DataFrame(rows))
