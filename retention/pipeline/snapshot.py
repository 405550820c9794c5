"""A meeting snapshot's content, computed by the pipeline from one run key.

The Reports page, ``parklife report`` and any batch export call :func:`build_snapshot` with the
same key and options and so print the same numbers as the pages: the gap figures come from
:func:`retention.pipeline.stages.indicators` and :func:`retention.pipeline.scores.score_tables`,
the enterprise figures from :func:`retention.pipeline.stages.enterprise_view` (k-anonymous),
the assumptions from ``park_parameters.parameter_table``. The writers in ``retention.report``
lay the content out as PDF, PowerPoint, XLSX or HTML.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from retention.access.gaps import finite_weighted_mean
from retention.access.indicators import ParkIndicators
from retention.access.travel_times import TravelTimeResult
from retention.auth.roles import require_enterprise_in_scope, scope_enterprise_ids
from retention.data.layers import LayerKind, ZoneLevel
from retention.errors import AccessDeniedError, ParkLifeError, ValidationError
from retention.i18n import label, t
from retention.park_parameters import parameter_table
from retention.pipeline import stages
from retention.pipeline.run_key import RunKey, parameters_digest
from retention.pipeline.scores import score_tables
from retention.report.enterprise_tables import drivers_table, enterprise_names, workforce_table
from retention.report.gap_tables import compliance_table, worst_served, zone_ranking
from retention.report.pictures import Progress
from retention.report.snapshot import (
    ChartBlock,
    Kpi,
    MapBlock,
    MapLayer,
    Section,
    Snapshot,
    SnapshotFormat,
    TableBlock,
    snapshot_labels,
)
from retention.report.static_map import CJK_FONTS
from retention.report.summary import summarise_park
from retention.scenario.evaluate import ScenarioResult
from retention.scenario.model import BudgetPackage, scenario_key
from retention.storage.park import ParkData
from retention.storage.waves import CurrentSurvey

SNAPSHOT_MODE = "walk"
"""Mode of the snapshot's gap figures: walking, the GB 50180 living-circle basis."""


class UnknownEnterpriseError(ParkLifeError, ValueError):
    """The enterprise asked for is not in the park."""


def require_snapshot_scope(user_scope: str | None, enterprise_id: str | None) -> None:
    """Refuse a snapshot the run key's user scope may not export, before any computation.

    Planners and admins (``"all"``) and the server operator (``None``: CLI without an account,
    batch) export any snapshot. An HR user (``"hr:E1,E2"``) exports only a snapshot of one of
    its own enterprises: its workforce against anonymous peers, beside the park-level figures
    every role sees on the pages. Viewers export nothing.

    Raises
    ------
    AccessDeniedError
        Naming the scope and what it may export. An enterprise outside an HR scope is refused
        whether or not the park has it (the answer does not reveal other firms' ids).
    """
    if user_scope is None or user_scope == "all":
        return
    if not user_scope.startswith("hr:"):
        raise AccessDeniedError(
            f"user scope {user_scope!r} may not export snapshots; expected a planner, admin or "
            "HR account"
        )
    if enterprise_id is None:
        raise AccessDeniedError(
            f"user scope {user_scope!r} exports snapshots of its own enterprises only; expected "
            f"one of {user_scope[3:].replace(',', ', ')}"
        )
    require_enterprise_in_scope(user_scope, enterprise_id)


def _window_name(key: RunKey, window: str, lang: str) -> str:
    for item in key.parameters.time_windows:
        if item.key == window:
            return item.label_en if lang == "en" else item.label_zh
    known = ", ".join(item.key for item in key.parameters.time_windows)
    raise ParkLifeError(f"unknown time window {window!r}; known windows: {known}")


def _mode_name(mode: str, lang: str) -> str:
    return t(f"gaps.mode.{mode}", lang)


def _residents_mean(values: pd.Series, origins: pd.DataFrame) -> float:
    rows = origins["origin_set"] == "residence"
    return finite_weighted_mean(values.loc[rows], origins.loc[rows, "weight"])


