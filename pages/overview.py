"""Overview: headline counts of the selected park and its amenities by category."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from retention.data.layers import AmenityCategory
from retention.escaping import markdown_text
from retention.i18n import label, t
from ui import cached, state
from ui.entry import require_app_navigation
from ui.notices import synthetic_notice
from ui.tables import count_columns

require_app_navigation()

CATEGORY_VALUES = frozenset(category.value for category in AmenityCategory)

lang = state.lang()
park = cached.current_park()
st.title(t("overview.title", lang))
if park is None:
    st.info(t("overview.no_park", lang))
    st.stop()

st.subheader(markdown_text(park.name(lang)))
synthetic_notice(park)
if park.synthetic and park.boundary is not None and not park.boundary.empty:
    st.caption(t("overview.boundary_source", lang, source=cached.boundary_source(park, lang)))

summary = cached.summary(park)
columns = st.columns(6)
columns[0].metric(t("overview.kpi.enterprises", lang), f"{summary.enterprises:,}")
columns[1].metric(
    t("overview.kpi.workers", lang),
    f"{summary.workers:,}",
    help=t("overview.kpi.workers_help", lang),
)
columns[2].metric(t("overview.kpi.residences", lang), f"{summary.residences:,}")
columns[3].metric(t("overview.kpi.beds", lang), f"{summary.beds:,}")
columns[4].metric(t("overview.kpi.residents", lang), f"{summary.residents:,}")
columns[5].metric(t("overview.kpi.amenities", lang), f"{summary.amenities:,}")

left, right = st.columns([3, 2])
with left:
    st.subheader(t("overview.amenities.title", lang))
    chart = summary.amenities_by_category.copy()
    chart["label"] = [
        label("category", value, lang) if value in CATEGORY_VALUES else value
        for value in chart["category"]
    ]
    figure = px.bar(
        chart,
        x="count",
        y="label",
        orientation="h",
        labels={
            "count": t("overview.axis.count", lang),
            "label": t("overview.axis.category", lang),
        },
    )
    figure.update_layout(
        height=460, margin={"l": 0, "r": 10, "t": 10, "b": 0}, yaxis={"autorange": "reversed"}
    )
    st.plotly_chart(figure, key="overview.amenities_chart")
    st.caption(t("overview.amenities.caption", lang))
with right:
    st.subheader(t("overview.residences.title", lang))
    table = summary.residences_by_kind.copy()
    table["kind"] = [label("residence_kind", value, lang) for value in table["kind"]]
    table = table.rename(
        columns={
            "kind": t("overview.col.kind", lang),
            "count": t("overview.col.count", lang),
            "beds": t("overview.col.beds", lang),
            "residents": t("overview.col.residents", lang),
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config=count_columns(table),
        key="overview.residences_table",
    )
