"""The UI-free pipeline: every product stage joined, keyed on one frozen run key.

Front ends (pages through ``ui/`` caches, the ``parklife`` CLI, exports, batch jobs) call these
functions with a :class:`RunKey` from :func:`run_key` and so show the same numbers::

    key = run_key("jinshan", data_dir=data_dir)
    park = park_inputs(key, data_dir=data_dir)
    travel = travel_times(park, key)
    gaps = indicators(travel, key, mode="walk", window="weekday_evening")
    scores = score_tables(park, travel, key, window="weekday_evening")

See ``retention.pipeline.stages`` for the stages and ``retention.pipeline.run_key`` for the key.
"""

from __future__ import annotations

from retention.pipeline.run_key import (
    RunKey,
    RunKeyMismatchError,
    Stage,
    parameters_digest,
    park_key,
    run_key,
)
from retention.pipeline.scores import ParkScores, indicator_columns, score_tables
from retention.pipeline.stages import (
    ACCESS_MODE,
    ACCESS_WINDOW,
    GAP_WEIGHT_METHODS,
    GapWeights,
    RetentionInputs,
    current_survey,
    engine,
    enterprise_view,
    gap_weights,
    indicator_parameters,
    indicators,
    indicators_by_window,
    isochrones,
    park_extent,
    park_inputs,
    peer_bands,
    retention_inputs,
    street_network,
    streets,
    travel_times,
    workforce_access,
)

__all__ = [
    "ACCESS_MODE",
    "ACCESS_WINDOW",
    "GAP_WEIGHT_METHODS",
    "GapWeights",
    "ParkScores",
    "RetentionInputs",
    "RunKey",
    "RunKeyMismatchError",
    "Stage",
    "current_survey",
    "engine",
    "enterprise_view",
    "gap_weights",
    "indicator_columns",
    "indicator_parameters",
    "indicators",
    "indicators_by_window",
    "isochrones",
    "parameters_digest",
    "park_extent",
    "park_inputs",
    "park_key",
    "peer_bands",
    "retention_inputs",
    "run_key",
    "score_tables",
    "street_network",
    "streets",
    "travel_times",
    "workforce_access",
]