def _gap_section(
    park: ParkData,
    travel: TravelTimeResult,
    key: RunKey,
    *,
    lang: str,
    window: str,
    indicators: ParkIndicators,
) -> tuple[Section, list[Kpi]]:
    origins = indicators.origins
    window_name = _window_name(key, window, lang)
    mode_name = _mode_name(SNAPSHOT_MODE, lang)
    gap = indicators.gap
    contributions = pd.Series(
        {str(c): _residents_mean(gap[c], origins) for c in gap.columns if c != "gap_index"},
        dtype=float,
    ).sort_values(ascending=False)
    mean_gap = _residents_mean(gap["gap_index"], origins)
    if len(contributions) and contributions.iloc[0] > 0:
        message = t(
            "report.gaps.message",
            lang,
            category=label("category", str(contributions.index[0]), lang),
            window=window_name,
            mode=mode_name,
            points=f"{contributions.iloc[0]:.1f}",
        )
    else:
        message = t("report.gaps.no_gap", lang, window=window_name, mode=mode_name)
    unit = t("gaps.unit.gap_index", lang, minutes="15")
    values = indicators.values("gap_index")
    k = key.parameters.privacy.min_group_size
    tables = [
        TableBlock(
            t(f"report.gaps.worst_{origin_set}s", lang),
            worst_served(
                origins,
                values,
                origin_set=origin_set,
                indicator="gap_index",
                unit=unit,
                lang=lang,
                user_scope=key.user_scope,  # other firms only as an aggregate of >= k (HR)
                min_group_size=k,
            ),
        )
        for origin_set in ("residence", "enterprise")
    ]
    tables += [
        TableBlock(
            t("report.gaps.zones", lang, level=label("zone_level", ZoneLevel.GRID.value, lang)),
            zone_ranking(
                origins,
                values,
                indicator="gap_index",
                zone_level=ZoneLevel.GRID,
                zones=park.layers.get(LayerKind.ZONES),
                unit=unit,
                lang=lang,
                max_minutes=travel.params.max_minutes,
            ),
        ),
    ]
    chart = go.Figure(
        go.Bar(
            x=[label("category", c, lang) for c in contributions.index],
            y=contributions.round(2).to_numpy(),
            marker_color="#d94801",
        )
    )
    chart.update_layout(
        font_family=", ".join(CJK_FONTS),
        height=480,
        margin={"t": 30, "b": 120},
        xaxis_title=t("report.gaps.category_axis", lang),
        yaxis_title=t("report.gaps.contributions_axis", lang),
    )
    scores = score_tables(park, travel, key, window=window, modes=(SNAPSHOT_MODE,))
    cells = scores.h3_cells
    gap_column = f"{SNAPSHOT_MODE}_gap_index_0_100"
    extent = stages.park_extent(park)
    outline = park.boundary if extent is None else extent
    layers = [MapLayer(t("report.layer.boundary", lang), outline, colour="#333333")]
    roads = park.layers.get(LayerKind.ROADS)
    if roads is not None and not roads.empty:
        layers.append(MapLayer(t("report.layer.roads", lang), roads, colour="#bbbbbb"))
    layers.append(
        MapLayer(
            t("report.gaps.map_legend", lang),
            cells[[gap_column, "geometry"]],
            value_column=gap_column,
        )
    )
    residences = park.layers.get(LayerKind.RESIDENCES)
    if residences is not None and not residences.empty:
        names = residences["name_zh" if lang == "zh" and "name_zh" in residences else "name"]
        layers.append(
            MapLayer(
                t("report.layer.residences", lang),
                gpd.GeoDataFrame(
                    {"name": names.astype(str)}, geometry=residences.geometry, crs=residences.crs
                ),
                colour="#1d4ed8",
            )
        )
    section = Section(
        title=t("report.section.gaps", lang),
        message=message,
        blocks=(
            ChartBlock(t("report.gaps.contributions", lang), chart),
            MapBlock(
                t("report.gaps.map", lang),
                tuple(layers),
                legend_title=t("report.gaps.map_legend", lang),
                note=t("report.gaps.map_note", lang),
            ),
            *tables,
        ),
        sources="GB 50180-2018; " + t("gaps.caption", lang),
    )
    kpis = [
        Kpi(
            t("report.kpi.gap_index", lang, window=window_name, mode=mode_name),
            mean_gap,
            t("report.unit.points", lang),
            decimals=1,
            note=t("report.kpi.gap_index_note", lang),
        )
    ]
    return section, kpis


