"""Every planning parameter of one park in one frozen bundle, its TOML file and its sources.

A park's numbers depend on travel speeds and thresholds, time windows, the GB 50180-2018
living-circle tiers, gap-index targets, E2SFCA supply norms and decay, the intent-to-exit
conversion, the replacement cost and the anonymity threshold k. :class:`ParkParameters` holds them
all with the module defaults (each carrying its source) as defaults; a park's edits live in::

    <data_dir>/parks/<park_id>/parameters.toml

The file is read with ``tomllib`` into a plain *document* (nested dicts, the TOML's shape), and
the same document is what the Assumptions page edits, so a value typed on the page and one read
from a file pass the same validation (:func:`park_parameters_from_document`). Every error is a
``ParameterError`` naming the file, the ``section.key`` and the expected range. A section or key
absent from the file keeps its default; ``[[time_windows]]``, when present, replaces all windows.

One row per amenity category (``[categories.<category>]``) carries the category's living-circle
tier, gap-index target and cap, and its supply norm, so the norm used by the gap index and the one
shown beside E2SFCA can never disagree.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, TypeVar

import pandas as pd

from retention.access.gaps import DEFAULT_GAP_PARAMETERS, CategoryTarget, GapParameters
from retention.access.indicators import IndicatorParameters
from retention.access.measures import DEFAULT_DECAY, DEFAULT_SUPPLY_NORMS, DecayFunction, SupplyNorm
from retention.access.parameters import (
    DEFAULT_TIME_WINDOWS,
    SOURCES,
    TRAVEL_RANGES,
    TimeWindow,
    TravelParameters,
)
from retention.access.standards import GB50180_2018, LivingCircleRequirement, LivingCircleTable
from retention.data.layers import CAPACITY_UNITS, AmenityCategory
from retention.errors import ParameterError
from retention.i18n import label, t
from retention.model.intent import ACCESS_WINDOW
from retention.model.leavers import ConversionParameters, ReplacementCost
from retention.scenario.shuttle import SHUTTLE_RANGES, SHUTTLE_SOURCES, ShuttleParameters
from retention.storage.layout import check_park_id
from retention.storage.store import (
    DEFAULT_PARAMETERS_VERSION,
    PARAMETERS_FILE,
    Store,
    parameters_token,
)
from retention.survey.privacy import PrivacyParameters

_P = TypeVar(
    "_P",
    TravelParameters,
    ConversionParameters,
    ReplacementCost,
    PrivacyParameters,
    ShuttleParameters,
)

DEFAULT_VERSION = DEFAULT_PARAMETERS_VERSION
"""Version of a park without saved parameters (a cache key, like the saved text's hash)."""

REQUIRED_WINDOW_KEYS: tuple[str, ...] = (ACCESS_WINDOW,)
"""Windows every park must keep: the retention model's access terms are named for this window
(``retention.model.intent``: ``walk_weekday_evening_minutes_<category>``)."""

MIN_ANONYMITY_K = 5
"""Lowest k a park may set: DESIGN.md "Rules of the house" makes 5 the floor, not only the
default (the Survey page's k input starts there too)."""


@dataclass(frozen=True)
class ScalarSpec:
    """One numeric parameter of a ``[section]``: its unit, valid range and source.

    Parameters
    ----------
    section, key
        TOML section and key (``travel``, ``walk_speed_m_per_min``).
    unit
        Unit id; its display text is ``assumptions.unit.<unit>`` in the catalogue.
    low, high
        Valid range, both ends included.
    source
        PARAMETERS.md item, standard clause or house rule behind the default.
    integer
        Whether only whole numbers are valid.
    """

    section: str
    key: str
    unit: str
    low: float
    high: float
    source: str
    integer: bool = False

    @property
    def path(self) -> str:
        """``section.key``, as error messages and the parameter table name the value."""
        return f"{self.section}.{self.key}"

    @property
    def range_text(self) -> str:
        """The valid range as shown to planners, e.g. ``20–150`` or ``0–1,000,000``."""
        return f"{_plain(self.low)}–{_plain(self.high)}"


def _plain(value: float) -> str:
    return f"{value:,.0f}" if value >= 10_000 and float(value).is_integer() else f"{value:g}"


_TRAVEL_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "walk_speed_m_per_min": "m_per_min",
        "ebike_speed_kmh": "kmh",
        "bus_speed_kmh": "kmh",
        "boarding_penalty_minutes": "minutes",
        "max_walk_access_minutes": "minutes",
        "max_snap_distance_metres": "metres",
        "circuity_factor": "ratio",
        "amenity_min_open_minutes": "minutes",
        "max_minutes": "minutes",
    }
)

_ITEM7 = (
    "PARAMETERS.md item 7: 2x2 conversion of rho ~ .38 / r ~ .45 at a 30 % base rate "
    "(evidence 3.10, DER), shaded down for a dichotomised item"
)
_ITEM6 = (
    "PARAMETERS.md item 6: 16-21 % of the 59,736 CNY NBS 2024 manufacturing migrant wage, "
    "consistent with 7,500-8,000 CNY 返费 plus training and ramp-up"
)

_SHUTTLE_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "cost_cny_per_vehicle_hour": "cny_per_vehicle_hour",
        "cost_cny_per_vehicle_km": "cny_per_vehicle_km",
        "dwell_minutes_per_stop": "minutes",
        "layover_minutes": "minutes",
        "mode_shift_share": "probability",
        "peak_factor": "ratio",
        "discount_rate": "probability",
        "asset_life_years": "years",
        "min_gain_minutes": "minutes",
    }
)

