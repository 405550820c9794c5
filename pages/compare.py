"""Park comparison: parks of one batch run ranked by gap index, with filters and a map."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from retention.escaping import markdown_text
from retention.i18n import t
from retention.report.park_comparison import (
    RANK_COLUMN,
    category_table,
    format_indicator,
    indicator_columns,
    indicator_label,
    ranked_parks,
)
from retention.report.snapshot import MEDIA_TYPES, SnapshotFormat
from ui import auth, cached_compare, state
from ui.entry import require_app_navigation
from ui.map_view import show_map_page

require_app_navigation()
auth.require_page("compare")  # park-level figures of every park: planners and admins

lang = state.lang()
st.title(t("compare.title", lang))
st.caption(t("compare.caption", lang))

runs = cached_compare.runs()
if not runs:
    st.info(t("compare.no_batches", lang, folder=markdown_text(cached_compare.batches_root())))
    st.stop()

names = [run.name for run in runs]
chosen = st.selectbox(t("compare.batch", lang), names, key="compare.batch")
folder = runs[names.index(chosen)] if chosen in names else runs[0]
summary = cached_compare.summary(folder)

failed = summary[summary["status"] == "failed"]
if len(failed):
    st.warning(
        t(
            "compare.failed",
            lang,
            count=len(failed),
            parks=markdown_text(", ".join(failed["park_id"].astype(str))),
        )
    )
everything = ranked_parks(summary, lang=lang)
if everything["synthetic"].astype(bool).any():
    st.warning(t("compare.synthetic", lang), icon=":material/science:")

left, middle, right = st.columns(3)
cities = left.multiselect(
    t("compare.city", lang), sorted(everything["city"].unique()), key="compare.city"
)
in_cities = everything[everything["city"].isin(cities)] if cities else everything
districts = middle.multiselect(
    t("compare.district", lang), sorted(in_cities["district"].unique()), key="compare.district"
)
indicators = indicator_columns(summary)
indicator = right.selectbox(
    t("compare.indicator_select", lang),
    indicators,
    format_func=lambda column: indicator_label(column, lang),
    key="compare.indicator",
)
ranked = ranked_parks(summary, cities=cities, districts=districts, lang=lang)
if ranked.empty:
    st.info(t("compare.empty_filter", lang))
    st.stop()

compliance = [c for c in indicators if c.startswith("compliance_")]
shown = ["rank", "name", "city", "district", RANK_COLUMN]
table = ranked[shown].copy()
table["compliance_mean"] = ranked[compliance].mean(axis=1)
extra = [
    c
    for c in dict.fromkeys([indicator, "evening_minutes_sports_court", "turnover_share"])
    if c in ranked.columns and c not in shown
]
for column in extra:
    table[column] = [format_indicator(v, column, lang) for v in ranked[column]]
table[RANK_COLUMN] = table[RANK_COLUMN].round(1)
table["compliance_mean"] = [
    format_indicator(v, "compliance_", lang) for v in table["compliance_mean"]
]
headers = {
    "rank": t("compare.col.rank", lang),
    "name": t("compare.col.name", lang),
    "city": t("compare.col.city", lang),
    "district": t("compare.col.district", lang),
    "compliance_mean": t("compare.col.compliance_mean", lang),
    RANK_COLUMN: indicator_label(RANK_COLUMN, lang),
    **{column: indicator_label(column, lang) for column in extra},
}
st.subheader(t("compare.ranking", lang))
st.dataframe(
    pd.DataFrame(table).rename(columns=headers), hide_index=True, key="compare.ranking_table"
)
with st.expander(t("compare_snapshot.section.compliance", lang)):
    st.caption(t("compare_snapshot.compliance_message", lang))
    st.dataframe(
        category_table(ranked, lang=lang).round(1),
        hide_index=True,
        key="compare.category_table",
    )
st.subheader(t("compare.map", lang))
show_map_page(
    cached_compare.map_page(folder, ranked, indicator, lang=lang, tiles=state.tiles()),
    height=520,
)

st.subheader(t("compare_snapshot.export", lang))
st.caption(t("compare_snapshot.export_caption", lang))
left, right = st.columns(2)
for column, fmt in ((left, SnapshotFormat.XLSX), (right, SnapshotFormat.HTML)):
    column.download_button(
        t(f"compare_snapshot.download_{fmt.value}", lang),
        data=cached_compare.snapshot_file(
            folder,
            cities=cities,
            districts=districts,
            indicator=indicator,
            lang=lang,
            fmt=fmt,
        ),
        mime=MEDIA_TYPES[fmt],
        key=f"compare.export_{fmt.value}",
        **auth.audited(
            "park_comparison",
            f"parklife-comparison-{folder.name}.{fmt.value}",
            park_id="",
            batch=folder.name,
            format=fmt.value,
            indicator=indicator,
        ),
    )