def _compliance_section(
    indicators: ParkIndicators, key: RunKey, *, lang: str, window: str
) -> tuple[Section, list[Kpi]]:
    compliance = indicators.compliance
    table = compliance_table(compliance, lang=lang)
    kpis: list[Kpi] = []
    shares = compliance["share"].astype(float)
    if shares.notna().any():
        worst = int(shares.fillna(np.inf).to_numpy().argmin())
        kpis.append(
            Kpi(
                t(
                    "report.kpi.worst_circle",
                    lang,
                    category=label("category", str(compliance.index[worst]), lang),
                ),
                100 * float(shares.iloc[worst]),
                t("report.unit.share", lang),
                decimals=0,
                note=t("report.kpi.worst_circle_note", lang),
            )
        )
    section = Section(
        title=t("report.section.compliance", lang),
        message=t(
            "report.compliance.message",
            lang,
            mode=_mode_name(SNAPSHOT_MODE, lang),
            window=_window_name(key, window, lang),
        ),
        blocks=(TableBlock(t("report.section.compliance", lang), table),),
        sources="GB 50180-2018",
    )
    return section, kpis


def _enterprise_section(
    park: ParkData,
    travel: TravelTimeResult,
    key: RunKey,
    enterprise_id: str,
    *,
    lang: str,
    data_dir: Path,
    geodata_dir: Path | None,
    inputs: stages.RetentionInputs | None,
    survey: CurrentSurvey | None,
) -> tuple[Section, list[Kpi]]:
    names = enterprise_names(park.layer(LayerKind.ENTERPRISES), lang=lang)
    name = names.get(enterprise_id, enterprise_id)
    title = t("report.section.enterprise", lang, enterprise=name)
    access = stages.indicators(travel, key, mode=stages.ACCESS_MODE, window=stages.ACCESS_WINDOW)
    workforce = stages.workforce_access(access, enterprise_id, user_scope=key.user_scope)
    blocks: list[TableBlock | ChartBlock | MapBlock | Kpi] = [
        TableBlock(
            t("report.enterprise.access", lang),
            workforce_table(workforce, lang=lang),
            number_formats={},
        )
    ]
    kpis: list[Kpi] = []
    if inputs is None:
        if survey is None:
            survey = stages.current_survey(park, key, data_dir=data_dir, geodata_dir=geodata_dir)
        inputs = stages.retention_inputs(park, travel, survey, key)
    k = key.parameters.privacy.min_group_size
    if inputs.model is None:
        message = t("report.enterprise.no_model", lang, reason=inputs.error)
    else:
        view = stages.enterprise_view(inputs, key, enterprise_id)
        if view.suppressed:
            message = t("report.enterprise.suppressed", lang, k=k)
        else:
            row = view.leavers
            leavers = float(row["leavers_per_year"])
            low, high = float(row["leavers_low"]), float(row["leavers_high"])
            cost = float(row["cost_cny"]) / 10_000
            cost_low, cost_high = (
                float(row["cost_low_cny"]) / 10_000,
                float(row["cost_high_cny"]) / 10_000,
            )
            caution = t("report.caution", lang)
            kpis += [
                Kpi(
                    t("report.kpi.leavers", lang),
                    leavers,
                    t("report.unit.per_year", lang),
                    low=low,
                    high=high,
                    note=t("report.kpi.leavers_note", lang),
                ),
                Kpi(
                    t("report.kpi.cost", lang),
                    cost,
                    t("report.unit.wan_cny", lang),
                    low=cost_low,
                    high=cost_high,
                    decimals=1,
                ),
            ]
            message = t(
                "report.enterprise.message",
                lang,
                leavers=f"{leavers:,.0f}",
                low=f"{low:,.0f}",
                high=f"{high:,.0f}",
                cost=f"{cost:,.1f}",
            )
            message += " " + caution
            _, satisfaction = stages.peer_bands(inputs, key, enterprise_id)
            blocks.append(
                TableBlock(
                    t("report.enterprise.peers", lang),
                    _peer_table(satisfaction, lang=lang),
                    number_formats={
                        t("report.peers.ours", lang): 2,
                        t("report.peers.park", lang): 2,
                    },
                    note=t("report.peers.note", lang, k=k),
                )
            )
            if not view.drivers.empty:
                blocks.append(
                    TableBlock(
                        t("report.enterprise.drivers", lang),
                        drivers_table(view.drivers, lang=lang),
                        note=caution,
                    )
                )
    return Section(title=title, message=message, blocks=tuple(blocks)), kpis


