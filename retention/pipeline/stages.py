"""The product stages joined: one public function per stage, each taking data and a run key.

park inputs -> travel times -> indicators and gap index
            -> current survey -> gap weights
            -> retention inputs (access features, survey weights, fitted model) -> enterprise view

Every function is pure given its arguments: it reads no global state and never mutates what it
is given (results of one stage are shared, read-only, by every later stage and by every session
of the app). The key must name the data (:meth:`RunKey.check`); options a user changes without
saving them (a page's threshold, a sensitivity slider) are keyword arguments, everything saved
comes from ``key.parameters``. Front ends cache these calls on ``key.for_stage(stage)``.

The travel-time engine is called through :func:`travel_times` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import pandas as pd

from retention.access import travel_times as travel_times_module
from retention.access.engine import ParkEngine, park_streets, street_isochrones
from retention.access.indicators import (
    IndicatorParameters,
    ParkIndicators,
    indicators_for_window,
    indicators_for_windows,
)
from retention.access.network import StreetNetwork, network_from_roads
from retention.access.parameters import TimeWindow, TravelParameters
from retention.access.travel_times import TravelTimeEngine, TravelTimeResult
from retention.auth.roles import require_enterprise_in_scope
from retention.data.layers import LayerKind
from retention.errors import ParkLifeError, ValidationError
from retention.model.intent import (
    ACCESS_MODE,
    ACCESS_WINDOW,
    DEFAULT_MODEL_CATEGORIES,
    FittedRetentionModel,
    default_spec,
    fit_intent_model,
)
from retention.model.leavers import ConversionParameters, ReplacementCost
from retention.model.peer_benchmark import (
    BenchmarkParameters,
    EnterpriseRetention,
    enterprise_retention,
    model_features,
    peer_benchmark,
    residence_access,
)
from retention.model.peer_benchmark import workforce_access as _workforce_access
from retention.model.release import release_for_model
from retention.pipeline.run_key import RunKey, RunKeyMismatchError
from retention.storage.park import ParkData, load_park, park_outline
from retention.storage.store import shared_store
from retention.storage.waves import CurrentSurvey, load_current_survey
from retention.survey.analysis import AnalysisParameters, importance_weight_table
from retention.survey.privacy import load_or_create_salt
from retention.survey.weighting import enterprise_headcounts, survey_weights

__all__ = [
    "ACCESS_MODE",
    "ACCESS_WINDOW",
    "GAP_WEIGHT_METHODS",
    "GapWeights",
    "RetentionInputs",
    "current_survey",
    "engine",
    "enterprise_view",
    "gap_weights",
    "indicator_parameters",
    "indicators",
    "indicators_by_window",
    "isochrones",
    "park_extent",
    "park_inputs",
    "peer_bands",
    "retention_inputs",
    "street_network",
    "streets",
    "travel_times",
    "workforce_access",
]


# --- park inputs -------------------------------------------------------------------------------


def park_inputs(key: RunKey, *, data_dir: Path, geodata_dir: Path | None = None) -> ParkData:
    """Load the park the key names: demo layers merged with stored uploads.

    Parameters
    ----------
    key
        The run key (its park id and data version).
    data_dir
        The ParkLife data directory.
    geodata_dir
        Where demo parks live (default ``<repo>/geodata``).

    Raises
    ------
    UnknownParkError
        When there is no such park.
    RunKeyMismatchError
        When the park's files changed after the key was made (make a new key).
    """
    park = load_park(key.park_id, uploads=shared_store(data_dir).uploads, geodata_dir=geodata_dir)
    key.check(park.park_id, park.data_version)
    return park


def park_extent(park: ParkData) -> gpd.GeoDataFrame | None:
    """Return the area uploads must lie in: park-level zones, else the district, else ``None``."""
    outline = park_outline(park)
    if outline is not None:
        return outline[["geometry"]]
    if park.boundary is not None and not park.boundary.empty:
        return park.boundary[["geometry"]]
    return None


# --- travel times and indicators -----------------------------------------------------------------


def streets(park: ParkData, key: RunKey) -> TravelTimeEngine:
    """Return the park's street graphs and transit model for the key (no matrix): what
    isochrones and route snapping need, shared with :func:`engine` when given to it."""
    key.check(park.park_id, park.data_version)
    return park_streets(
        park.layers, params=key.parameters.travel, windows=key.parameters.time_windows
    )


def engine(park: ParkData, key: RunKey, *, streets: TravelTimeEngine | None = None) -> ParkEngine:
    """Build the park's travel-time engine (``retention.access.engine.ParkEngine``) for the key.

    Built once per park and run key and shared read-only: its ``result`` is
    :func:`travel_times` and scenarios use its delta operations; ``streets`` (:func:`streets`
    of the same park and key, which isochrones use) is shared, not built again. Uses the key's
    travel parameters and time windows; this and :func:`travel_times` are the places the
    pipeline runs the engine (looked up on its module at call time, so tests can count runs).
    """
    key.check(park.park_id, park.data_version)
    return travel_times_module.park_engine(
        park,
        params=key.parameters.travel,
        windows=key.parameters.time_windows,
        streets=streets,
    )


def travel_times(
    park: ParkData, key: RunKey, *, engine: ParkEngine | None = None
) -> TravelTimeResult:
    """Return minutes from every origin to every amenity by mode and window (the engine run).

    Uses the key's travel parameters and time windows; ``engine`` (:func:`engine` for the same
    park and key) gives its result instead of a new run.

    Raises
    ------
    RunKeyMismatchError
        When ``engine`` was built with other travel parameters or time windows than the key's.
    """
    key.check(park.park_id, park.data_version)
    if engine is None:
        return travel_times_module.travel_times_for_park(
            park, params=key.parameters.travel, windows=key.parameters.time_windows
        )
    _check_travel(engine.result, key)
    return engine.result


def _check_survey(survey: CurrentSurvey, key: RunKey) -> None:
    if survey.version != key.survey_version:
        raise RunKeyMismatchError(
            f"the survey is version {survey.version!r}, the run key names "
            f"{key.survey_version!r}; expected current_survey(park, key, ...)"
        )


def _check_travel(travel: TravelTimeResult, key: RunKey) -> None:
    if travel.params != key.parameters.travel or travel.windows != key.parameters.time_windows:
        raise RunKeyMismatchError(
            "travel times were computed with other travel parameters or time windows than the "
            "run key's; expected the result of travel_times(park, key)"
        )


def indicator_parameters(
    key: RunKey,
    *,
    threshold_minutes: float = 15.0,
    demand: str = "residence",
    catchment_minutes: float | None = None,
) -> IndicatorParameters:
    """Return the indicator options of the key's parameters with a page's display choices."""
    return key.parameters.indicator_parameters(
        threshold_minutes=threshold_minutes, demand=demand, catchment_minutes=catchment_minutes
    )


def indicators(
    travel: TravelTimeResult,
    key: RunKey,
    *,
    mode: str,
    window: str,
    threshold_minutes: float = 15.0,
    demand: str = "residence",
    weights: Mapping[str, float] | None = None,
) -> ParkIndicators:
    """Return every indicator and the gap index for one mode and window.

    Parameters
    ----------
    travel
        ``travel_times(park, key)``.
    key
        The run key (decay, gap targets, living circles from its parameters).
    mode, window
        E.g. ``"walk"``, ``"weekday_evening"``.
    threshold_minutes
        Time budget of cumulative opportunities (a display choice).
    demand
        Origin set whose people compete for supply (``DEMAND_SETS``).
    weights
        Gap-index category weights (``GapWeights.weights``); ``None`` for equal weights.
    """
    _check_travel(travel, key)
    return indicators_for_window(
        travel,
        mode=mode,
        window=window,
        parameters=indicator_parameters(key, threshold_minutes=threshold_minutes, demand=demand),
        weights=None if weights is None else dict(weights),
    )


def indicators_by_window(
    travel: TravelTimeResult,
    key: RunKey,
    *,
    mode: str,
    threshold_minutes: float = 15.0,
    demand: str = "residence",
    weights: Mapping[str, float] | None = None,
) -> dict[str, ParkIndicators]:
    """Return :func:`indicators` for every time window of the key at once (window key ->
    indicators), sharing the work the windows have in common (the same numbers as one call
    per window; ``retention.access.indicators.indicators_for_windows``)."""
    _check_travel(travel, key)
    return indicators_for_windows(
        travel,
        mode=mode,
        parameters=indicator_parameters(key, threshold_minutes=threshold_minutes, demand=demand),
        weights=None if weights is None else dict(weights),
    )


# --- survey and weights ------------------------------------------------------------------------


def current_survey(
    park: ParkData, key: RunKey, *, data_dir: Path, geodata_dir: Path | None = None
) -> CurrentSurvey:
    """Return the survey every page analyses: the park's stored waves, else its demo workbook.

    The demo survey's respondents are pseudonymised with the park's salt (created on first use
    in ``data_dir``) and linked to the park's enterprises and residences.
    """
    key.check(park.park_id, park.data_version)
    return load_current_survey(
        park,
        store=shared_store(data_dir).waves,
        salt=load_or_create_salt(park.park_id, data_dir=data_dir),
        geodata_dir=geodata_dir,
    )


GAP_WEIGHT_METHODS: tuple[str, ...] = ("equal", "stated", "derived")
"""Gap-index weight choices: equal, survey stated importance, survey derived importance."""
_IMPORTANCE_KIND: Mapping[str, str] = MappingProxyType(
    {"stated": "stated", "derived": "derived_intent"}
)


@dataclass(frozen=True)
class GapWeights:
    """Category weights for the gap index and the table that explains them.

    Attributes
    ----------
    method
        One of ``GAP_WEIGHT_METHODS``.
    weights
        ``(category, weight)`` pairs (hashable); ``None`` for equal weights.
    table
        ``category``, ``weight``, ``n``, ``suppressed`` (k-anonymous; empty for equal weights).
    respondents
        Respondents the weights rest on (0 for equal weights).
    origin
        Where the survey came from: ``stored``, ``demo`` or ``none`` (empty for equal weights).
    error
        Why survey weights could not be derived (then ``weights`` is ``None``).
    """

    method: str
    weights: tuple[tuple[str, float], ...] | None
    table: pd.DataFrame
    respondents: int
    origin: str
    error: str = ""


def gap_weights(
    park: ParkData, survey: CurrentSurvey | None, key: RunKey, *, method: str
) -> GapWeights:
    """Return gap-index weights: equal, or survey importance weighted to enterprise headcounts.

    Stated importance is the respondents' own rating; derived importance is the correlation of
    each category's satisfaction with intending to stay
    (``retention.survey.analysis.importance_weight_table``). Categories with fewer than the key's
    k answers are hidden and weigh 0.

    Parameters
    ----------
    park
        The park (its enterprise headcounts weight the survey).
    survey
        ``current_survey(park, key, ...)``; not read (may be ``None``) for equal weights.
    key
        The run key (k from its privacy parameters).
    method
        One of ``GAP_WEIGHT_METHODS``.
    """
    if method not in GAP_WEIGHT_METHODS:
        raise ValueError(f"unknown weights {method!r}; expected one of {GAP_WEIGHT_METHODS}")
    key.check(park.park_id, park.data_version)
    empty = pd.DataFrame(columns=["category", "weight", "n", "suppressed"])
    if method == "equal":
        return GapWeights(method, None, empty, 0, "")
    if survey is None:
        raise ValueError(f"weights {method!r} need the park's current survey")
    _check_survey(survey, key)
    if survey.survey.empty:
        return GapWeights(method, None, empty, 0, survey.origin, error="no survey")
    try:
        headcounts = enterprise_headcounts(park.layer(LayerKind.ENTERPRISES))
        weights = survey_weights(survey.survey, headcounts).weights
        table = importance_weight_table(
            survey.survey,
            weights,
            method=_IMPORTANCE_KIND[method],  # type: ignore[arg-type]
            parameters=AnalysisParameters(privacy=key.parameters.privacy),
        )
    except ParkLifeError as exc:
        return GapWeights(method, None, empty, len(survey.survey), survey.origin, str(exc))
    used = table.loc[~table["suppressed"]]
    pairs = tuple((str(c), float(w)) for c, w in zip(used["category"], used["weight"], strict=True))
    return GapWeights(method, pairs, table, len(survey.survey), survey.origin)


# --- fitted model and enterprise view -----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RetentionInputs:
    """The survey joined with access, and the intent model fitted on it, for one park.

    Attributes
    ----------
    features
        Respondents with access features and survey weights (``peer_benchmark.model_features``).
    headcounts
        Employees per enterprise id.
    access_columns, sat_columns
        Feature columns of the access and satisfaction terms.
    model
        The fitted intent model, or ``None`` with ``error`` saying why not.
    error
        Why the model could not be fitted (empty when it was).
    survey_origin, survey_waves, survey_version
        Where the survey came from (``stored`` or ``demo``), the stored wave labels used, and
        the survey's version.
    travel_parameters, time_windows
        The travel parameters and time windows the access features were computed with.
    withheld, merged
        Respondents left out of ``features`` and the fit by disclosure control, and the
        ``(column, level)`` merged into their reference (``retention.model.release``).
    respondents
        Every respondent with access features and weights over all of them, for the peer
        bands (which release answers item by item themselves); ``None``: ``features``.
    """

    features: pd.DataFrame
    headcounts: Mapping[str, float]
    access_columns: tuple[str, ...]
    sat_columns: tuple[str, ...]
    model: FittedRetentionModel | None
    error: str
    survey_origin: str = "demo"
    survey_waves: tuple[str, ...] = ()
    survey_version: str = ""
    travel_parameters: TravelParameters = field(default_factory=TravelParameters)
    time_windows: tuple[TimeWindow, ...] = ()
    withheld: int = 0
    merged: tuple[tuple[str, str], ...] = ()
    respondents: pd.DataFrame | None = None

    @property
    def every_respondent(self) -> pd.DataFrame:
        """Every respondent (``respondents``, or ``features`` when it was not kept)."""
        return self.features if self.respondents is None else self.respondents


def retention_inputs(
    park: ParkData, travel: TravelTimeResult, survey: CurrentSurvey, key: RunKey
) -> RetentionInputs:
    """Join the survey with walking access from each respondent's residence and fit the model.

    Access features are minutes to the nearest canteen, grocery, clinic and sports court on
    foot in :data:`ACCESS_WINDOW` (``residence_access``); respondents are weighted to enterprise
    headcounts (``survey_weights``). A survey that cannot support the model gives
    ``model=None`` and the reason in ``error`` (the page shows it), not an exception.
    """
    key.check(park.park_id, park.data_version)
    _check_travel(travel, key)
    _check_survey(survey, key)
    headcounts = enterprise_headcounts(park.layer(LayerKind.ENTERPRISES))
    weights = survey_weights(survey.survey, headcounts).weights
    access = residence_access(
        travel.minutes_for(ACCESS_MODE, ACCESS_WINDOW),
        travel.amenities["category"].to_numpy(),
        travel.origins,
        available=travel.available_mask(ACCESS_WINDOW),
        mode=ACCESS_MODE,
        window=ACCESS_WINDOW,
        model_categories=DEFAULT_MODEL_CATEGORIES,
    )
    features = respondents = model_features(survey.survey, access, weights)
    model: FittedRetentionModel | None = None
    error = ""
    withheld = 0
    merged: tuple[tuple[str, str], ...] = ()
    try:
        # Disclosure rule 5: fitted, weighted and applied on released respondents only, so no
        # model figure moves with the answers of a group under k (retention.model.release).
        released = release_for_model(
            features,
            default_spec(weight="weight"),
            privacy=key.parameters.privacy,
            headcounts=headcounts,
        )
        features, withheld, merged = released.features, released.withheld, released.merged
        model = fit_intent_model(features, released.spec)
    except ValidationError as exc:  # includes ModelFitError
        error = str(exc)
    return RetentionInputs(
        features=features,
        headcounts=dict(headcounts),
        access_columns=tuple(c for c in access.columns if c != "residence_id"),
        sat_columns=tuple(f"sat_{c.value}" for c in DEFAULT_MODEL_CATEGORIES),
        model=model,
        error=error,
        survey_origin=survey.origin,
        survey_waves=tuple(record.wave for record in survey.waves),
        survey_version=survey.version,
        travel_parameters=key.parameters.travel,
        time_windows=key.parameters.time_windows,
        withheld=withheld,
        merged=merged,
        respondents=respondents,
    )


def _check_inputs(inputs: RetentionInputs, key: RunKey) -> None:
    if (
        inputs.survey_version != key.survey_version
        or inputs.travel_parameters != key.parameters.travel
        or inputs.time_windows != key.parameters.time_windows
    ):
        raise RunKeyMismatchError(
            "retention inputs were built for another survey version, travel parameters or "
            "time windows than the run key's; expected retention_inputs(..., key)"
        )


def enterprise_view(
    inputs: RetentionInputs,
    key: RunKey,
    enterprise_id: str,
    *,
    conversion: ConversionParameters | None = None,
    cost: ReplacementCost | None = None,
) -> EnterpriseRetention:
    """Return one enterprise's predicted intent, expected leavers with cost, and drivers.

    ``conversion`` and ``cost`` default to the key's saved ones (a page's sensitivity sliders
    pass their own); k always comes from the key. Suppressed below k respondents.

    Raises
    ------
    ValueError
        When ``inputs.model`` is ``None`` (read ``inputs.error`` first).
    AccessDeniedError
        When the key's user scope may not see ``enterprise_id``.
    """
    require_enterprise_in_scope(key.user_scope, enterprise_id)
    _check_inputs(inputs, key)
    if inputs.model is None:
        raise ValueError(f"no fitted model: {inputs.error}")
    return enterprise_retention(
        inputs.model,
        inputs.features,
        enterprise_id,
        inputs.headcounts.get(enterprise_id, 0.0),
        conversion=key.parameters.conversion if conversion is None else conversion,
        cost=key.parameters.replacement_cost if cost is None else cost,
        privacy=key.parameters.privacy,
    )


def peer_bands(
    inputs: RetentionInputs, key: RunKey, enterprise_id: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the enterprise's access and satisfaction against anonymous peer bands.

    ``peer_benchmark`` over ``inputs.access_columns`` then ``inputs.sat_columns`` with the key's k;
    ``AccessDeniedError`` when the key's user scope may not see ``enterprise_id``.
    """
    require_enterprise_in_scope(key.user_scope, enterprise_id)
    _check_inputs(inputs, key)
    parameters = BenchmarkParameters(privacy=key.parameters.privacy)
    frame = inputs.every_respondent
    return (
        peer_benchmark(frame, enterprise_id, inputs.access_columns, parameters=parameters),
        peer_benchmark(frame, enterprise_id, inputs.sat_columns, parameters=parameters),
    )