SCALARS: tuple[ScalarSpec, ...] = (
    *(
        ScalarSpec("travel", name, _TRAVEL_UNITS[name], low, high, SOURCES[name])
        for name, (low, high) in TRAVEL_RANGES.items()
    ),
    ScalarSpec("conversion", "p_leave_given_intent", "probability", 0.0, 1.0, _ITEM7),
    ScalarSpec(
        "conversion",
        "p_leave_given_no_intent",
        "probability",
        0.0,
        1.0,
        "PARAMETERS.md item 7: evidence 3.10 gives 0.19-0.23",
    ),
    ScalarSpec(
        "conversion",
        "intent_low",
        "probability",
        0.0,
        1.0,
        "PARAMETERS.md evidence 3.5 (Kraut 1975): 30 % of less-committed staff left in 18 months",
    ),
    ScalarSpec(
        "conversion", "intent_high", "probability", 0.0, 1.0, "PARAMETERS.md evidence 3.10 (DER)"
    ),
    ScalarSpec(
        "conversion", "no_intent_low", "probability", 0.0, 1.0, "PARAMETERS.md evidence 3.5"
    ),
    ScalarSpec(
        "conversion",
        "no_intent_high",
        "probability",
        0.0,
        1.0,
        "PARAMETERS.md evidence 3.10 (DER, upper end)",
    ),
    ScalarSpec("replacement_cost", "cost_cny_per_leaver", "cny", 0.0, 1_000_000.0, _ITEM6),
    ScalarSpec(
        "replacement_cost", "low_cny", "cny", 0.0, 1_000_000.0, "PARAMETERS.md item 6: range"
    ),
    ScalarSpec(
        "replacement_cost", "high_cny", "cny", 0.0, 1_000_000.0, "PARAMETERS.md item 6: range"
    ),
    ScalarSpec(
        "privacy",
        "min_group_size",
        "respondents",
        float(MIN_ANONYMITY_K),
        100.0,
        "DESIGN.md Rules of the house: no group under k respondents is shown; k = 5 default "
        "and floor",
        integer=True,
    ),
    *(
        ScalarSpec("shuttle", name, _SHUTTLE_UNITS[name], low, high, SHUTTLE_SOURCES[name])
        for name, (low, high) in SHUTTLE_RANGES.items()
    ),
)
"""Every scalar parameter, in the order the page and the file list them."""

SCALAR_SECTIONS: tuple[str, ...] = (
    "travel",
    "conversion",
    "replacement_cost",
    "privacy",
    "shuttle",
)

WINDOW_SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "weekday_peak": "ParkLife assumption: the morning commute peak 07:00-09:00",
        "weekday_evening": "DESIGN.md: evening 18:00-22:00 after a day shift",
        "weekend_day": "ParkLife assumption: Saturday daytime 09:00-18:00",
        "night_shift_end": (
            "After the 16:00-24:00 shift of three-shift plants; cf. Zhuzhou's 02:00 night-shift "
            "custom bus (PARAMETERS.md evidence 5.7)"
        ),
    }
)
"""Why each default window covers its hours."""

CAP_SOURCE = "ParkLife assumption: 3 x the target minutes (no standard sets a cap)"
PARK_SETTING = "park setting (no published source)"