def _column_names(names: Sequence[str]) -> list[str]:
    """The names as unique table columns (a repeated name gets ``(2)``, ``(3)``, ...)."""
    seen: Counter[str] = Counter()
    columns = []
    for name in names:
        seen[name] += 1
        columns.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return columns


def _scenario_section(
    name: str,
    result: ScenarioResult,
    key: RunKey,
    *,
    lang: str,
    compared: Sequence[tuple[str, ScenarioResult]] = (),
) -> tuple[Section, list[Kpi]]:
    """The scenario against the baseline (and the scenarios compared with it): KPI table, what
    it changes, gains map, cost, leavers."""
    from retention.scenario.compare import kpi_table
    from retention.scenario.display import describe_modification, kpi_display_table
    from retention.scenario.evaluate import origin_keys

    cost = key.parameters.replacement_cost
    columns = _column_names([name, *(other for other, _ in compared)])
    states = list(zip(columns, [result, *(other for _, other in compared)], strict=True))
    table = kpi_display_table(kpi_table(result.baseline, states, cost=cost), columns, lang)
    modifications = pd.DataFrame(
        {
            t("report.scenario.modification", lang): [
                describe_modification(m, lang) for m in result.applied.scenario.modifications
            ]
        }
    )
    base, after = result.baseline.indicators, result.evaluation.indicators
    before = pd.Series(base.gap["gap_index"].to_numpy(), index=origin_keys(base.origins))
    changed = pd.Series(after.gap["gap_index"].to_numpy(), index=origin_keys(after.origins))
    gain = (before - changed.reindex(before.index)).fillna(0.0)
    points = result.baseline.travel.origins
    gains = gpd.GeoDataFrame(
        {"name": points["name"].astype(str).to_numpy(), "gain": gain.to_numpy()},
        geometry=points.geometry.to_numpy(),
        crs=points.crs,
    )
    own = scope_enterprise_ids(key.user_scope)
    if own is not None:  # HR: no other firm's point (its name and gain) on the map
        other_firm = (points["origin_set"] == "enterprise").to_numpy() & ~points[
            "origin_id"
        ].astype(str).isin(own).to_numpy()
        gains = gains.loc[~other_firm]
    legend = t("report.scenario.gain_legend", lang)
    extent = result.baseline.park.boundary
    annual = result.annual_cost_cny / 10_000
    kpis = [
        Kpi(
            t("report.scenario.kpi.reached", lang, name=name),
            result.people_reached,
            t("report.unit.people", lang),
        ),
        Kpi(
            t("report.scenario.kpi.cost", lang, name=name),
            annual,
            t("report.unit.wan_cny", lang),
            decimals=1,
        ),
    ]
    message = t(
        "report.scenario.message",
        lang,
        name=name,
        people=f"{result.people_reached:,.0f}",
        cost=f"{annual:,.1f}",
    )
    package_blocks: list[TableBlock] = []
    package = result.applied.scenario.package
    if package is not None:
        package_text, package_table, newly = _package(package, result, lang=lang)
        message = package_text + " " + message
        package_blocks.append(package_table)
        kpis.append(
            Kpi(
                t("report.package.kpi.newly", lang, name=name),
                newly,
                t("report.unit.people", lang),
                note=t("report.package.kpi.newly_note", lang),
            )
        )
    if compared:
        separator = "、" if lang == "zh" else ", "
        message += " " + t(
            "report.scenario.compared", lang, names=separator.join(columns[1:]), name=name
        )
    if result.leavers is not None:
        total = result.leavers.total
        avoided = -float(total["delta_leavers"])
        low, high = -float(total["delta_high"]), -float(total["delta_low"])
        kpis.append(
            Kpi(
                t("report.scenario.kpi.avoided", lang, name=name),
                avoided,
                t("report.unit.per_year", lang),
                low=low,
                high=high,
                decimals=1,
                note=t("report.kpi.leavers_note", lang),
            )
        )
        message += " " + t(
            "report.scenario.leavers",
            lang,
            avoided=f"{avoided:,.1f}",
            low=f"{low:,.1f}",
            high=f"{high:,.1f}",
        )
        message += " " + t(
            "report.scenario.conversion_range",
            lang,
            low=f"{-float(total['delta_conversion_high']):,.1f}",
            high=f"{-float(total['delta_conversion_low']):,.1f}",
        )
        message += " " + t("report.caution", lang)
    layers = [MapLayer(t("report.layer.boundary", lang), extent, colour="#333333")]
    outline = stages.park_extent(result.baseline.park)
    if outline is not None:
        layers = [MapLayer(t("report.layer.boundary", lang), outline, colour="#333333")]
    layers.append(MapLayer(legend, gains, value_column="gain"))
    section = Section(
        title=t("report.section.scenario", lang, name=name),
        message=message,
        blocks=(
            TableBlock(t("report.scenario.what", lang), modifications),
            *package_blocks,
            TableBlock(
                t("report.scenario.kpis_compared" if compared else "report.scenario.kpis", lang),
                table,
            ),
            MapBlock(
                t("report.scenario.map", lang),
                tuple(layers),
                legend_title=legend,
                note=t("report.scenario.map_note", lang),
            ),
        ),
        sources=t("report.scenario.sources", lang),
    )
    return section, kpis


