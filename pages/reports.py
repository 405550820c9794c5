"""Reports: a meeting snapshot of the park (PDF, PowerPoint, Excel or offline HTML) to download."""

from __future__ import annotations

import streamlit as st

from retention.auth.roles import Permission
from retention.data.layers import LayerKind
from retention.errors import ScenarioError, SnapshotWriteError
from retention.escaping import markdown_text
from retention.i18n import LANGUAGE_NAMES, LANGUAGES, t
from retention.report.enterprise_tables import enterprise_names
from retention.report.snapshot import MEDIA_TYPES, ChartBlock, SnapshotFormat, TableBlock
from ui import auth, cached_reports, cached_scenario, state
from ui.cached_parameters import current_parameters
from ui.entry import page_park, require_app_navigation
from ui.errors import LOGGER

require_app_navigation()

BUILD = "reports.build"
DOWNLOAD = "reports.download"
NO_ENTERPRISE = ""

lang = state.lang()
# Planners and admins: any enterprise or none; HR: one of its own enterprises only (the pipeline
# refuses any other snapshot for the session's run key, whatever this page offers).
user = auth.require_page("reports")
park = page_park("reports")
st.caption(t("reports.caption", lang))

windows = {window.key: window for window in current_parameters(park).time_windows}
names = enterprise_names(park.layer(LayerKind.ENTERPRISES), lang=lang)
# Every option is kept (ui.state): across pages and languages, and in the URL (only what differs
# from the defaults; a value that is not one of this user's options is ignored).
choices = st.columns(4)
fmt = state.kept(
    choices[0].selectbox,
    state.REPORTS_FORMAT,
    t("reports.format", lang),
    [item.value for item in SnapshotFormat],
    format_func=lambda value: t(f"reports.format.{value}", lang),
)
report_lang = state.kept(
    choices[1].selectbox,
    state.REPORTS_LANGUAGE,
    t("reports.language", lang),
    LANGUAGES,
    index=LANGUAGES.index(lang),  # the interface's language until another is chosen
    format_func=LANGUAGE_NAMES.get,
)
window = state.kept(
    choices[2].selectbox,
    state.REPORTS_WINDOW,
    t("reports.window", lang),
    list(windows),
    index=list(windows).index("weekday_evening") if "weekday_evening" in windows else 0,
    format_func=lambda key: windows[key].label_en if lang == "en" else windows[key].label_zh,
)
own_firms = not user.can(Permission.ALL_ENTERPRISES)
visible = user.visible_enterprises(sorted(names, key=names.get))
if own_firms:
    st.info(t("reports.hr_scope", lang))
enterprise = state.kept(
    choices[3].selectbox,
    state.REPORTS_ENTERPRISE,
    t("reports.enterprise", lang),
    visible if own_firms else [NO_ENTERPRISE, *visible],
    format_func=lambda value: t("reports.enterprise.none", lang) if not value else names[value],
    help=t("reports.enterprise_help", lang),
)
if enterprise is None:  # an HR account whose enterprises are not in this park
    st.warning(t("reports.hr_no_enterprise", lang))
    st.stop()
try:
    scenario = cached_reports.scenario_text(park)  # the sidebar's saved scenario, if chosen
except ScenarioError as error:  # deleted or no longer fitting the park: the baseline instead
    st.error(t("scenario.shown_error", lang, message=markdown_text(error)))
    scenario = None
if scenario is not None:
    st.info(t("reports.with_scenario", lang))
    st.download_button(
        t("reports.scenario_json", lang),
        data=scenario.encode("utf-8"),
        mime="application/json",
        key="reports.scenario_json",
        **auth.audited("scenario", f"parklife-{park.park_id}-scenario.json", park_id=park.park_id),
    )
compare_ids: list[str] = []
if scenario is not None:
    others = {
        record.scenario_id: record.name
        for record in cached_scenario.saved(park)
        if record.scenario_id != state.scenario_id()
    }
    compare_ids = state.kept(
        st.multiselect,
        state.REPORTS_COMPARE,
        t("reports.compare", lang),
        list(others),
        format_func=others.get,
        help=t("reports.compare_help", lang),
    )
compared = cached_reports.saved_texts(park, compare_ids)
options = (
    park.park_id,
    park.data_version,
    fmt,
    report_lang,
    window,
    enterprise,
    scenario or "",
    ",".join(compare_ids),
)
enterprise_id = enterprise or None
content_options = {
    "lang": report_lang,
    "window": window,
    "enterprise_id": enterprise_id,
    "scenario": scenario,
    "compared": compared,
}
file_options = {**content_options, "fmt": fmt}

if st.button(t("reports.build", lang), type="primary", key=BUILD):
    with st.status(t("reports.building", lang), expanded=True) as status:
        status.write(t("reports.step.content", lang))
        key, content = cached_reports.snapshot(park, **content_options)
        status.write(t("reports.step.file", lang, format=fmt.upper()))
        bar = status.progress(0.0)

        def _show(step: str, done: int, total: int) -> None:
            text = t(f"reports.progress.{step}", lang, done=done, total=total)
            bar.progress(done / total, text=text)

        try:
            cached_reports.build_file(park, key=key, progress=_show, **file_options)
        except SnapshotWriteError as error:
            LOGGER.error("snapshot worker failed: %s\n%s", error, error.detail)
            status.update(label=t("reports.failed", lang), state="error", expanded=True)
            st.error(t("reports.write_failed", lang, message=markdown_text(error)))
            st.stop()
        bar.progress(1.0, text=t("reports.progress.done", lang))
        status.update(label=t("reports.ready", lang), state="complete", expanded=False)
    state.set_built_report(options)

if state.built_report() != options:
    st.info(t("reports.not_built", lang))
    st.stop()

# Built before (this run or an earlier one): the content and the file come back from the caches.
key, content = cached_reports.snapshot(park, **content_options)
data = cached_reports.built_file(key=key, **file_options)
if data is None:  # dropped from the shared store by newer files: build it again
    st.info(t("reports.not_built", lang))
    st.stop()
file_name = f"parklife-{park.park_id}-{content.created:%Y%m%d}-{content.version_hash}.{fmt}"
st.download_button(
    t("reports.download", lang, format=fmt.upper(), size=f"{len(data) / 1024:,.0f}"),
    data=data,
    mime=MEDIA_TYPES[SnapshotFormat(fmt)],
    type="primary",
    key=DOWNLOAD,
    **auth.audited(
        "snapshot",
        file_name,
        park_id=park.park_id,
        format=fmt,
        lang=report_lang,
        window=window,
        enterprise=enterprise_id,
        compare=", ".join(compare_ids) or None,
        version=content.version_hash,
    ),
)

st.subheader(t("reports.preview", lang))
st.text("\n".join(content.header_lines()))
metrics = st.columns(4)
for i, kpi in enumerate(content.kpis):
    metrics[i % 4].metric(
        kpi.label, f"{kpi.value_text()} {kpi.unit}".strip(), help=kpi.note or None
    )
for section in content.sections:
    st.markdown(f"#### {markdown_text(section.title)}")
    st.write(markdown_text(section.message))
    for number, block in enumerate(section.blocks):
        if isinstance(block, TableBlock):
            st.markdown(f"**{markdown_text(block.title)}**")
            st.dataframe(
                block.frame, hide_index=True, key=f"reports.table.{section.title}.{number}"
            )
        elif isinstance(block, ChartBlock):
            st.plotly_chart(block.figure, key=f"reports.chart.{section.title}.{number}")
st.caption(t("reports.preview_caption", lang))
