"""GB 50180-2018 living-circle tiers and the tier each amenity category must be reached within.

The defaults below are an editable table: a park replaces rows with :func:`living_circle_table`
(e.g. from an edited data-editor table). Each row cites its clause; ``verify`` marks the values
PARAMETERS.md flags ✱ ("verify against the official text of GB 50180-2018 before relying on it").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from retention.data.layers import AmenityCategory
from retention.errors import ParameterError


@dataclass(frozen=True)
class LivingCircleTier:
    """One living-circle tier: its walking time and walking distance.

    Parameters
    ----------
    name
        Tier id, e.g. ``"5min"``.
    minutes
        Walking time that defines the tier.
    metres
        Network walking distance of the tier (GB 50180-2018 Table 3.0.4).
    metres_strict
        Stricter distance variant (800 m for the 15-min tier, PARAMETERS.md item 17).
    clause
        Where the values come from.
    verify
        True when PARAMETERS.md marks a value ✱ (to check against the official text).
    """

    name: str
    minutes: float
    metres: float
    metres_strict: float
    clause: str
    verify: bool

    def __post_init__(self) -> None:
        for column in ("minutes", "metres", "metres_strict"):
            value = getattr(self, column)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ParameterError(
                    f"tier {self.name!r}: must be a positive number, got {value!r}",
                    column=column,
                )
        if self.metres_strict > self.metres:
            raise ParameterError(
                f"tier {self.name!r}: the strict distance must not exceed the normal one "
                f"({self.metres_strict!r} > {self.metres!r})",
                column="metres_strict",
            )

    def threshold(self, basis: str) -> float:
        """Return the tier's threshold for ``basis`` (minutes, metres or metres_strict)."""
        if basis not in THRESHOLD_BASES:
            raise ParameterError(
                f"must be one of {', '.join(THRESHOLD_BASES)}, got {basis!r}", column="basis"
            )
        return float(getattr(self, basis))


THRESHOLD_BASES = ("minutes", "metres", "metres_strict")


@dataclass(frozen=True)
class LivingCircleRequirement:
    """One amenity category and the tier it should be reached within.

    Parameters
    ----------
    category
        ``retention.data.layers.AmenityCategory`` value.
    tier
        Name of a :class:`LivingCircleTier`.
    facility_zh
        The GB 50180-2018 facility the category stands for.
    marker
        ``"▲"`` required by the standard, ``"△"`` provided as needed.
    clause
        Clause or table of the standard.
    verify
        True when PARAMETERS.md marks the row ✱.
    reason
        Why ParkLife maps the category to this tier, where that is a judgement.
    """

    category: str
    tier: str
    facility_zh: str
    marker: str
    clause: str
    verify: bool
    reason: str = ""


@dataclass(frozen=True)
class LivingCircleTable:
    """Living-circle tiers and category requirements (one row per category)."""

    tiers: tuple[LivingCircleTier, ...]
    requirements: tuple[LivingCircleRequirement, ...]
    name: str = ""

    def __post_init__(self) -> None:
        names = [tier.name for tier in self.tiers]
        if len(set(names)) != len(names):
            raise ParameterError(f"tier names must be unique, got {names}", column="tier")
        seen: set[str] = set()
        valid = {category.value for category in AmenityCategory}
        for row, requirement in enumerate(self.requirements, start=1):
            if requirement.category not in valid:
                raise ParameterError(
                    f"unknown amenity category {requirement.category!r}; expected one of "
                    f"{', '.join(sorted(valid))}",
                    row=row,
                    column="category",
                )
            if requirement.category in seen:
                raise ParameterError(
                    f"category {requirement.category!r} is listed twice",
                    row=row,
                    column="category",
                )
            seen.add(requirement.category)
            if requirement.tier not in names:
                raise ParameterError(
                    f"unknown tier {requirement.tier!r}; expected one of {', '.join(names)}",
                    row=row,
                    column="tier",
                )

    def tier(self, name: str) -> LivingCircleTier:
        """Return the tier called ``name``."""
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise ParameterError(f"unknown tier {name!r}", column="tier")

    def requirement(self, category: str) -> LivingCircleRequirement:
        """Return the requirement row of ``category``."""
        for requirement in self.requirements:
            if requirement.category == category:
                return requirement
        raise ParameterError(f"no living-circle requirement for {category!r}", column="category")

    def threshold(self, category: str, *, basis: str = "minutes") -> float:
        """Return the minutes or metres within which ``category`` should be reached."""
        return self.tier(self.requirement(category).tier).threshold(basis)

    @property
    def categories(self) -> tuple[str, ...]:
        """Categories the table requires, in table order."""
        return tuple(requirement.category for requirement in self.requirements)


_T304 = "GB 50180-2018 Table 3.0.4"
_B01 = "GB 50180-2018 Appendix B, Table B.0.1 (15-/10-min)"
_B02 = "GB 50180-2018 Appendix B, Table B.0.2 (5-min)"
_B03 = "GB 50180-2018 Appendix B, Table B.0.3 (居住街坊)"


def _req(
    category: AmenityCategory,
    tier: str,
    facility_zh: str,
    marker: str,
    clause: str,
    reason: str = "",
) -> LivingCircleRequirement:
    # PARAMETERS.md 7d: every Appendix B row is ✱ (not re-seen in the official text).
    return LivingCircleRequirement(category.value, tier, facility_zh, marker, clause, True, reason)