def workforce_access(
    access: ParkIndicators, enterprise_id: str, *, user_scope: str | None = None
) -> pd.DataFrame:
    """Return walking minutes at the enterprise and in its dormitories (model categories).

    ``access`` is ``indicators(travel, key, mode=ACCESS_MODE, window=ACCESS_WINDOW)``, the same
    figures the Gaps page shows for that mode and window. ``user_scope`` is the run key's
    (``AccessDeniedError`` when it may not see ``enterprise_id``).
    """
    require_enterprise_in_scope(user_scope, enterprise_id)
    return _workforce_access(
        access.nearest, access.origins, enterprise_id, categories=DEFAULT_MODEL_CATEGORIES
    )


# --- isochrones ---------------------------------------------------------------------------------


def street_network(park: ParkData, key: RunKey) -> StreetNetwork | None:
    """Return the park's street network (``None`` when it has no roads layer)."""
    key.check(park.park_id, park.data_version)
    roads = park.layers.get(LayerKind.ROADS)
    return None if roads is None or roads.empty else network_from_roads(roads)


def isochrones(
    streets: TravelTimeEngine, key: RunKey, lon: float, lat: float, *, mode: str
) -> gpd.GeoDataFrame | None:
    """Return the 5/10/15-minute areas reachable from a point on foot or by e-bike, searched on
    the park's street graphs (:func:`streets`, which :func:`engine` shares); ``None`` when the
    park has no roads layer.

    ``mode`` ``"ebike"`` rides the bike network at the key's e-bike speed; any other mode walks
    (transit isochrones are not drawn: the page says so). Speeds and snapping distance are the
    graphs' travel parameters, which must be the key's.

    Raises
    ------
    RunKeyMismatchError
        When ``streets`` was built with other travel parameters than the key's.
    """
    if streets.params != key.parameters.travel:
        raise RunKeyMismatchError(
            "the street graphs were built with other travel parameters than the run key's; "
            "expected streets(park, key)"
        )
    if streets.approximate:
        return None
    return street_isochrones(streets, lon, lat, mode="ebike" if mode == "ebike" else "walk")
