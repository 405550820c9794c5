"""Access indicators computed from a travel-time matrix: nearest, cumulative, 2SFCA and E2SFCA.

Every function works on plain arrays so it does not depend on how the matrix was built: a float
``minutes`` matrix of shape ``(n_origins, n_amenities)`` where NaN or ``inf`` means unreachable,
and an optional boolean ``available`` mask (the amenity is closed in the time window or not open
to that origin's workers). A pair that is unreachable or unavailable never counts.

Conventions of the floating-catchment measures follow the PySAL ``access`` package (Luo & Wang
2003; Luo & Qi 2009): a pair is inside the catchment when its minutes are ``<= catchment``, a
step decay gives weight ``w_k`` to minutes ``<= zone_k``, and the Gaussian decay is
``exp(-t² / (2 σ²))`` without normalisation. Unlike PySAL we return 0, not NaN, for an origin
that reaches no site, and we never normalise by the demand-weighted mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from retention.access.indicator_kernel import GAUSSIAN, STEP, UNIFORM, DecayTable
from retention.data.layers import CAPACITY_UNITS, AmenityCategory
from retention.errors import ParameterError

DecayKind = Literal["step", "gaussian", "uniform"]


@dataclass(frozen=True)
class DecayFunction:
    """Distance-decay weight of a travel time, for the enhanced floating catchment (E2SFCA).

    Use the constructors :meth:`step`, :meth:`gaussian` and :meth:`uniform`.

    Parameters
    ----------
    kind
        ``"step"`` (weights by travel-time zone), ``"gaussian"`` or ``"uniform"`` (weight 1
        everywhere, which makes E2SFCA the classic 2SFCA).
    zones_minutes
        Step only: upper bounds of the zones, strictly increasing. Minutes above the last zone
        weigh 0.
    weights
        Step only: weight of each zone, in [0, 1] and not increasing.
    bandwidth_minutes
        Gaussian only: σ of ``exp(-t² / (2 σ²))``.
    source
        Where the values come from.
    """

    kind: DecayKind
    zones_minutes: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()
    bandwidth_minutes: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.kind == "step":
            _validate_step(self.zones_minutes, self.weights)
        elif self.kind == "gaussian":
            bandwidth = self.bandwidth_minutes
            if bandwidth is None or not math.isfinite(bandwidth) or bandwidth <= 0:
                raise ParameterError(
                    f"must be a positive number of minutes, got {bandwidth!r}",
                    column="bandwidth_minutes",
                )
        elif self.kind != "uniform":
            raise ParameterError(
                f"must be 'step', 'gaussian' or 'uniform', got {self.kind!r}", column="kind"
            )

    @classmethod
    def step(
        cls, zones_minutes: Sequence[float], weights: Sequence[float], *, source: str = ""
    ) -> DecayFunction:
        """Return a step decay: weight ``weights[k]`` for minutes ``<= zones_minutes[k]``."""
        return cls(
            "step",
            zones_minutes=tuple(float(z) for z in zones_minutes),
            weights=tuple(float(w) for w in weights),
            source=source,
        )

    @classmethod
    def gaussian(cls, bandwidth_minutes: float, *, source: str = "") -> DecayFunction:
        """Return a Gaussian decay ``exp(-t² / (2 σ²))`` with σ = ``bandwidth_minutes``."""
        return cls("gaussian", bandwidth_minutes=float(bandwidth_minutes), source=source)

    @classmethod
    def uniform(cls) -> DecayFunction:
        """Return the no-decay weight (1 for every reachable pair): classic 2SFCA."""
        return cls("uniform", source="Luo & Wang (2003), classic 2SFCA")

    def weight(
        self, minutes: npt.ArrayLike, *, catchment_minutes: float | None = None
    ) -> npt.NDArray[np.float64]:
        """Return the weight of each travel time; ``inf`` or NaN (unreachable) weighs 0.

        With ``catchment_minutes``, times above it weigh 0 too.
        """
        times = np.asarray(minutes)
        if self.kind == "step":
            return self._step_weight(times, catchment_minutes)
        times = np.asarray(times, dtype=float)
        reachable = np.isfinite(times)
        if catchment_minutes is not None:
            reachable &= times <= catchment_minutes
        if self.kind == "uniform":
            return reachable.astype(float)
        sigma = float(self.bandwidth_minutes or 0.0)
        safe = np.where(reachable, times, 0.0)
        return np.where(reachable, np.exp(-(safe**2) / (2.0 * sigma**2)), 0.0)

    def table(self, *, catchment_minutes: float | None) -> DecayTable:
        """Return this decay with ``catchment_minutes`` as the compiled indicator passes read it
        (``retention.access.indicator_kernel``)."""
        kind = {"step": STEP, "gaussian": GAUSSIAN, "uniform": UNIFORM}[self.kind]
        bounds, weights = self._step_zones(catchment_minutes) if self.kind == "step" else ([], [])
        return DecayTable(
            kind=kind,
            bounds=np.array(bounds, dtype=np.float64),
            weights=np.array([*weights, 0.0], dtype=np.float64),
            catchment_minutes=np.inf if catchment_minutes is None else float(catchment_minutes),
            bandwidth_minutes=float(self.bandwidth_minutes or 0.0),
        )

    def _step_zones(self, catchment_minutes: float | None) -> tuple[list[float], list[float]]:
        # Weight w_k for t <= zone_k (PySAL). A catchment inside the zones ends them there.
        bounds, weights = list(self.zones_minutes), list(self.weights)
        if catchment_minutes is not None:
            inside = [zone < catchment_minutes for zone in bounds]
            cut = inside.index(False) if False in inside else len(bounds)
            bounds = [*bounds[:cut], float(catchment_minutes)] if cut < len(bounds) else bounds
            weights = weights[: len(bounds)]
        return bounds, weights

    def _step_weight(
        self, times: np.ndarray, catchment_minutes: float | None
    ) -> npt.NDArray[np.float64]:
        bounds, weights = self._step_zones(catchment_minutes)
        # The zone of t is the number of bounds it exceeds (NaN exceeds them all: weight 0).
        # float32 minutes stay float32: comparing them with a float64 bound is exact either way.
        index = np.zeros(times.shape, dtype=np.uint8)
        for bound in bounds:
            index += ~(times <= _bound_for(times, bound))
        table = np.array([*weights, 0.0])
        return table[index]


def _bound_for(values: np.ndarray, bound: float) -> np.floating:
    """Return ``bound`` in the dtype of ``values`` such that ``v <= it`` iff ``v <= bound``.

    float32 values compare against the largest float32 not above the float64 bound, so the
    comparison runs in float32 and still answers as in float64.
    """
    if values.dtype != np.float32:
        return np.float64(bound)
    narrow = np.float32(bound)
    if float(narrow) > bound:
        narrow = np.nextafter(narrow, np.float32(-np.inf))
    return narrow


def _validate_step(zones: tuple[float, ...], weights: tuple[float, ...]) -> None:
    if not zones or len(zones) != len(weights):
        raise ParameterError(
            f"a step decay needs one weight per zone, got {len(zones)} zones and "
            f"{len(weights)} weights",
            column="zones_minutes",
        )
    for position, zone in enumerate(zones, start=1):
        if not math.isfinite(zone) or zone <= 0:
            raise ParameterError(
                f"zone bounds must be positive minutes, got {zone!r}",
                row=position,
                column="zones_minutes",
            )
        if position > 1 and zone <= zones[position - 2]:
            raise ParameterError(
                f"zone bounds must increase, got {zone!r} after {zones[position - 2]!r}",
                row=position,
                column="zones_minutes",
            )
    for position, weight in enumerate(weights, start=1):
        if not 0.0 <= weight <= 1.0:
            raise ParameterError(
                f"weights must lie in [0, 1], got {weight!r}", row=position, column="weights"
            )
        if position > 1 and weight > weights[position - 2]:
            raise ParameterError(
                f"weights must not increase with travel time, got {weight!r} after "
                f"{weights[position - 2]!r}",
                row=position,
                column="weights",
            )


# Luo & Qi (2009) E2SFCA zone weights 1.00 / 0.68 / 0.22 for 10 / 20 / 30 minutes, the default of
# PySAL access.enhanced_two_stage_fca.
DEFAULT_DECAY = DecayFunction.step(
    (10.0, 20.0, 30.0),
    (1.0, 0.68, 0.22),
    source="Luo & Qi (2009) E2SFCA zones 0-10/10-20/20-30 min, weights 1.00/0.68/0.22",
)


@dataclass(frozen=True)
class SupplyNorm:
    """The supply one category should offer per 1,000 people, for comparison with E2SFCA.

    Parameters
    ----------
    category
        Amenity category (``retention.data.layers.AmenityCategory`` value).
    per_1000_people
        Supply units (the category's ``CAPACITY_UNITS``) per 1,000 people.
    unit
        Unit of the supply (``capacity`` column of the amenities layer).
    source
        Where the value comes from (PARAMETERS.md item or standard clause).
    """

    category: str
    per_1000_people: float
    unit: str
    source: str

    def __post_init__(self) -> None:
        if not math.isfinite(self.per_1000_people) or self.per_1000_people <= 0:
            raise ParameterError(
                f"norm of {self.category!r} must be a positive number per 1,000 people, "
                f"got {self.per_1000_people!r}",
                column="per_1000_people",
            )


def _norm(category: AmenityCategory, per_1000: float, source: str) -> SupplyNorm:
    return SupplyNorm(category.value, per_1000, CAPACITY_UNITS[category], source)


# Categories without a sourced norm (clinic visits, school places, cafés, training ...) have none:
# their gap is judged on travel time only.
DEFAULT_SUPPLY_NORMS: tuple[SupplyNorm, ...] = (
    _norm(
        AmenityCategory.SPORTS_COURT,
        0.2,
        "PARAMETERS.md item 19 and 8.10 (DER): one small court per 5-min circle of 5,000-12,000 "
        "people; the 5,000 end is used because young frontline workers are heavy users",
    ),
    _norm(
        AmenityCategory.KINDERGARTEN,
        30.0,
        "PARAMETERS.md item 19: 12 classes x 30 = 360 places per 5-min circle of up to 12,000 "
        "people; within 8.12's 19-38 places per 1,000 (DER)",
    ),
    _norm(
        AmenityCategory.HOSPITAL,
        3.0,
        "PARAMETERS.md 7e: GB 50180-93, one 300-400-bed hospital per ~100,000 people",
    ),
    _norm(
        AmenityCategory.CANTEEN,
        400.0,
        "PARAMETERS.md item 20 (assumption): peak-shift headcount / 2.5 sittings",
    ),
    _norm(
        AmenityCategory.GROCERY,
        60.0,
        "PARAMETERS.md 8.5: Beijing rule, >=1,500 m2 business floor for 15,000-25,000 people",
    ),
    _norm(
        AmenityCategory.GYM,
        100.0,
        "PARAMETERS.md 8.6 (◐): indoor fitness >=0.1 m2 per person (国办发〔2020〕36号)",
    ),
    _norm(
        AmenityCategory.PARK,
        0.2,
        "PARAMETERS.md 7b ✱: GB 50180-2018 Table 4.0.7, 15-min tier 2.0 m2 public green per "
        "person (verify against the official text)",
    ),
)


def supply_norms_by_category(
    norms: Sequence[SupplyNorm] = DEFAULT_SUPPLY_NORMS,
) -> dict[str, float]:
    """Return ``{category: supply per 1,000 people}``; raise if a category appears twice."""
    result: dict[str, float] = {}
    for position, norm in enumerate(norms, start=1):
        if norm.category in result:
            raise ParameterError(
                f"category {norm.category!r} has more than one supply norm",
                row=position,
                column="category",
            )
        result[norm.category] = norm.per_1000_people
    return result


@dataclass(frozen=True, eq=False)
class EffectiveMinutes:
    """Travel minutes checked once, unreachable and unavailable pairs at ``inf`` (read-only).

    Build it with :func:`effective_minutes`; every function of this module accepts it in place
    of ``minutes`` (its ``available`` mask is already applied), so several indicators of one
    matrix share one checked copy.

    Parameters
    ----------
    values
        ``(n_origins, n_amenities)`` float32 or float64 minutes, never NaN.

    What is derived from the minutes alone (which pairs are within a time budget, decay
    weights) is computed once per object and kept, so indicators for several sets of amenities
    on one matrix (e.g. the time windows of one walking matrix) share it.
    """

    values: np.ndarray
    _derived: dict[tuple[Any, ...], np.ndarray] = field(
        default_factory=dict, init=False, repr=False
    )

    def within(self, threshold_minutes: float) -> np.ndarray:
        """Read-only boolean matrix: minutes ``<= threshold_minutes`` (as in float64)."""
        key = ("within", float(threshold_minutes))
        if key not in self._derived:
            found = self.values <= _bound_for(self.values, threshold_minutes)
            found.setflags(write=False)
            self._derived[key] = found
        return self._derived[key]

    def weight(self, decay: DecayFunction, catchment_minutes: float | None) -> np.ndarray:
        """Read-only decay weight of every pair (``DecayFunction.weight``)."""
        key = ("weight", decay, catchment_minutes)
        if key not in self._derived:
            found = decay.weight(self.values, catchment_minutes=catchment_minutes)
            found.setflags(write=False)
            self._derived[key] = found
        return self._derived[key]


def effective_minutes(
    minutes: npt.ArrayLike, *, available: npt.ArrayLike | None = None
) -> EffectiveMinutes:
    """Check a minutes matrix once and set unreachable or unavailable pairs to ``inf``.

    Assumes the conventions of this module (NaN/``inf`` unreachable); float32 minutes stay
    float32 (every comparison and every value returned is the same as in float64).

    Parameters
    ----------
    minutes
        Travel minutes, shape ``(n_origins, n_amenities)``.
    available
        Boolean mask, shape ``(n_origins, n_amenities)`` or ``(n_amenities,)``.

    Returns
    -------
    EffectiveMinutes
    """
    values = _effective_minutes(minutes, available)
    values.setflags(write=False)
    return EffectiveMinutes(values)


def checked_minutes(minutes: npt.ArrayLike) -> np.ndarray:
    """Return ``minutes`` as a 2-D float32 (kept) or float64 array, checked to hold no negative
    time; the input itself when it already is one (never write to the result)."""
    source = np.asarray(minutes)
    # float32 travel times (TravelTimeResult) stay float32: half the memory, and comparisons
    # with float64 bounds and values handed out as float64 are exactly as after a float64 copy.
    dtype = np.float32 if source.dtype == np.float32 else np.float64
    matrix: npt.NDArray[np.floating[Any]] = np.asarray(source, dtype=dtype)
    if matrix.ndim != 2:
        raise ParameterError(
            f"expected a 2-D matrix origins x amenities, got {matrix.ndim} dimension(s)",
            column="minutes",
        )
    if np.any(matrix < 0):
        row, col = np.argwhere(matrix < 0)[0]
        raise ParameterError(
            f"travel times must not be negative, got {float(matrix[row, col])!r} for amenity "
            f"{col + 1}",
            row=int(row) + 1,
            column="minutes",
        )
    return matrix


def checked_mask(available: npt.ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    """Return the boolean ``available`` mask, checked to be ``shape`` or one value per column."""
    mask = np.asarray(available)
    if mask.dtype != bool:
        raise ParameterError(f"must be boolean, got dtype {mask.dtype}", column="available")
    if mask.shape not in (shape, (shape[1],)):
        raise ParameterError(
            f"expected shape {shape} or ({shape[1]},), got {mask.shape}",
            column="available",
        )
    return mask


def minutes_and_mask(
    minutes: npt.ArrayLike, available: npt.ArrayLike | None
) -> tuple[np.ndarray, np.ndarray]:
    """Checked minutes (never copied; NaN/``inf`` unreachable) and the ``available`` mask as a
    2-D boolean array of one row, or one per origin, as the compiled passes read them
    (``retention.access.indicator_kernel``)."""
    values = checked_minutes(minutes)
    if available is None:
        return values, np.ones((1, values.shape[1]), dtype=bool)
    mask = checked_mask(available, values.shape)
    return values, mask if mask.ndim == 2 else mask[None, :]


def _effective_minutes(
    minutes: npt.ArrayLike | EffectiveMinutes, available: npt.ArrayLike | None
) -> np.ndarray:
    """Return the minutes matrix with unavailable pairs set to ``inf`` (never write to it)."""
    if isinstance(minutes, EffectiveMinutes):
        if available is not None:
            raise ParameterError(
                "effective minutes already carry their availability; pass available=None",
                column="available",
            )
        return minutes.values
    matrix = np.array(checked_minutes(minutes))  # a copy, never the input
    np.copyto(matrix, np.inf, where=np.isnan(matrix))
    if available is None:
        return matrix
    mask = checked_mask(available, matrix.shape)
    np.copyto(matrix, np.inf, where=~np.broadcast_to(mask, matrix.shape))
    return matrix


def _per_amenity(values: npt.ArrayLike, n_amenities: int, column: str) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != (n_amenities,):
        raise ParameterError(
            f"expected one value per amenity ({n_amenities}), got shape {array.shape}",
            column=column,
        )
    return array


def non_negative_values(values: npt.ArrayLike, *, column: str) -> npt.NDArray[np.float64]:
    """Return ``values`` as floats, each checked to be finite and ``>= 0`` (people, capacities).

    Parameters
    ----------
    values
        One value per row (origin or amenity).
    column
        What the values are, named in the error.

    Returns
    -------
    numpy.ndarray
        The values as ``float64``.

    Raises
    ------
    ParameterError
        At the first value that is NaN, infinite or negative (naming its 1-based row).
    """
    array = np.asarray(values, dtype=float)
    bad = np.flatnonzero(~np.isfinite(array) | (array < 0))
    if bad.size:
        raise ParameterError(
            f"must be a non-negative number, got {float(array[bad[0]])!r}",
            row=int(bad[0]) + 1,
            column=column,
        )
    return array


def people_per_origin(
    values: npt.ArrayLike, n_origins: int, *, column: str = "people"
) -> npt.NDArray[np.float64]:
    """Return one non-negative number per origin (people living or working there).

    Parameters
    ----------
    values
        People at each origin.
    n_origins
        How many origins there are (rows of the travel-time matrix).
    column
        What the values are, named in the error.

    Raises
    ------
    ParameterError
        If the shape is not ``(n_origins,)`` or a value is not a non-negative number.
    """
    array = np.asarray(values, dtype=float)
    if array.shape != (n_origins,):
        raise ParameterError(
            f"expected one value per origin ({n_origins}), got shape {array.shape}",
            column=column,
        )
    return non_negative_values(array, column=column)


def _category_columns(categories: np.ndarray, category_order: Sequence[str] | None) -> list[str]:
    if category_order is not None:
        return [str(c) for c in category_order]
    return sorted({str(c) for c in categories})


def _category_groups(
    cats: np.ndarray, columns: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(order, starts, sizes)``: amenity columns of each listed category, grouped.

    ``order`` lists the columns of ``columns[0]``, then ``columns[1]`` ... (each in input
    order); category ``c`` occupies ``order[starts[c] : starts[c] + sizes[c]]``.
    """
    code_of = {category: code for code, category in enumerate(columns)}
    codes = np.array([code_of.get(c, -1) for c in cats.tolist()], dtype=np.int64)
    listed = np.flatnonzero(codes >= 0)
    order = listed[np.argsort(codes[listed], kind="stable")]
    sizes = np.bincount(codes[listed], minlength=len(columns))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return order, starts, sizes


def _origin_index(origin_ids: Sequence[object] | None, n_origins: int) -> pd.Index:
    if origin_ids is None:
        return pd.RangeIndex(n_origins, name="origin")
    index = pd.Index(list(origin_ids), name="origin")
    if len(index) != n_origins:
        raise ParameterError(
            f"expected {n_origins} origin ids, got {len(index)}", column="origin_ids"
        )
    return index


def _category_frame(
    values: Mapping[str, npt.NDArray[np.float64]],
    origin_ids: Sequence[object] | None,
    n_origins: int,
) -> pd.DataFrame:
    """Return one column per category (named ``category``) with the origins as rows."""
    frame = pd.DataFrame(values, index=_origin_index(origin_ids, n_origins))
    frame.columns.name = "category"
    return frame


def nearest_minutes(
    minutes: npt.ArrayLike | EffectiveMinutes,
    categories: npt.ArrayLike,
    *,
    k: int = 1,
    available: npt.ArrayLike | None = None,
    origin_ids: Sequence[object] | None = None,
    category_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the minutes from each origin to its 1st ... k-th nearest amenity of each category.

    Assumes ``minutes`` is origins x amenities with NaN/``inf`` for unreachable pairs; an
    unavailable pair (``available`` False) does not count. ``inf`` in the result means fewer than
    that many amenities of the category can be reached.

    Parameters
    ----------
    minutes
        Travel minutes, shape ``(n_origins, n_amenities)``.
    categories
        Category of each amenity, shape ``(n_amenities,)``.
    k
        How many nearest amenities per category.
    available
        Boolean mask, shape ``(n_origins, n_amenities)`` or ``(n_amenities,)``.
    origin_ids
        Labels of the result's rows (default 0 ... n_origins - 1).
    category_order
        Categories to report, in this order; a listed category without amenities gives ``inf``
        and amenities of unlisted categories are left out. Default: every category present,
        sorted.

    Returns
    -------
    pandas.DataFrame
        Rows are origins; columns a MultiIndex ``(category, rank)`` with rank 1 ... k.
    """
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
        raise ParameterError(f"must be a positive integer, got {k!r}", column="k")
    matrix = _effective_minutes(minutes, available)
    cats = _per_amenity(categories, matrix.shape[1], "categories").astype(str)
    columns = _category_columns(cats, category_order)
    order, starts, sizes = _category_groups(cats, columns)
    values = np.full((matrix.shape[0], len(columns) * k), np.inf)
    for position in np.flatnonzero(sizes):
        block = matrix[:, order[starts[position] : starts[position] + sizes[position]]]
        if k == 1:
            values[:, position] = block.min(axis=1)
        else:
            if block.shape[1] > k:
                block = np.partition(block, k - 1, axis=1)[:, :k]
            ranked = np.sort(block, axis=1)
            values[:, position * k : position * k + ranked.shape[1]] = ranked
    header = pd.MultiIndex.from_product([columns, range(1, k + 1)], names=["category", "rank"])
    return pd.DataFrame(values, index=_origin_index(origin_ids, matrix.shape[0]), columns=header)


def cumulative_opportunities(
    minutes: npt.ArrayLike | EffectiveMinutes,
    categories: npt.ArrayLike,
    *,
    threshold_minutes: float,
    weights: npt.ArrayLike | None = None,
    available: npt.ArrayLike | None = None,
    origin_ids: Sequence[object] | None = None,
    category_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the amenities (or their capacity) each origin reaches within a time budget.

    Assumes ``minutes`` is origins x amenities with NaN/``inf`` for unreachable pairs; a pair
    counts when it is available and its minutes are ``<= threshold_minutes``.

    Parameters
    ----------
    minutes
        Travel minutes, shape ``(n_origins, n_amenities)``.
    categories
        Category of each amenity.
    threshold_minutes
        The time budget T.
    weights
        What each amenity counts for (e.g. its capacity); default 1 (a count).
    available
        Boolean mask, shape ``(n_origins, n_amenities)`` or ``(n_amenities,)``.
    origin_ids
        Labels of the result's rows.
    category_order
        Categories to report, as in :func:`nearest_minutes`.

    Returns
    -------
    pandas.DataFrame
        Rows are origins, columns categories; values are counts or summed weights.
    """
    if not math.isfinite(threshold_minutes) or threshold_minutes < 0:
        raise ParameterError(
            f"must be a non-negative number of minutes, got {threshold_minutes!r}",
            column="threshold_minutes",
        )
    matrix = _effective_minutes(minutes, available)
    n_amenities = matrix.shape[1]
    cats = _per_amenity(categories, n_amenities, "categories").astype(str)
    if weights is None:
        amenity_weights = np.ones(n_amenities)
    else:
        amenity_weights = non_negative_values(
            _per_amenity(weights, n_amenities, "weights"), column="weights"
        )
    columns = _category_columns(cats, category_order)
    order, starts, sizes = _category_groups(cats, columns)
    if isinstance(minutes, EffectiveMinutes):
        within = minutes.within(threshold_minutes)
    else:
        within = matrix <= _bound_for(matrix, threshold_minutes)
    if weights is None:
        # Counts by one matrix product with a category indicator: exact in float32 (whole
        # numbers far below 2**24).
        indicator = np.zeros((n_amenities, len(columns)), dtype=np.float32)
        indicator[order, np.repeat(np.arange(len(columns)), sizes)] = 1.0
        counts = (within.astype(np.float32) @ indicator).astype(np.float64)
        values = {category: counts[:, position] for position, category in enumerate(columns)}
    else:
        values = {}
        for category, start, size in zip(columns, starts, sizes, strict=True):
            chosen = order[start : start + size]
            values[category] = (within[:, chosen] * amenity_weights[chosen]).sum(axis=1)
    return _category_frame(values, origin_ids, matrix.shape[0])


def e2sfca(
    minutes: npt.ArrayLike | EffectiveMinutes,
    supply: npt.ArrayLike,
    demand: npt.ArrayLike,
    *,
    decay: DecayFunction = DEFAULT_DECAY,
    catchment_minutes: float | None = None,
    available: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """Return the enhanced two-step floating catchment (E2SFCA) supply per person at each origin.

    Assumes one category's amenities (supply in the same unit) and ``minutes`` origins x
    amenities with NaN/``inf`` unreachable. With ``W_ij = decay(t_ij)`` for available pairs with
    ``t_ij <= catchment_minutes`` (0 otherwise):

    - step 1, per amenity j: ``R_j = S_j / Σ_i P_i W_ij`` (0 when no demand reaches j);
    - step 2, per origin i: ``A_i = Σ_j R_j W_ij``.

    So a single court near 8,000 workers gives each of them 1/8,000 of a court: a gap against a
    norm of one court per 5,000 people, however near it is.

    Parameters
    ----------
    minutes
        Travel minutes, shape ``(n_origins, n_amenities)``.
    supply
        Capacity of each amenity ``S_j`` (non-negative).
    demand
        People at each origin ``P_i`` (non-negative).
    decay
        Distance-decay weight; :meth:`DecayFunction.uniform` gives classic 2SFCA.
    catchment_minutes
        Largest travel time counted; ``None`` leaves only the decay to cut off.
    available
        Boolean mask, shape ``(n_origins, n_amenities)`` or ``(n_amenities,)``.

    Returns
    -------
    numpy.ndarray
        ``A_i`` in supply units per person, shape ``(n_origins,)``.
    """
    matrix = _effective_minutes(minutes, available)
    n_origins, n_amenities = matrix.shape
    supply_values = non_negative_values(
        _per_amenity(supply, n_amenities, "supply"), column="supply"
    )
    people = people_per_origin(demand, n_origins, column="demand")
    check_catchment(catchment_minutes)
    return _e2sfca_checked(
        matrix, supply_values, people, decay=decay, catchment_minutes=catchment_minutes
    )


def check_catchment(catchment_minutes: float | None) -> None:
    """Raise unless ``catchment_minutes`` is ``None`` or a positive number of minutes."""
    if catchment_minutes is not None and not catchment_minutes > 0:
        raise ParameterError(
            f"must be a positive number of minutes, got {catchment_minutes!r}",
            column="catchment_minutes",
        )


def _e2sfca_checked(
    matrix: np.ndarray,
    supply_values: npt.NDArray[np.float64],
    people: npt.NDArray[np.float64],
    *,
    decay: DecayFunction,
    catchment_minutes: float | None,
) -> npt.NDArray[np.float64]:
    """E2SFCA on checked inputs (effective minutes, supply and people validated).

    Whole-matrix numpy, not the compiled indicator passes: for one category's block the
    vectorised weights and two BLAS products were measured faster (case e: 0.14 s against
    0.15 s for the passes, whose per-pair branches do not pay without a large matrix)."""
    n_amenities = matrix.shape[1]
    weight = decay.weight(matrix, catchment_minutes=catchment_minutes)
    weighted_demand = people @ weight
    served = weighted_demand > 0
    ratio = np.zeros(n_amenities)
    ratio[served] = supply_values[served] / weighted_demand[served]
    return weight @ ratio


def two_step_fca(
    minutes: npt.ArrayLike | EffectiveMinutes,
    supply: npt.ArrayLike,
    demand: npt.ArrayLike,
    *,
    catchment_minutes: float,
    available: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """Return the classic two-step floating catchment (2SFCA) supply per person at each origin.

    Assumes the conventions of :func:`e2sfca` with weight 1 inside the catchment (Luo & Wang
    2003): ``R_j = S_j / Σ_{t_ij <= T} P_i`` and ``A_i = Σ_{t_ij <= T} R_j``.

    Parameters
    ----------
    minutes
        Travel minutes, shape ``(n_origins, n_amenities)``.
    supply
        Capacity of each amenity.
    demand
        People at each origin.
    catchment_minutes
        The catchment T.
    available
        Boolean mask, shape ``(n_origins, n_amenities)`` or ``(n_amenities,)``.

    Returns
    -------
    numpy.ndarray
        Supply per person, shape ``(n_origins,)``.
    """
    return e2sfca(
        minutes,
        supply,
        demand,
        decay=DecayFunction.uniform(),
        catchment_minutes=catchment_minutes,
        available=available,
    )


def e2sfca_by_category(
    minutes: npt.ArrayLike | EffectiveMinutes,
    categories: npt.ArrayLike,
    supply: npt.ArrayLike,
    demand: npt.ArrayLike,
    *,
    decay: DecayFunction = DEFAULT_DECAY,
    catchment_minutes: float | None = None,
    available: npt.ArrayLike | None = None,
    origin_ids: Sequence[object] | None = None,
    category_order: Sequence[str] | None = None,
    steps: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Return E2SFCA supply per 1,000 people for each origin and amenity category.

    Assumes the conventions of :func:`e2sfca`, applied to each category's amenities on their
    own; the unit of each column is that category's capacity unit per 1,000 people, the unit of
    :class:`SupplyNorm`.

    Parameters
    ----------
    minutes
        Travel minutes, shape ``(n_origins, n_amenities)``.
    categories
        Category of each amenity.
    supply
        Capacity of each amenity.
    demand
        People at each origin.
    decay
        Distance-decay weight.
    catchment_minutes
        Largest travel time counted.
    available
        Boolean mask, shape ``(n_origins, n_amenities)`` or ``(n_amenities,)``.
    origin_ids
        Labels of the result's rows.
    category_order
        Categories to report, as in :func:`nearest_minutes`.
    steps
        When given, receives ``weighted_demand`` (step 1's ``Σ_i P_i W_ij``) and ``ratio``
        (``R_j``) per amenity, 0 for amenities of unlisted categories.

    Returns
    -------
    pandas.DataFrame
        Rows are origins, columns categories.
    """
    matrix = _effective_minutes(minutes, available)
    n_origins, n_amenities = matrix.shape
    cats = _per_amenity(categories, n_amenities, "categories").astype(str)
    supply_values = _per_amenity(supply, n_amenities, "supply")
    columns = _category_columns(cats, category_order)
    order, starts, sizes = _category_groups(cats, columns)
    # Checked in the order of one e2sfca call per category (supply, demand, catchment).
    checked_supply = np.zeros(len(order))
    people: npt.NDArray[np.float64] | None = None
    for start, size in zip(starts, sizes, strict=True):
        chosen = order[start : start + size]
        checked_supply[start : start + size] = non_negative_values(
            supply_values[chosen], column="supply"
        )
        if people is None:
            people = people_per_origin(demand, n_origins, column="demand")
            check_catchment(catchment_minutes)
    if people is None:
        people = people_per_origin(demand, n_origins, column="demand")
        check_catchment(catchment_minutes)
    # Every category at once: step 1 is per amenity anyway, and step 2 sums each category's
    # columns through one product with a (amenity x category) matrix of the ratios (zero rows
    # for amenities of unlisted categories).
    if isinstance(minutes, EffectiveMinutes):
        weight = minutes.weight(decay, catchment_minutes)
    else:
        weight = decay.weight(matrix, catchment_minutes=catchment_minutes)
    weighted_demand = (people @ weight)[order]
    served = weighted_demand > 0
    ratio = np.zeros(len(order))
    ratio[served] = checked_supply[served] / weighted_demand[served]
    by_category = np.zeros((n_amenities, len(columns)))
    by_category[order, np.repeat(np.arange(len(columns)), sizes)] = ratio
    supply_per_person = weight @ by_category
    values = {
        category: 1000.0 * supply_per_person[:, position]
        for position, category in enumerate(columns)
    }
    if steps is not None:
        # Step 1 per amenity in column order (0 for amenities of unlisted categories): what
        # an update after a change starts from (retention.access.indicator_updates).
        steps["weighted_demand"] = np.zeros(n_amenities)
        steps["weighted_demand"][order] = weighted_demand
        steps["ratio"] = np.zeros(n_amenities)
        steps["ratio"][order] = ratio
    return _category_frame(values, origin_ids, n_origins)