# Every default source, as the modules write it, to its citation in the catalogue
# (retention/locales/sources.json, "sources.<key>"): the standard with its clause or the paper or
# report with its year, in English and Chinese. A source not listed (a park's own text) is shown
# as written.
SOURCE_KEYS: dict[str, str] = {
    (
        "1.3: network distance is about 1.2 x straight-line distance in cities (Newell 1980; "
        "O'Sullivan & Morrall 1996: 1.21-1.23 around stations; Ballou et al. 2002; Giacomin "
        "& Levinson 2015), higher for pedestrian routes (Dill 2003). Used only when a park "
        "has no road network; every result is then flagged as approximate."
    ): "detour_factor",
    (
        "10 min: an assumption; Chinese planning uses a 500 m bus-stop catchment (GB/T "
        "51328-2018, to verify), 8.3 min at 60 m/min, rounded up."
    ): "stop_access",
    (
        "15 km/h: bus commercial speed at peak in a mid-size city, range 12-20; Kunming "
        "official peak 13-14 km/h (PARAMETERS.md item 16). Used when a route has no speed."
    ): "bus_speed",
    (
        "15 km/h: legal maximum for e-bikes in non-motorised lanes, 道路交通安全法 Art. 58; "
        "observed Hangzhou mean 17.1 km/h (PARAMETERS.md item 15)."
    ): "ebike_speed",
    (
        "2 min per boarding: an assumption (walking to the door, boarding, paying), in line "
        "with the transfer penalties commonly used in accessibility studies; added to "
        "waiting = headway / 2 at every boarding including transfers."
    ): "boarding",
    (
        "300 m: an assumption, the GB 50180-2018 5-minute walking radius; a point farther "
        "from every road is reported rather than silently moved."
    ): "snap",
    (
        "60 m/min (1.0 m/s): pedestrian design speed of GB 50647-2011; matches GB "
        "50180-2018's 300 m per 5 min; conservative against observed 1.2-1.5 m/s "
        "(PARAMETERS.md item 14)."
    ): "walk_speed",
    (
        "60 min: an assumption, four times the 15-minute living circle (GB 50180-2018); "
        "longer trips are reported as unreachable."
    ): "max_minutes",
    (
        "60 min: an assumption; an amenity counts in a window if a worker can spend a "
        "typical visit there (a meal, a game, a clinic visit). Requiring the whole window "
        "would drop a shop open 10:00-22:00 from the 09:00-18:00 weekend window. Capped at "
        "the window's length; the same rule decides whether a route runs in a window."
    ): "open_minutes",
    (
        "After the 16:00-24:00 shift of three-shift plants; cf. Zhuzhou's 02:00 night-shift "
        "custom bus (PARAMETERS.md evidence 5.7)"
    ): "window_night",
    (
        "DESIGN.md Rules of the house: no group under k respondents is shown; k = 5 default "
        "and floor"
    ): "privacy_k",
    "DESIGN.md: evening 18:00-22:00 after a day shift": "window_evening",
    "GB 50180-2018 Appendix B, Table B.0.1 (15-/10-min) (10min)": "gb50180_b01_10min",
    "GB 50180-2018 Appendix B, Table B.0.1 (15-/10-min) (15min)": "gb50180_b01_15min",
    "GB 50180-2018 Appendix B, Table B.0.1 (15-/10-min)": "gb50180_b01",
    "GB 50180-2018 Appendix B, Table B.0.2 (5-min) (5min)": "gb50180_b02_5min",
    "GB 50180-2018 Appendix B, Table B.0.2 (5-min)": "gb50180_b02",
    "GB 50180-2018 Appendix B, Table B.0.3 (居住街坊) (5min)": "gb50180_b03_5min",
    "GB 50180-2018 Appendix B, Table B.0.3 (居住街坊)": "gb50180_b03",
    "GB 50180-2018 Table 3.0.4; PARAMETERS.md 7a": "gb50180_304",
    "GB 50180-2018 Table 4.0.7 (15min)": "gb50180_407_15min",
    "GB 50180-2018 Table 4.0.7": "gb50180_407",
    "Luo & Qi (2009) E2SFCA zones 0-10/10-20/20-30 min, weights 1.00/0.68/0.22": "luo_qi",
    (
        "PARAMETERS.md 7b ✱: GB 50180-2018 Table 4.0.7, 15-min tier 2.0 m2 public green per "
        "person (verify against the official text)"
    ): "green",
    "PARAMETERS.md 7e: GB 50180-93, one 300-400-bed hospital per ~100,000 people": "hospital",
    ("PARAMETERS.md 8.5: Beijing rule, >=1,500 m2 business floor for 15,000-25,000 people"): "mall",
    "PARAMETERS.md 8.6 (◐): indoor fitness >=0.1 m2 per person (国办发〔2020〕36号)": "gym",
    "PARAMETERS.md evidence 3.10 (DER)": "conv_der",
    "PARAMETERS.md evidence 3.10 (DER, upper end)": "conv_der_high",
    "PARAMETERS.md evidence 3.5": "kraut",
    (
        "PARAMETERS.md evidence 3.5 (Kraut 1975): 30 % of less-committed staff left in 18 months"
    ): "kraut_30",
    (
        "PARAMETERS.md item 12 / evidence 5.12: 5.7 CNY per vehicle-km (Chinese urban bus, "
        "2024, aggregator)"
    ): "bus_km",
    (
        "PARAMETERS.md item 12: urban bus operating cost 120 CNY per vehicle-hour (range "
        "85-170, evidence 5.15 DER)"
    ): "bus_hour",
    (
        "PARAMETERS.md item 19 and 8.10 (DER): one small court per 5-min circle of "
        "5,000-12,000 people; the 5,000 end is used because young frontline workers are "
        "heavy users"
    ): "court",
    (
        "PARAMETERS.md item 19: 12 classes x 30 = 360 places per 5-min circle of up to "
        "12,000 people; within 8.12's 19-38 places per 1,000 (DER)"
    ): "kindergarten",
    "PARAMETERS.md item 20 (assumption): peak-shift headcount / 2.5 sittings": "canteen",
    (
        "PARAMETERS.md item 6: 16-21 % of the 59,736 CNY NBS 2024 manufacturing migrant "
        "wage, consistent with 7,500-8,000 CNY 返费 plus training and ramp-up"
    ): "cost",
    "PARAMETERS.md item 6: range": "cost_range",
    (
        "PARAMETERS.md item 7: 2x2 conversion of rho ~ .38 / r ~ .45 at a 30 % base rate "
        "(evidence 3.10, DER), shaded down for a dichotomised item"
    ): "conv_intent",
    "PARAMETERS.md item 7: evidence 3.10 gives 0.19-0.23": "conv_no_intent",
    "ParkLife assumption: 0.5 min per intermediate stop (no published source)": "stop_dwell",
    "ParkLife assumption: 15-min tier like street-level services": "tier_15",
    "ParkLife assumption: 20 years for buildings and courts": "lifetime",
    "ParkLife assumption: 3 x the target minutes (no standard sets a cap)": "cap",
    (
        "ParkLife assumption: 30 % of the people whose access improves ride (no published "
        "source; PARAMETERS.md item 9 warns against vendor turnover claims)"
    ): "ridership",
    (
        "ParkLife assumption: 4 % a year to annualise capital (close to long-term government "
        "bond yields; no published source for parks)"
    ): "discount",
    "ParkLife assumption: 5 min at each terminus (no published source)": "layover",
    "ParkLife assumption: Saturday daytime 09:00-18:00": "window_saturday",
    "ParkLife assumption: a gain under 1 minute is noise, not access": "min_gain",
    (
        "ParkLife assumption: the busiest departure carries 1.5 x the window's mean load "
        "(riders bunch at shift end)"
    ): "peak_load",
    "ParkLife assumption: the morning commute peak 07:00-09:00": "window_peak",
    "park setting (no published source)": "park_setting",
}
_SOURCE_MARKS = (" ✱", " ✔")  # ✱ = verify against the official text; ✔ = checked
_NORM_SEPARATOR = "; norm: "


def source_text(source: str, lang: str) -> str:
    """Return a parameter's source as a reader can find it, in the interface language.

    Parameters
    ----------
    source
        The source as stored with the parameter (``SupplyNorm.source``, ``WINDOW_SOURCES``, ...);
        a target's ``"<time source>; norm: <norm source>"`` is translated part by part and a
        trailing ✱/✔ mark is kept.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str
        The catalogue's citation, or ``source`` unchanged when it is not a default source.
    """
    if not source:
        return ""
    parts = [_one_source(part, lang) for part in source.split(_NORM_SEPARATOR)]
    return t("sources.norm_separator", lang).join(parts)


def _one_source(source: str, lang: str) -> str:
    mark = next((m for m in _SOURCE_MARKS if source.endswith(m)), "")
    text = source[: len(source) - len(mark)]
    key = SOURCE_KEYS.get(text)
    return (t(f"sources.{key}", lang) if key else text) + mark