def _package(
    package: BudgetPackage, result: ScenarioResult, *, lang: str
) -> tuple[str, TableBlock, float]:
    """A budget package in words and as a table of every candidate, and its people newly served.

    The candidates' costs and benefits are each measured alone; the package's own figures (the
    scenario's) are measured as a whole, since interventions serving the same people do not add.
    """
    from retention.scenario.budget import people_newly_in_circle
    from retention.scenario.display import describe_modification

    objective = t(f"scenario.budget.{package.objective}", lang)
    number, what, cost, benefit, chosen = (
        t(f"report.package.column.{c}", lang)
        for c in ("number", "what", "cost", "benefit", "chosen")
    )
    table = pd.DataFrame(
        {
            number: range(1, len(package.items) + 1),
            what: [describe_modification(item.modification, lang) for item in package.items],
            cost: [item.annual_cost_cny / 10_000 for item in package.items],
            benefit: [item.benefit for item in package.items],
            chosen: [
                t(f"report.package.{'yes' if i.chosen else 'no'}", lang) for i in package.items
            ],
        }
    ).rename(columns={benefit: f"{benefit}: {objective}"})
    separator = "、" if lang == "zh" else ", "
    text = t(
        "report.package.message",
        lang,
        budget=f"{package.budget_cny_per_year / 10_000:,.1f}",
        objective=objective,
        items=separator.join(str(n) for n in package.chosen_numbers),
        count=len(package.items),
        cost=f"{package.annual_cost_cny / 10_000:,.1f}",
    )
    block = TableBlock(
        t("report.package.table", lang),
        table,
        note=t("report.package.not_additive", lang),
        number_formats={cost: 1, f"{benefit}: {objective}": 1},
    )
    return text, block, people_newly_in_circle(result)