GB50180_2018 = LivingCircleTable(
    name="GB 50180-2018",
    tiers=(
        # PARAMETERS.md item 17 and 7a: 300 m is ✱ (TD/T 1062-2021 gives 300-500 m).
        LivingCircleTier("5min", 5.0, 300.0, 300.0, f"{_T304}; PARAMETERS.md 7a", True),
        LivingCircleTier("10min", 10.0, 500.0, 500.0, f"{_T304}; PARAMETERS.md 7a ✔", False),
        # 800-1,000 m: 1,000 m default, 800 m the strict variant (PARAMETERS.md item 17).
        LivingCircleTier("15min", 15.0, 1000.0, 800.0, f"{_T304}; PARAMETERS.md 7a ✔", False),
    ),
    requirements=(
        _req(
            AmenityCategory.CANTEEN,
            "5min",
            "社区食堂",
            "△",
            _B02,
            "GB lists it as-needed; frontline workers eat one or two meals per shift out, so "
            "ParkLife treats it as required at the tightest tier",
        ),
        _req(AmenityCategory.GROCERY, "5min", "社区商业网点", "▲", _B02),
        _req(
            AmenityCategory.CLINIC,
            "5min",
            "社区卫生服务站",
            "△",
            _B02,
            "GB places the station at 5-min where the 15-min centre cannot cover",
        ),
        _req(AmenityCategory.SPORTS_COURT, "5min", "小型多功能运动(球类)场地", "▲", _B02),
        _req(AmenityCategory.KINDERGARTEN, "5min", "幼儿园", "▲", _B02),
        _req(AmenityCategory.EXPRESS_DELIVERY, "5min", "邮件和快件送达设施", "▲", _B03),
        _req(AmenityCategory.SCHOOL, "10min", "小学", "▲", _B01),
        _req(
            AmenityCategory.MALL,
            "10min",
            "商场",
            "▲",
            _B01,
            "listed at both 15- and 10-min; tiers are not nested, so the 10-min row binds",
        ),
        _req(
            AmenityCategory.CAFE_LEISURE,
            "10min",
            "餐饮设施",
            "▲",
            _B01,
            "listed at both 15- and 10-min; the 10-min row binds",
        ),
        _req(AmenityCategory.HOSPITAL, "15min", "社区卫生服务中心(社区医院)", "▲", _B01),
        _req(AmenityCategory.LIBRARY_CULTURE, "15min", "文化活动中心", "▲", _B01),
        _req(
            AmenityCategory.PARK,
            "15min",
            "15分钟生活圈居住区公园",
            "▲",
            "GB 50180-2018 Table 4.0.7",
        ),
        _req(AmenityCategory.GYM, "15min", "体育馆(场)或全民健身中心", "△", _B01),
        _req(
            AmenityCategory.EMPLOYMENT_SERVICE,
            "15min",
            "社区服务中心(街道级)",
            "▲",
            _B01,
            "ParkLife maps 就业驿站 to the street-level community service centre",
        ),
    ),
)
"""GB 50180-2018 living circles (PARAMETERS.md items 17-18, section 7). ``training`` has no
counterpart in the standard and is not listed."""


def living_circle_table(
    tiers: Iterable[Mapping[str, object]],
    requirements: Iterable[Mapping[str, object]],
    *,
    name: str = "",
) -> LivingCircleTable:
    """Build a table from edited rows (e.g. two data-editor tables), validating every cell.

    Assumes tier rows with ``name``, ``minutes``, ``metres``, ``metres_strict`` and optional
    ``clause``/``verify``; requirement rows with ``category``, ``tier`` and optional
    ``facility_zh``, ``marker``, ``clause``, ``verify``, ``reason``.

    Parameters
    ----------
    tiers
        Tier rows.
    requirements
        Requirement rows.
    name
        Label of the table (e.g. the park's name).

    Returns
    -------
    LivingCircleTable
    """
    tier_rows = []
    for row, record in enumerate(tiers, start=1):
        values = {}
        for column in ("minutes", "metres", "metres_strict"):
            values[column] = _number(record, column, row, file="tiers")
        tier_rows.append(
            LivingCircleTier(
                name=_text(record, "name", row, file="tiers"),
                clause=str(record.get("clause", "") or ""),
                verify=bool(record.get("verify", False)),
                **values,
            )
        )
    requirement_rows = [
        LivingCircleRequirement(
            category=_text(record, "category", row, file="requirements"),
            tier=_text(record, "tier", row, file="requirements"),
            facility_zh=str(record.get("facility_zh", "") or ""),
            marker=str(record.get("marker", "") or ""),
            clause=str(record.get("clause", "") or ""),
            verify=bool(record.get("verify", False)),
            reason=str(record.get("reason", "") or ""),
        )
        for row, record in enumerate(requirements, start=1)
    ]
    return LivingCircleTable(tuple(tier_rows), tuple(requirement_rows), name=name)


def _text(record: Mapping[str, object], column: str, row: int, *, file: str) -> str:
    value = record.get(column)
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(
            f"expected a non-empty text, got {value!r}", file=file, row=row, column=column
        )
    return value.strip()


def _number(record: Mapping[str, object], column: str, row: int, *, file: str) -> float:
    value = record.get(column)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise ParameterError(
            f"expected a positive number, got {value!r}", file=file, row=row, column=column
        )
    return number