# Ranges of the table-shaped parameters (the scalar ones are in SCALARS).
TARGET_MINUTES_RANGE = (0.0, 120.0)
CAP_MINUTES_RANGE = (0.0, 240.0)
NORM_RANGE = (0.0, 1_000_000.0)  # open at 0: a norm must be positive
TIER_MINUTES_RANGE = (1.0, 60.0)
TIER_METRES_RANGE = (50.0, 5000.0)
DECAY_MINUTES_RANGE = (0.0, 240.0)  # open at 0
DECAY_KINDS: tuple[str, ...] = ("step", "gaussian", "uniform")
_TIER_FIELDS = ("minutes", "metres", "metres_strict")
_CATEGORY_FIELDS = ("tier", "target_minutes", "cap_minutes", "supply_norm_per_1000")
_DECAY_FIELDS = ("kind", "zones_minutes", "weights", "bandwidth_minutes")
_WINDOW_FIELDS = tuple(spec.name for spec in fields(TimeWindow))
_SECTIONS = (
    *SCALAR_SECTIONS[:1],
    "time_windows",
    "living_circle",
    "categories",
    "decay",
    *SCALAR_SECTIONS[1:],
)


@dataclass(frozen=True)
class ParkParameters:
    """Every planning parameter of a park (frozen: a clean cache key).

    Defaults are the sourced module defaults: ``retention.access.parameters`` (travel, windows),
    ``retention.access.standards`` (GB 50180-2018), ``retention.access.gaps`` (targets),
    ``retention.access.measures``
    (norms, decay), ``retention.model.leavers`` (conversion, cost) and ``retention.survey.privacy``
    (k).

    Parameters
    ----------
    travel
        Speeds, penalties and thresholds of the travel-time engine.
    time_windows
        Windows in which access is evaluated; must include :data:`REQUIRED_WINDOW_KEYS`.
    living_circle
        Living-circle tiers and the tier of each required category.
    gap
        Gap-index target, cap and supply norm per category.
    supply_norms
        E2SFCA supply norms; must equal the norms inside ``gap``.
    decay
        E2SFCA distance decay.
    conversion
        Probabilities that stated intent (or none) becomes an exit within 12 months.
    replacement_cost
        Cost of replacing one frontline leaver.
    privacy
        Anonymity threshold k (at least :data:`MIN_ANONYMITY_K`).
    shuttle
        Operating-cost rates, rider and capital assumptions of scenario interventions
        (``retention.scenario.shuttle``).
    """

    travel: TravelParameters = field(default_factory=TravelParameters)
    time_windows: tuple[TimeWindow, ...] = DEFAULT_TIME_WINDOWS
    living_circle: LivingCircleTable = GB50180_2018
    gap: GapParameters = DEFAULT_GAP_PARAMETERS
    supply_norms: tuple[SupplyNorm, ...] = DEFAULT_SUPPLY_NORMS
    decay: DecayFunction = DEFAULT_DECAY
    conversion: ConversionParameters = field(default_factory=ConversionParameters)
    replacement_cost: ReplacementCost = field(default_factory=ReplacementCost)
    privacy: PrivacyParameters = field(default_factory=PrivacyParameters)
    shuttle: ShuttleParameters = field(default_factory=ShuttleParameters)

    def __post_init__(self) -> None:
        keys = [window.key for window in self.time_windows]
        if len(set(keys)) != len(keys):
            raise ParameterError(
                f"time window keys repeat: {keys}; expected unique keys", column="time_windows"
            )
        for required in REQUIRED_WINDOW_KEYS:
            if required not in keys:
                raise ParameterError(
                    f"time window {required!r} is missing; the retention model's access terms "
                    "are named for it, so keep it (its hours may change)",
                    column="time_windows",
                )
        if self.privacy.min_group_size < MIN_ANONYMITY_K:
            raise ParameterError(
                f"k = {self.privacy.min_group_size} is below the house floor; expected "
                f"{MIN_ANONYMITY_K} or more",
                column="privacy.min_group_size",
            )
        norms = {norm.category: norm.per_1000_people for norm in self.supply_norms}
        if len(norms) != len(self.supply_norms):
            raise ParameterError("a category has more than one supply norm", column="supply_norms")
        for target in self.gap.targets:
            if target.supply_norm_per_1000 != norms.get(target.category):
                raise ParameterError(
                    f"category {target.category!r}: the gap index's supply norm "
                    f"{target.supply_norm_per_1000!r} differs from the E2SFCA norm "
                    f"{norms.get(target.category)!r}; expected one norm per category",
                    column=f"categories.{target.category}.supply_norm_per_1000",
                )

    def window(self, key: str) -> TimeWindow:
        """Return the time window called ``key``."""
        for window in self.time_windows:
            if window.key == key:
                return window
        raise ParameterError(f"unknown time window {key!r}", column="time_windows")

    def indicator_parameters(
        self,
        *,
        threshold_minutes: float = 15.0,
        demand: str = "residence",
        catchment_minutes: float | None = None,
    ) -> IndicatorParameters:
        """Return indicator options with this park's decay, gap targets and living circles.

        Parameters
        ----------
        threshold_minutes
            Time budget of cumulative opportunities (a display choice of the Gaps page).
        demand
            Origin set whose people compete for supply
            (``retention.access.indicators.DEMAND_SETS``).
        catchment_minutes
            E2SFCA catchment; ``None`` lets the decay cut off.

        Returns
        -------
        IndicatorParameters
        """
        return IndicatorParameters(
            threshold_minutes=threshold_minutes,
            decay=self.decay,
            catchment_minutes=catchment_minutes,
            demand=demand,
            gap=self.gap,
            living_circle=self.living_circle,
        )


# --- document (the TOML's shape) ---------------------------------------------------------------