def _survey_section(
    park: ParkData,
    key: RunKey,
    *,
    lang: str,
    data_dir: Path,
    geodata_dir: Path | None,
    survey: CurrentSurvey | None,
) -> Section | None:
    """What workers say: importance against satisfaction per category (IPA), k-anonymous."""
    from retention.report.survey_tables import ipa_figure, ipa_points
    from retention.survey.analysis import AnalysisParameters, ipa
    from retention.survey.weighting import enterprise_headcounts, survey_weights

    if key.survey_version in ("", "none"):
        return None
    if survey is None:
        survey = stages.current_survey(park, key, data_dir=data_dir, geodata_dir=geodata_dir)
    if survey.survey.empty:
        return None
    headcounts = enterprise_headcounts(park.layer(LayerKind.ENTERPRISES))
    weights = survey_weights(survey.survey, headcounts).weights
    chart = ipa(
        survey.survey,
        weights,
        importance="stated",
        parameters=AnalysisParameters(privacy=key.parameters.privacy),
    )
    title = t("report.section.survey", lang)
    k = key.parameters.privacy.min_group_size
    if chart.suppressed:
        return Section(title, t("report.survey.suppressed", lang, k=k), ())
    points = ipa_points(chart.points, lang=lang)
    focus = points.loc[
        points["quadrant_name"] == t("survey.quadrant.concentrate_here", lang), "name"
    ].tolist()
    message = (
        t(
            "report.survey.message",
            lang,
            categories="、".join(focus) if lang == "zh" else ", ".join(focus),
        )
        if focus
        else t("report.survey.no_focus", lang)
    )
    table = pd.DataFrame(
        {
            # The chart marks each category with this number.
            t("survey_words.ipa.number", lang): points["number"],
            t("report.survey.category", lang): points["name"],
            t("report.survey.importance", lang): points["importance"].round(2),
            t("report.survey.performance", lang): points["performance"].round(2),
            t("report.survey.quadrant", lang): points["quadrant_name"],
        }
    )
    figure = ipa_figure(chart, lang=lang)
    figure.update_layout(font_family=", ".join(CJK_FONTS))
    origin = t("report.survey.synthetic", lang) if survey.origin == "demo" else ""
    return Section(
        title,
        message,
        (
            ChartBlock(t("report.survey.chart", lang), figure, note=origin),
            TableBlock(
                t("report.survey.table", lang),
                table,
                number_formats={
                    t("report.survey.importance", lang): 2,
                    t("report.survey.performance", lang): 2,
                },
            ),
        ),
        sources=t("report.survey.sources", lang, k=k),
    )


