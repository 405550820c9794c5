"""Enterprise (HR) view: one enterprise's access, satisfaction vs anonymous peers, intent, leavers.

Every survey figure has passed the k-anonymity rule (``retention.survey.privacy``) in the domain
code;
this page only reads widgets, calls the cached wrappers and renders.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from retention.data.layers import LayerKind
from retention.escaping import markdown_text
from retention.i18n import label, t
from retention.report.enterprise_tables import (
    calibration_points,
    drivers_in_words,
    drivers_table,
    enterprise_names,
    leavers_figures,
    leavers_sentence,
    leavers_table,
    odds_ratio_table,
    surveyed_first,
    term_category,
    workforce_table,
)
from retention.report.scenario_view import leavers_change_sentence, workforce_change_table
from ui import auth, busy, cached_model, cached_scenario, state
from ui.cached_parameters import current_parameters
from ui.entry import page_park, require_app_navigation
from ui.storage_notices import survey_damage_notice

require_app_navigation()

lang = state.lang()
user = auth.require_page("enterprise")
park = page_park("enterprise")
survey_damage_notice(park.park_id)
shown = cached_scenario.shown_scenario(park)  # the sidebar's scenario, if one is chosen
if shown is not None:
    cached_scenario.scenario_banner(shown)
# The park's saved conversion, replacement cost and k (Assumptions page).
park_parameters = current_parameters(park)
privacy = park_parameters.privacy
k = privacy.min_group_size
st.caption(t("enterprise.intro", lang, k=k))
enterprises = park.layers.get(LayerKind.ENTERPRISES)
if enterprises is None or enterprises.empty:
    st.info(t("enterprise.no_enterprises", lang))
    st.stop()
if not cached_model.has_survey(park):
    st.info(t("enterprise.no_survey", lang))
    st.stop()
with busy.showing(busy.results_message(park, lang)):
    inputs = cached_model.retention_inputs(park)
if inputs.survey_origin == "demo":
    st.warning(t("enterprise.synthetic_survey", lang), icon=":material/science:")
else:
    st.caption(
        t(
            "enterprise.survey_stored",
            lang,
            waves=markdown_text(", ".join(inputs.survey_waves)),
            n=f"{len(inputs.every_respondent):,}",
        )
    )

names = enterprise_names(enterprises, lang=lang)
# Only the enterprises the user may see (HR: their own); the figures below check it again.
options = user.visible_enterprises(
    surveyed_first(names, inputs.every_respondent["enterprise_id"].astype(str))
)
if not options:
    st.info(t("auth.no_enterprise", lang))
    st.stop()
enterprise_id = state.kept(
    st.selectbox,
    state.ENTERPRISE_ID,
    t("enterprise.select", lang),
    options,
    format_func=lambda eid: names.get(eid, eid),
    help=t("enterprise.select_help", lang),
)

if shown is not None:
    st.subheader(t("scenario_view.enterprise.title", lang, name=markdown_text(shown.name)))
    with st.spinner(t("scenario.computing", lang)):
        change = cached_scenario.enterprise_scenario_change(park, shown, enterprise_id)
    if change.leavers is not None:
        st.markdown(
            leavers_change_sentence(change.leavers, level=cached_scenario.OPTIONS.level, lang=lang)
        )
        st.caption(t("scenario.caution", lang))
    elif change.suppressed:
        st.info(t("scenario_view.enterprise.suppressed", lang, k=k))
    else:
        st.info(t("scenario_view.enterprise.no_model", lang))
    st.dataframe(
        workforce_change_table(change.baseline_access, change.scenario_access, lang=lang),
        hide_index=True,
        key="enterprise.scenario_table",
    )
    st.caption(t("scenario_view.enterprise.table_caption", lang))
    st.info(t("scenario_view.enterprise.baseline_below", lang))


def _probability_slider(column: Any, name: str, low: float, high: float, value: float) -> float:
    """A conversion probability between ``low`` and ``high`` (keyed ``enterprise.<name>``)."""
    chosen = column.slider(
        t(f"enterprise.{name}", lang),
        min_value=low,
        max_value=high,
        value=value,
        step=0.01,
        key=f"enterprise.{name}",
        help=t(f"enterprise.{name}_help", lang),
    )
    return float(chosen)


with st.expander(t("enterprise.assumptions", lang)):
    defaults = park_parameters.conversion
    cost_defaults = park_parameters.replacement_cost
    left, middle, right = st.columns(3)
    # The two conversion probabilities, each within the range the park's assumptions give.
    p_intent = _probability_slider(
        left, "p_intent", defaults.intent_low, defaults.intent_high, defaults.p_leave_given_intent
    )
    p_no_intent = _probability_slider(
        middle,
        "p_no_intent",
        defaults.no_intent_low,
        defaults.no_intent_high,
        defaults.p_leave_given_no_intent,
    )
    cost_cny = right.number_input(
        t("enterprise.cost_input", lang),
        min_value=cost_defaults.low_cny,
        max_value=cost_defaults.high_cny,
        value=cost_defaults.cost_cny_per_leaver,
        step=500.0,
        key="enterprise.cost_cny",
        help=t("enterprise.cost_input_help", lang),
    )
conversion = replace(
    defaults, p_leave_given_intent=float(p_intent), p_leave_given_no_intent=float(p_no_intent)
)
cost = replace(cost_defaults, cost_cny_per_leaver=float(cost_cny))


def _benchmark_chart(table: pd.DataFrame, axis_key: str, chart_key: str) -> None:
    labels = [label("category", term_category(item), lang) for item in table["item"]]
    figure = go.Figure()
    band = table["peer_high"] - table["peer_low"]
    figure.add_bar(
        y=labels,
        x=band,
        base=table["peer_low"],
        orientation="h",
        name=t("enterprise.series.band", lang),
        marker_color="rgba(150,150,150,0.35)",
    )
    figure.add_scatter(
        y=labels,
        x=table["mean"],
        mode="markers",
        marker={"size": 14, "symbol": "diamond"},
        name=t("enterprise.series.enterprise", lang),
    )
    figure.add_scatter(
        y=labels,
        x=table["park_mean"],
        mode="markers",
        marker={"size": 12, "symbol": "line-ns-open", "line": {"width": 3}},
        name=t("enterprise.series.park", lang),
    )
    figure.update_layout(
        height=110 + 50 * len(labels),
        margin={"l": 0, "r": 10, "t": 40, "b": 0},
        xaxis_title=t(axis_key, lang),
        # Above the plot: below it, the legend sits on the axis title.
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    st.plotly_chart(figure, key=chart_key)


with busy.showing(busy.message("enterprise_figures", lang)):
    access_table, sat_table = cached_model.peer_bands(park, inputs, enterprise_id)
    model = inputs.model
    result = (
        None
        if model is None
        else cached_model.enterprise(park, inputs, enterprise_id, conversion=conversion, cost=cost)
    )
access_hidden = bool(access_table["suppressed"].all())
sat_hidden = bool(sat_table["suppressed"].all())
if access_hidden or sat_hidden or (result is not None and result.suppressed):
    # One notice for every section this enterprise's small group hides.
    st.info(t("enterprise.suppressed", lang, k=k))

if model is not None and result is not None and not result.suppressed:
    row = result.leavers
    level = round(100 * model.spec.level)
    figures = leavers_figures(row, conversion, lang=lang)
    st.markdown(leavers_sentence(figures, lang=lang))
    columns = st.columns(4)
    columns[0].metric(
        t("enterprise.kpi.respondents", lang),
        f"{result.n_respondents:,}",
        help=t("enterprise.kpi.respondents_help", lang),
    )
    columns[1].metric(t("enterprise.kpi.headcount", lang), f"{row['headcount']:,.0f}")
    columns[2].metric(
        t("enterprise.kpi.leavers", lang),
        figures["leavers"],
        help=t(
            "enterprise.kpi.leavers_help",
            lang,
            level=level,
            low=f"{row['leavers_low']:,.0f}",
            high=f"{row['leavers_high']:,.0f}",
            conv_low=f"{row['leavers_conversion_low']:,.0f}",
            conv_high=f"{row['leavers_conversion_high']:,.0f}",
        ),
    )
    columns[2].caption(figures["leavers_range"])
    columns[3].metric(t("enterprise.kpi.cost", lang), figures["cost"])
    columns[3].caption(figures["cost_range"])
    st.dataframe(
        leavers_table(figures, lang=lang, level=level),
        hide_index=True,
        key="enterprise.estimates_table",
    )

    st.subheader(t("enterprise.words.title", lang))
    st.markdown("\n".join(f"- {s}" for s in drivers_in_words(result.drivers, lang=lang)))
    st.dataframe(
        drivers_table(result.drivers, lang=lang), hide_index=True, key="enterprise.drivers_table"
    )
    st.caption(t("enterprise.words.table_caption", lang))

left, right = st.columns(2)
with left:
    st.subheader(t("enterprise.access.title", lang))
    if not access_hidden:
        _benchmark_chart(access_table, "enterprise.axis.minutes", "enterprise.access_chart")
    st.caption(t("enterprise.access.caption", lang))
with right:
    st.subheader(t("enterprise.sat.title", lang))
    if not sat_hidden:
        _benchmark_chart(sat_table, "enterprise.axis.satisfaction", "enterprise.sat_chart")
    st.caption(t("enterprise.sat.caption", lang, k=k))

st.subheader(t("enterprise.workforce.title", lang))
with busy.showing(busy.message("workforce", lang)):
    workforce = cached_model.workforce_access(park, enterprise_id)
st.dataframe(
    workforce_table(workforce, lang=lang), hide_index=True, key="enterprise.workforce_table"
)
if "dormitories" not in workforce.index:
    st.info(t("enterprise.workforce.no_dormitories", lang))
st.caption(t("enterprise.workforce.caption", lang))


def _withheld_caption() -> None:
    """Say how many respondents disclosure control kept out of the model (rule 6), if any."""
    if inputs.withheld:
        withheld = t("model_release.withheld", lang, n=f"{inputs.withheld:,}", k=k)
        merged = ", ".join(f"{column} {level}" for column, level in inputs.merged)
        if merged:
            withheld += " " + t("model_release.merged", lang, levels=markdown_text(merged))
        st.caption(withheld)


if model is None:
    st.error(t("enterprise.model_error", lang, error=markdown_text(inputs.error)))
    _withheld_caption()
    st.stop()

with st.expander(t("enterprise.quality.expander", lang)):
    cv = model.cross_validation
    st.markdown(
        "\n".join(
            f"- {sentence}"
            for sentence in (
                t(
                    "enterprise.quality.auc_words",
                    lang,
                    auc=f"{cv.auc:.2f}",
                    low=f"{cv.auc_low:.2f}",
                    high=f"{cv.auc_high:.2f}",
                    percent=f"{cv.auc:.0%}",
                ),
                t("enterprise.quality.slope_words", lang, slope=f"{model.calibration.slope:.2f}"),
                t(
                    "enterprise.quality.intercept_words",
                    lang,
                    intercept=f"{model.calibration.intercept:+.2f}",
                ),
                t("enterprise.quality.odds_words", lang),
            )
        )
    )
    quality = st.columns(4)
    quality[0].metric(
        t("enterprise.quality.auc", lang),
        f"{cv.auc:.2f}",
        help=t(
            "enterprise.quality.auc_help",
            lang,
            folds=cv.n_folds,
            seed=cv.seed,
            level=round(100 * cv.level),
            low=f"{cv.auc_low:.2f}",
            high=f"{cv.auc_high:.2f}",
        ),
    )
    quality[0].caption(f"{cv.auc_low:.2f}–{cv.auc_high:.2f}")
    quality[1].metric(
        t("enterprise.quality.slope", lang),
        f"{model.calibration.slope:.2f}",
        help=t("enterprise.quality.slope_help", lang),
    )
    quality[2].metric(
        t("enterprise.quality.intercept", lang), f"{model.calibration.intercept:+.2f}"
    )
    quality[3].metric(
        t("enterprise.quality.n", lang),
        f"{model.n_used:,}",
        help=t(
            "enterprise.quality.n_help", lang, dropped=model.n_dropped, clusters=model.n_clusters
        ),
    )
    _withheld_caption()
    st.markdown(f"**{t('enterprise.quality.calibration', lang)}**")
    bins = calibration_points(model.calibration.table, privacy=privacy)
    figure = go.Figure()
    figure.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        name=t("enterprise.series.ideal", lang),
        line={"dash": "dash", "color": "gray"},
    )
    figure.add_scatter(
        x=bins["mean_predicted"],
        y=bins["observed_rate"],
        mode="markers",
        name=t("enterprise.series.bins", lang),
        error_y={
            "type": "data",
            "symmetric": False,
            "array": bins["observed_high"] - bins["observed_rate"],
            "arrayminus": bins["observed_rate"] - bins["observed_low"],
        },
    )
    upper = float(min(1.0, max(bins["observed_high"].max(), bins["mean_predicted"].max()) + 0.05))
    figure.update_layout(
        height=380,
        margin={"l": 0, "r": 10, "t": 40, "b": 0},
        xaxis={"title": t("enterprise.axis.predicted", lang), "range": [0, upper]},
        yaxis={"title": t("enterprise.axis.observed", lang), "range": [0, upper]},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    st.plotly_chart(figure, key="enterprise.calibration_chart")
    st.markdown(f"**{t('enterprise.quality.odds', lang)}**")
    table = odds_ratio_table(model.odds_ratios(), lang=lang)
    st.dataframe(table, hide_index=True, key="enterprise.odds_table")
    st.caption(t("enterprise.quality.odds_caption", lang))