def park_parameters_to_document(params: ParkParameters) -> dict[str, Any]:
    """Return the parameters as a plain nested dict shaped like the TOML file.

    ``categories.<category>.supply_norm_per_1000`` is ``None`` for a category without a norm and
    ``tier`` is ``""`` for a category the living-circle table does not list.

    Parameters
    ----------
    params
        The parameters.

    Returns
    -------
    dict
        ``{section: ...}`` that :func:`park_parameters_from_document` reads back unchanged.
    """
    requirements = {r.category: r.tier for r in params.living_circle.requirements}
    document: dict[str, Any] = {
        "travel": {s.key: float(getattr(params.travel, s.key)) for s in _specs("travel")},
        "time_windows": [
            {name: str(getattr(window, name)) for name in _WINDOW_FIELDS}
            for window in params.time_windows
        ],
        "living_circle": {
            "tiers": {
                tier.name: {name: float(getattr(tier, name)) for name in _TIER_FIELDS}
                for tier in params.living_circle.tiers
            }
        },
        "categories": {
            target.category: {
                "tier": requirements.get(target.category, ""),
                "target_minutes": float(target.target_minutes),
                "cap_minutes": float(target.cap_minutes),
                "supply_norm_per_1000": target.supply_norm_per_1000,
            }
            for target in params.gap.targets
        },
        "decay": {
            "kind": params.decay.kind,
            "zones_minutes": [float(z) for z in params.decay.zones_minutes],
            "weights": [float(w) for w in params.decay.weights],
            "bandwidth_minutes": params.decay.bandwidth_minutes,
        },
    }
    for section, value in (
        ("conversion", params.conversion),
        ("replacement_cost", params.replacement_cost),
        ("privacy", params.privacy),
        ("shuttle", params.shuttle),
    ):
        document[section] = {s.key: getattr(value, s.key) for s in _specs(section)}
    return document


def park_parameters_from_document(
    document: Mapping[str, Any], *, file: str | None = None
) -> ParkParameters:
    """Validate a parameters document and build the parameters; absent values keep defaults.

    Parameters
    ----------
    document
        ``{section: ...}`` as read from TOML or assembled by the Assumptions page.
    file
        File name used in error messages.

    Returns
    -------
    ParkParameters

    Raises
    ------
    ParameterError
        Naming the file, the ``section.key`` (``column``), the window row where there is one, and
        the expected type or range.
    """
    if not isinstance(document, Mapping):
        raise ParameterError("expected a table of sections", file=file)
    unknown = [name for name in document if name not in _SECTIONS]
    if unknown:
        raise ParameterError(
            f"unknown section {unknown[0]!r}; expected one of {', '.join(_SECTIONS)}",
            file=file,
            column=str(unknown[0]),
        )
    defaults = ParkParameters()
    scalars = {
        section: _scalar_section(document.get(section, {}), section, file=file)
        for section in SCALAR_SECTIONS
    }
    travel = _build(defaults.travel, scalars["travel"], "travel", file)
    conversion = _build(defaults.conversion, scalars["conversion"], "conversion", file)
    cost = _build(defaults.replacement_cost, scalars["replacement_cost"], "replacement_cost", file)
    privacy = _build(defaults.privacy, scalars["privacy"], "privacy", file)
    shuttle = _build(defaults.shuttle, scalars["shuttle"], "shuttle", file)
    windows = _windows(document.get("time_windows"), file=file)
    living_circle = _living_circle(document.get("living_circle", {}), defaults, file=file)
    living_circle, gap, norms = _categories(
        document.get("categories", {}), defaults, living_circle, file=file
    )
    decay = _decay(document.get("decay", {}), defaults.decay, file=file)
    try:
        return ParkParameters(
            travel=travel,
            time_windows=windows,
            living_circle=living_circle,
            gap=gap,
            supply_norms=norms,
            decay=decay,
            conversion=conversion,
            replacement_cost=cost,
            privacy=privacy,
            shuttle=shuttle,
        )
    except ParameterError as error:
        raise ParameterError(_bare(error), file=file, column=error.column) from error


def _specs(section: str) -> tuple[ScalarSpec, ...]:
    return tuple(spec for spec in SCALARS if spec.section == section)


def _table(value: object, path: str, *, file: str | None) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ParameterError(f"expected a table [{path}], got {value!r}", file=file, column=path)
    return value


def _check_keys(
    table: Mapping[str, Any], allowed: tuple[str, ...], path: str, *, file: str | None
) -> None:
    for key in table:
        if key not in allowed:
            raise ParameterError(
                f"unknown key {key!r} in [{path}]; expected one of {', '.join(allowed)}",
                file=file,
                column=f"{path}.{key}",
            )


def _number(
    value: object,
    path: str,
    low: float,
    high: float,
    *,
    file: str | None,
    integer: bool = False,
    open_low: bool = False,
) -> float:
    what = "a whole number" if integer else "a number"
    bracket = "(" if open_low else "["
    expected = f"{what} in {bracket}{low:g}, {high:g}]"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"expected {expected}, got {value!r}", file=file, column=path)
    if integer and not float(value).is_integer():
        raise ParameterError(f"expected {expected}, got {value!r}", file=file, column=path)
    above_low = value > low if open_low else value >= low
    if not (math.isfinite(value) and above_low and value <= high):
        raise ParameterError(
            f"{value!r} is out of range; expected {expected}", file=file, column=path
        )
    return float(value)


def _scalar_section(raw: object, section: str, *, file: str | None) -> dict[str, float | int]:
    table = _table(raw, section, file=file)
    specs = {spec.key: spec for spec in _specs(section)}
    _check_keys(table, tuple(specs), section, file=file)
    values: dict[str, float | int] = {}
    for key, value in table.items():
        spec = specs[key]
        number = _number(value, spec.path, spec.low, spec.high, file=file, integer=spec.integer)
        values[key] = int(number) if spec.integer else number
    return values


def _build(default: _P, values: Mapping[str, Any], section: str, file: str | None) -> _P:
    """Return ``default`` with ``values`` replaced; a cross-field error names the section."""
    try:
        return replace(default, **values)
    except ParameterError as error:
        column = f"{section}.{error.column}" if error.column else section
        raise ParameterError(_bare(error), file=file, column=column) from error