def _peer_table(table: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """This enterprise's satisfaction against the park and the anonymous peer band, in words."""
    from retention.report.enterprise_tables import factor_label

    def band(low: float, high: float) -> str:
        return "" if pd.isna(low) or pd.isna(high) else f"{low:.2f}–{high:.2f}"

    return pd.DataFrame(
        {
            t("report.peers.item", lang): [factor_label(str(i), lang=lang) for i in table["item"]],
            t("report.peers.ours", lang): table["mean"].astype(float).round(2),
            t("report.peers.park", lang): table["park_mean"].astype(float).round(2),
            t("report.peers.band", lang): [
                band(lo, hi) for lo, hi in zip(table["peer_low"], table["peer_high"], strict=True)
            ],
        }
    )


def _assumptions(key: RunKey, *, lang: str) -> TableBlock:
    table = parameter_table(key.parameters, lang)
    columns = {
        "group": t("report.column.group", lang),
        "name": t("report.column.parameter", lang),
        "value": t("report.column.value", lang),
        "unit": t("report.column.unit", lang),
        "range": t("report.column.range", lang),
        "source": t("report.column.source", lang),
    }
    return TableBlock(
        t("report.assumptions.title", lang), table[list(columns)].rename(columns=columns)
    )


def build_snapshot(
    park: ParkData,
    key: RunKey,
    *,
    lang: str,
    data_dir: Path,
    geodata_dir: Path | None = None,
    window: str = stages.ACCESS_WINDOW,
    enterprise_id: str | None = None,
    created: dt.datetime | None = None,
    travel: TravelTimeResult | None = None,
    inputs: stages.RetentionInputs | None = None,
    survey: CurrentSurvey | None = None,
    scenario: tuple[str, ScenarioResult] | None = None,
    compared: Sequence[tuple[str, ScenarioResult]] = (),
) -> Snapshot:
    """Return the content of a meeting snapshot of one park (and optionally one enterprise).

    Parameters
    ----------
    park
        The park (``stages.park_inputs(key, ...)``).
    key
        The run key: data, parameters and survey versions, scenario and user scope.
    lang
        ``"zh"`` or ``"en"``: every text of the snapshot.
    data_dir, geodata_dir
        Where the park's stored data and demo files live (the survey is read from there).
    window
        Time window of the gap figures (default the weekday evening, when leisure matters).
    enterprise_id
        Add the enterprise section (HR): its workforce's access, expected leavers with
        interval and cost, drivers; k-anonymous.
    created
        Timestamp printed on the snapshot (default now, UTC).
    travel, inputs, survey
        ``stages.travel_times(park, key)``, ``stages.retention_inputs(...)`` and
        ``stages.current_survey(...)`` when the caller already has them for this key (the app's
        caches); computed here otherwise (reading the survey takes seconds).
    scenario
        ``(name, result)`` of a scenario measured against this park
        (``retention.scenario.evaluate.evaluate_scenario`` or
        ``retention.pipeline.scenarios.evaluate_saved_scenario``):
        adds its comparison with the baseline, and the snapshot names it.
    compared
        ``(name, result)`` of other scenarios measured against the same baseline: added as
        columns of the scenario's side-by-side table (needs ``scenario``).

    Returns
    -------
    Snapshot
        Content for ``report.pdf_report``, ``report.slides``, ``report.workbook`` and
        ``report.html_snapshot``.

    Raises
    ------
    AccessDeniedError
        When the key's user scope may not export this snapshot (:func:`require_snapshot_scope`).
    UnknownEnterpriseError
        When ``enterprise_id`` is not in the park.
    """
    key.check(park.park_id, park.data_version)
    require_snapshot_scope(key.user_scope, enterprise_id)
    if compared and scenario is None:
        raise ValidationError(
            "scenarios to compare need the scenario they are compared with; expected scenario=",
            column="scenario",
        )
    if enterprise_id is not None:
        known = set(park.layer(LayerKind.ENTERPRISES)["id"].astype(str))
        if enterprise_id not in known:
            raise UnknownEnterpriseError(
                f"enterprise {enterprise_id!r} is not in park {park.park_id!r}"
            )
    _window_name(key, window, lang)  # unknown windows fail before any computation
    travel = stages.travel_times(park, key) if travel is None else travel
    indicators = stages.indicators(travel, key, mode=SNAPSHOT_MODE, window=window)
    summary = summarise_park(park.layers)
    kpis = [
        Kpi(t("report.kpi.enterprises", lang), summary.enterprises),
        Kpi(t("report.kpi.workers", lang), summary.workers, t("report.unit.people", lang)),
        Kpi(t("report.kpi.residents", lang), summary.residents, t("report.unit.people", lang)),
        Kpi(t("report.kpi.amenities", lang), summary.amenities),
    ]
    sections = []
    gaps, gap_kpis = _gap_section(
        park, travel, key, lang=lang, window=window, indicators=indicators
    )
    compliance, compliance_kpis = _compliance_section(indicators, key, lang=lang, window=window)
    kpis += gap_kpis + compliance_kpis
    sections += [gaps, compliance]
    survey_section = _survey_section(
        park, key, lang=lang, data_dir=data_dir, geodata_dir=geodata_dir, survey=survey
    )
    if survey_section is not None:
        sections.append(survey_section)
    title = t("report.title", lang)
    if enterprise_id is not None:
        section, enterprise_kpis = _enterprise_section(
            park,
            travel,
            key,
            enterprise_id,
            lang=lang,
            data_dir=data_dir,
            geodata_dir=geodata_dir,
            inputs=inputs,
            survey=survey,
        )
        sections.insert(0, section)
        kpis += enterprise_kpis
        names = enterprise_names(park.layer(LayerKind.ENTERPRISES), lang=lang)
        title = t(
            "report.title_enterprise", lang, enterprise=names.get(enterprise_id, enterprise_id)
        )
    if scenario is not None:
        section, scenario_kpis = _scenario_section(*scenario, key, lang=lang, compared=compared)
        sections.insert(0, section)
        kpis += scenario_kpis
    notice = t("common.synthetic_notice", lang) if park.synthetic else ""
    provenance = [
        t(
            "report.provenance.park",
            lang,
            name=park.name(lang),
            park_id=park.park_id,
            version=park.data_version,
        ),
        t("report.provenance.survey", lang, origin=key.survey_version, version=key.survey_version)
        if key.survey_version not in ("", "none")
        else t("report.provenance.no_survey", lang),
    ]
    if notice:
        provenance.insert(0, t("report.provenance.synthetic", lang, notice=notice))
    return Snapshot(
        title=title,
        park_name=park.name(lang),
        lang=lang,
        created=created or dt.datetime.now(dt.UTC),
        data_version=park.data_version,
        parameters_version=parameters_digest(key.parameters),
        survey_version=key.survey_version,
        scenario=scenario[0] if scenario is not None else key.scenario_id,
        scenario_version=_scenario_version(scenario, compared),
        synthetic_notice=notice,
        kpis=tuple(kpis),
        sections=tuple(sections),
        assumptions=_assumptions(key, lang=lang),
        provenance=tuple(provenance),
        labels=snapshot_labels(lang),
    )


def _scenario_version(
    scenario: tuple[str, ScenarioResult] | None, compared: Sequence[tuple[str, ScenarioResult]]
) -> str:
    """A digest of the scenario's content and the compared ones' (``scenario_key``), in order;
    empty for the baseline."""
    if scenario is None:
        return ""
    keys = [scenario_key(result.applied.scenario) for _, result in (scenario, *compared)]
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()[:16]


def write_snapshot(
    snapshot: Snapshot,
    fmt: SnapshotFormat | str,
    *,
    assets_dir: Path,
    progress: Progress | None = None,
) -> bytes:
    """Return the snapshot as a file of the given format (``SnapshotFormat``).

    ``progress`` is told the PDF and PowerPoint writers' steps (``report.pictures.Progress``);
    Excel and HTML files are written in one step. A server writes PDF and PowerPoint in a
    separate process (``retention.pipeline.snapshot_process``).
    """
    fmt = SnapshotFormat(fmt)
    if fmt is SnapshotFormat.PDF:
        from retention.report.pdf_report import snapshot_pdf

        return snapshot_pdf(snapshot, progress=progress)
    if fmt is SnapshotFormat.PPTX:
        from retention.report.slides import snapshot_pptx

        return snapshot_pptx(snapshot, progress=progress)
    if fmt is SnapshotFormat.XLSX:
        from retention.report.workbook import snapshot_xlsx

        return snapshot_xlsx(snapshot)
    from retention.report.html_snapshot import snapshot_html

    return snapshot_html(snapshot, assets_dir=assets_dir).encode("utf-8")