def _windows(raw: object, *, file: str | None) -> tuple[TimeWindow, ...]:
    if raw is None:
        return DEFAULT_TIME_WINDOWS
    if not isinstance(raw, list) or not raw:
        raise ParameterError(
            "expected one or more [[time_windows]] tables", file=file, column="time_windows"
        )
    windows = []
    required = tuple(name for name in _WINDOW_FIELDS if name != "headway_field")
    for row, item in enumerate(raw, start=1):
        table = _table(item, "time_windows", file=file)
        _check_keys(table, _WINDOW_FIELDS, "time_windows", file=file)
        for name in required:
            if name not in table:
                raise ParameterError(
                    f"time window misses {name!r}; expected {', '.join(required)}",
                    file=file,
                    row=row,
                    column=f"time_windows.{name}",
                )
        for name, value in table.items():
            if not isinstance(value, str):
                raise ParameterError(
                    f"expected text, got {value!r}",
                    file=file,
                    row=row,
                    column=f"time_windows.{name}",
                )
        try:
            windows.append(TimeWindow(**{name: value.strip() for name, value in table.items()}))
        except ParameterError as error:
            raise ParameterError(
                _bare(error), file=file, row=row, column=f"time_windows.{error.column}"
            ) from error
    return tuple(windows)


def _living_circle(raw: object, defaults: ParkParameters, *, file: str | None) -> LivingCircleTable:
    table = _table(raw, "living_circle", file=file)
    _check_keys(table, ("tiers",), "living_circle", file=file)
    tiers_raw = _table(table.get("tiers", {}), "living_circle.tiers", file=file)
    default_tiers = {tier.name: tier for tier in defaults.living_circle.tiers}
    _check_keys(tiers_raw, tuple(default_tiers), "living_circle.tiers", file=file)
    tiers = []
    for name, tier in default_tiers.items():
        path = f"living_circle.tiers.{name}"
        values = _table(tiers_raw.get(name, {}), path, file=file)
        _check_keys(values, _TIER_FIELDS, path, file=file)
        numbers: dict[str, Any] = {
            key: _number(
                value,
                f"{path}.{key}",
                *(TIER_MINUTES_RANGE if key == "minutes" else TIER_METRES_RANGE),
                file=file,
            )
            for key, value in values.items()
        }
        try:
            tiers.append(replace(tier, **numbers))
        except ParameterError as error:
            raise ParameterError(
                _bare(error), file=file, column=f"{path}.{error.column}"
            ) from error
    return replace(defaults.living_circle, tiers=tuple(tiers))


def _categories(
    raw: object,
    defaults: ParkParameters,
    living_circle: LivingCircleTable,
    *,
    file: str | None,
) -> tuple[LivingCircleTable, GapParameters, tuple[SupplyNorm, ...]]:
    table = _table(raw, "categories", file=file)
    default_targets = {target.category: target for target in defaults.gap.targets}
    _check_keys(table, tuple(default_targets), "categories", file=file)
    default_requirements = {r.category: r for r in defaults.living_circle.requirements}
    default_norms = {norm.category: norm for norm in defaults.supply_norms}
    tier_names = tuple(tier.name for tier in living_circle.tiers)
    targets: list[CategoryTarget] = []
    requirements: list[LivingCircleRequirement] = []
    norms: list[SupplyNorm] = []
    for category, default in default_targets.items():
        path = f"categories.{category}"
        values = _table(table.get(category, {}), path, file=file)
        _check_keys(values, _CATEGORY_FIELDS, path, file=file)
        requirement = default_requirements.get(category)
        tier = values.get("tier", requirement.tier if requirement else "")
        if not isinstance(tier, str) or tier not in ("", *tier_names):
            raise ParameterError(
                f"unknown tier {tier!r}; expected one of {', '.join(tier_names)} or '' for none",
                file=file,
                column=f"{path}.tier",
            )
        target = _number(
            values.get("target_minutes", default.target_minutes),
            f"{path}.target_minutes",
            *TARGET_MINUTES_RANGE,
            file=file,
        )
        cap = _number(
            values.get("cap_minutes", default.cap_minutes),
            f"{path}.cap_minutes",
            *CAP_MINUTES_RANGE,
            file=file,
        )
        if cap <= target:
            raise ParameterError(
                f"cap {cap:g} min must exceed the target {target:g} min",
                file=file,
                column=f"{path}.cap_minutes",
            )
        # An explicit None (the page's empty cell) removes the norm; absent keeps the default.
        norm_value = values.get("supply_norm_per_1000", default.supply_norm_per_1000)
        norm = None
        if norm_value is not None:
            norm = _number(
                norm_value, f"{path}.supply_norm_per_1000", *NORM_RANGE, file=file, open_low=True
            )
        if tier:
            base = requirement or LivingCircleRequirement(
                category, tier, "", "", PARK_SETTING, False
            )
            requirements.append(replace(base, tier=tier))
        # A changed norm is no longer backed by the default's citation.
        sourced = norm == default.supply_norm_per_1000
        default_norm = default_norms.get(category)
        if norm is not None:
            unit = CAPACITY_UNITS[AmenityCategory(category)]
            norm_source = default_norm.source if sourced and default_norm else PARK_SETTING
            norms.append(SupplyNorm(category, norm, unit, norm_source))
        time_source = default.source.split("; norm:")[0]
        source = default.source
        if not sourced:
            source = time_source + (f"; norm: {PARK_SETTING}" if norm is not None else "")
        targets.append(CategoryTarget(category, target, cap, norm, source))
    # Keep the defaults' row order so an unedited file reads back equal to the defaults.
    requirement_order = {category: row for row, category in enumerate(default_requirements)}
    norm_order = {category: row for row, category in enumerate(default_norms)}
    requirements.sort(key=lambda r: requirement_order.get(r.category, len(requirement_order)))
    norms.sort(key=lambda n: norm_order.get(n.category, len(norm_order)))
    table_out = replace(living_circle, requirements=tuple(requirements))
    return table_out, GapParameters(tuple(targets)), tuple(norms)


def _decay(raw: object, default: DecayFunction, *, file: str | None) -> DecayFunction:
    table = _table(raw, "decay", file=file)
    _check_keys(table, _DECAY_FIELDS, "decay", file=file)
    kind = table.get("kind", default.kind)
    if kind not in DECAY_KINDS:
        raise ParameterError(
            f"expected one of {', '.join(DECAY_KINDS)}, got {kind!r}",
            file=file,
            column="decay.kind",
        )
    if kind == "uniform":
        return DecayFunction.uniform()
    if kind == "gaussian":
        bandwidth = table.get("bandwidth_minutes", default.bandwidth_minutes or 10.0)
        minutes = _number(
            bandwidth, "decay.bandwidth_minutes", *DECAY_MINUTES_RANGE, file=file, open_low=True
        )
        return DecayFunction.gaussian(minutes, source=PARK_SETTING)
    zones = _number_list(table.get("zones_minutes", default.zones_minutes), "zones_minutes", file)
    weights = _number_list(table.get("weights", default.weights), "weights", file)
    for zone in zones:
        _number(zone, "decay.zones_minutes", *DECAY_MINUTES_RANGE, file=file, open_low=True)
    source = default.source if (zones, weights) == (default.zones_minutes, default.weights) else ""
    try:
        return DecayFunction.step(zones, weights, source=source or PARK_SETTING)
    except ParameterError as error:
        raise ParameterError(
            _bare(error), file=file, row=error.row, column=f"decay.{error.column}"
        ) from error


def _number_list(value: object, key: str, file: str | None) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, int | float) and not isinstance(item, bool) for item in value
    ):
        raise ParameterError(
            f"expected a list of numbers, got {value!r}", file=file, column=f"decay.{key}"
        )
    return tuple(float(item) for item in value)


def _bare(error: ParameterError) -> str:
    """The message of ``error`` without its location prefix, to re-raise with a file."""
    text = str(error)
    head, separator, rest = text.partition(": ")
    located = head.startswith(("file ", "row ", "column "))
    return rest if separator and located else text


# --- TOML --------------------------------------------------------------------------------------


def park_parameters_to_toml(params: ParkParameters) -> str:
    """Render the parameters as TOML, every value with its source as a comment above it.

    Parameters
    ----------
    params
        The parameters.

    Returns
    -------
    str
        Text that :func:`park_parameters_from_toml` reads back unchanged.
    """
    document = park_parameters_to_document(params)
    lines = [
        "# ParkLife planning parameters of one park. Edit values, keep the keys; a key or section",
        "# left out keeps its sourced default. ✱ = verify against the official text.",
    ]

    def scalars(section: str) -> None:
        lines.extend(["", f"[{section}]"])
        for spec in _specs(section):
            lines.append(f"# {spec.source}")
            lines.append(f"{spec.key} = {_toml_value(document[section][spec.key])}")

    scalars("travel")
    for window in document["time_windows"]:
        lines.extend(["", "[[time_windows]]"])
        if window["key"] in WINDOW_SOURCES:
            lines.append(f"# {WINDOW_SOURCES[window['key']]}")
        lines.extend(f"{name} = {_toml_value(value)}" for name, value in window.items())
    for tier in params.living_circle.tiers:
        lines.extend(["", f"[living_circle.tiers.{tier.name}]"])
        lines.append(f"# {tier.clause}{' ✱' if tier.verify else ''}")
        values = document["living_circle"]["tiers"][tier.name]
        lines.extend(f"{name} = {_toml_value(value)}" for name, value in values.items())
    requirements = {r.category: r for r in params.living_circle.requirements}
    for target in params.gap.targets:
        lines.extend(["", f"[categories.{target.category}]"])
        requirement = requirements.get(target.category)
        if requirement is not None:
            lines.append(f"# tier: {requirement.clause}{' ✱' if requirement.verify else ''}")
        lines.append(f"# target/norm: {target.source}")
        for name, value in document["categories"][target.category].items():
            if value is not None:  # TOML has no null: an absent norm means "no norm"
                lines.append(f"{name} = {_toml_value(value)}")
        if target.supply_norm_per_1000 is None:
            lines.append("# no supply norm: judged on travel time only")
    lines.extend(["", "[decay]", f"# {params.decay.source}"])
    for name, value in document["decay"].items():
        if value is not None:
            lines.append(f"{name} = {_toml_value(value)}")
    scalars("conversion")
    scalars("replacement_cost")
    scalars("privacy")
    scalars("shuttle")
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def park_parameters_from_toml(text: str, *, file: str | None = None) -> ParkParameters:
    """Read parameters from TOML text (see :func:`park_parameters_from_document`).

    Parameters
    ----------
    text
        TOML text.
    file
        File name used in error messages.

    Returns
    -------
    ParkParameters
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ParameterError(f"not valid TOML: {error}", file=file) from error
    if "categories" in document:
        # TOML cannot write null: a category written without a norm has none (the writer omits
        # it), rather than falling back to the default norm.
        for values in document["categories"].values():
            if isinstance(values, dict) and "tier" in values:
                values.setdefault("supply_norm_per_1000", None)
    return park_parameters_from_document(document, file=file)


# --- per-park file store -----------------------------------------------------------------------


def park_parameters_version(park_id: str, *, store: Store) -> str:
    """Return the version token of the park's saved parameters (``"default"`` without any).

    The token is the SHA-256 of the saved text: a cache key, and what a save must name
    (``expected_version``) so that it cannot overwrite a save made meanwhile.
    """
    return parameters_token(store.get_parameters_text(check_park_id(park_id)))


def load_park_parameters(park_id: str, *, store: Store) -> ParkParameters:
    """Return the park's saved parameters, or the sourced defaults when it has none.

    Parameters
    ----------
    park_id
        The park.
    store
        Where ParkLife keeps its data (``retention.storage.store.open_store``).

    Returns
    -------
    ParkParameters

    Raises
    ------
    ParameterError
        When the saved text is invalid; the message names ``parks/<id>/parameters.toml``.
    """
    text = store.get_parameters_text(check_park_id(park_id))
    if text is None:
        return ParkParameters()
    return park_parameters_from_toml(text, file=f"parks/{park_id}/{PARAMETERS_FILE}")


def save_park_parameters(
    params: ParkParameters, park_id: str, *, store: Store, expected_version: str
) -> str:
    """Save the park's parameters (atomically, under the park's lock or in one transaction).

    Parameters
    ----------
    params
        The parameters to keep.
    park_id
        The park.
    store
        Where ParkLife keeps its data.
    expected_version
        :func:`park_parameters_version` when the edit started.

    Returns
    -------
    str
        The new version token.

    Raises
    ------
    StaleVersionError
        Someone saved or reset the parameters since ``expected_version``; nothing was written.
    """
    return store.put_parameters_text(
        check_park_id(park_id),
        park_parameters_to_toml(params),
        expected_version=expected_version,
    )


def reset_park_parameters(park_id: str, *, store: Store, expected_version: str) -> None:
    """Return the park to the sourced defaults by removing its saved parameters."""
    store.delete_parameters(check_park_id(park_id), expected_version=expected_version)


# --- the table a planner reads -----------------------------------------------------------------


def parameter_table(params: ParkParameters, lang: str) -> pd.DataFrame:
    """Return one row per parameter: group, name, value, unit, range, source, default, changed.

    Values are text (the table mixes numbers, times and lists); ``key`` is the TOML path and
    ``changed`` says whether the value differs from the sourced default. Sources are citations in
    ``lang`` (``source_text``), ✱ marking values to verify against the official text.

    Parameters
    ----------
    params
        The parameters to list.
    lang
        ``"en"`` or ``"zh"`` for group names, parameter names and units.

    Returns
    -------
    pandas.DataFrame
        Columns ``group``, ``key``, ``name``, ``value``, ``unit``, ``range``, ``source``,
        ``default``, ``changed``.
    """
    defaults = ParkParameters()
    rows: list[dict[str, object]] = []

    def add(group: str, key: str, name: str, value: str, default: str, **extra: str) -> None:
        rows.append(
            {
                "group": t(f"assumptions.group.{group}", lang),
                "key": key,
                "name": name,
                "value": value,
                "unit": extra.get("unit", ""),
                "range": extra.get("range", ""),
                "source": source_text(extra.get("source", ""), lang),
                "default": default,
                "changed": value != default,
            }
        )

    for spec in SCALARS:
        if spec.section == "travel":
            group, current, base = "travel", params.travel, defaults.travel
        else:
            group = {"privacy": "privacy", "shuttle": "shuttle"}.get(spec.section, "retention")
            current = getattr(params, spec.section)
            base = getattr(defaults, spec.section)
        add(
            group,
            spec.path,
            t(f"assumptions.param.{spec.section}.{spec.key}", lang),
            _text(getattr(current, spec.key)),
            _text(getattr(base, spec.key)),
            unit=t(f"assumptions.unit.{spec.unit}", lang),
            range=spec.range_text,
            source=spec.source,
        )
    default_windows = {window.key: window for window in defaults.time_windows}
    for window in params.time_windows:
        base_window = default_windows.get(window.key)
        add(
            "time_windows",
            f"time_windows.{window.key}",
            window.label_en if lang == "en" else window.label_zh,
            _window_text(window, lang),
            _window_text(base_window, lang) if base_window else "",
            range="HH:MM",
            source=WINDOW_SOURCES.get(window.key, PARK_SETTING),
        )
    default_tiers = {tier.name: tier for tier in defaults.living_circle.tiers}
    for tier in params.living_circle.tiers:
        for name in _TIER_FIELDS:
            low, high = TIER_MINUTES_RANGE if name == "minutes" else TIER_METRES_RANGE
            add(
                "living_circle",
                f"living_circle.tiers.{tier.name}.{name}",
                t(f"assumptions.tier.{name}", lang, tier=t(f"assumptions.tier.{tier.name}", lang)),
                _text(getattr(tier, name)),
                _text(getattr(default_tiers[tier.name], name)),
                unit=t(f"assumptions.unit.{'minutes' if name == 'minutes' else 'metres'}", lang),
                range=f"{low:g}–{high:g}",
                source=tier.clause + (" ✱" if tier.verify else ""),
            )
    document = park_parameters_to_document(params)["categories"]
    base_document = park_parameters_to_document(defaults)["categories"]
    requirements = {r.category: r for r in params.living_circle.requirements}
    norm_sources = {norm.category: norm.source for norm in params.supply_norms}
    for target in params.gap.targets:
        category = target.category
        requirement = requirements.get(category)
        name = label("category", category, lang)
        ranges = {
            "tier": " / ".join(tier.name for tier in params.living_circle.tiers),
            "target_minutes": "{:g}–{:g}".format(*TARGET_MINUTES_RANGE),
            "cap_minutes": f"> target – {CAP_MINUTES_RANGE[1]:g}",
            "supply_norm_per_1000": f"> 0 – {_plain(NORM_RANGE[1])} or empty",
        }
        sources = {
            "tier": (requirement.clause + (" ✱" if requirement.verify else ""))
            if requirement
            else "",
            "target_minutes": target.source.split("; norm:")[0],
            "cap_minutes": CAP_SOURCE,
            "supply_norm_per_1000": norm_sources.get(category, ""),
        }
        for key in _CATEGORY_FIELDS:
            add(
                "categories",
                f"categories.{category}.{key}",
                t(f"assumptions.category.{key}", lang, category=name),
                _text(document[category][key]),
                _text(base_document.get(category, {}).get(key)),
                unit=t(f"assumptions.category_unit.{key}", lang),
                range=ranges[key],
                source=sources[key],
            )
    for key in _DECAY_FIELDS:
        add(
            "decay",
            f"decay.{key}",
            t(f"assumptions.decay.{key}", lang),
            _text(getattr(params.decay, key)),
            _text(getattr(defaults.decay, key)),
            unit=t(f"assumptions.decay_unit.{key}", lang),
            range={
                "kind": " / ".join(DECAY_KINDS),
                "zones_minutes": "> 0, increasing",
                "weights": "0–1, not increasing",
                "bandwidth_minutes": f"> 0 – {DECAY_MINUTES_RANGE[1]:g}",
            }[key],
            source=params.decay.source,
        )
    return pd.DataFrame(
        rows,
        columns=["group", "key", "name", "value", "unit", "range", "source", "default", "changed"],
    )


def _text(value: object) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value) if value else "–"
    return str(value)


def _window_text(window: TimeWindow, lang: str) -> str:
    day = t(f"assumptions.day_type.{window.day_type}", lang)
    return f"{day} {window.start}–{window.end} ({window.headway_field})"
