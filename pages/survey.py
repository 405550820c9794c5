"""Survey: import a Wenjuanxing export, check the mapping, read weighted IPA, cohorts and reasons.

Every table and chart here comes from ``retention.survey.analysis`` and has passed the
k-anonymity rule (``retention.survey.privacy``); raw response rows are never shown.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from retention.auth.roles import Permission
from retention.data.layers import LayerKind
from retention.errors import ParkLifeError
from retention.escaping import markdown_text
from retention.i18n import t
from retention.report.gap_tables import feature_names
from retention.report.issue_text import translated_issues
from retention.report.survey_tables import (
    GROUPINGS,
    code_label,
    cohort_table,
    ipa_figure,
    ipa_legend,
    ipa_points,
    labels_to_codes,
    reason_bars,
    results_workbook,
    suppressed_rows,
    target_label,
)
from retention.survey.coding import CODE_OPTIONS
from retention.survey.importer import SurveyImport
from retention.survey.link import LinkParameters
from retention.survey.mapping import MAPPING_TARGETS, ColumnMapping
from retention.survey.schema import AgeBand
from retention.survey.weighting import WeightingParameters
from ui import audited_saves, auth, busy, cached, cached_survey, state, survey_import
from ui.cached_parameters import current_parameters
from ui.entry import page_park, require_app_navigation
from ui.storage_notices import survey_damage_notice
from ui.upload_progress import UploadProgress

require_app_navigation()

lang = state.lang()
user = state.scope()
park = page_park("survey")
st.caption(t("survey.intro", lang))

# Actions run as button callbacks (before the rerun a click starts) and leave their message
# here for that run to show.
FLASH = "survey.flash"  # (kind, message, detail) of a wave save/remove
store = cached_survey.survey_store()


def _show_error(message: str, detail: str) -> None:
    # The exception text is English and technical: the user's language leads, it only follows.
    st.error(message)
    if detail:
        st.caption(t("survey.error_detail", lang, error=markdown_text(detail)))


def _save(result: SurveyImport, source_name: str, wave_label: str) -> None:
    try:
        store.save_wave(park.park_id, result, source_name=source_name, wave=wave_label, scope=user)
    except ParkLifeError as exc:
        message = t("survey.save_error", lang, wave=markdown_text(wave_label.strip()))
        st.session_state[FLASH] = ("error", message, str(exc))
    else:
        message = t(
            "survey.saved", lang, wave=markdown_text(wave_label.strip()), n=len(result.survey)
        )
        st.session_state[FLASH] = ("success", message, "")


def _remove(wave_id: str, wave_label: str) -> None:
    store.remove_wave(park.park_id, wave_id, scope=user)
    message = t("survey.removed", lang, wave=markdown_text(wave_label))
    st.session_state[FLASH] = ("success", message, "")


# --- the park's stored survey ------------------------------------------------------------------
st.subheader(t("survey.stored_title", lang))
flash = st.session_state.pop(FLASH, None)
if flash is not None:
    if flash[0] == "success":
        st.success(flash[1])
    else:
        _show_error(flash[1], flash[2])
survey_damage_notice(park.park_id, offer_restore=True)
records = store.list_waves(park.park_id)
if not records:
    has_demo = cached_survey.has_demo_survey(park)
    st.info(t("survey.stored_none_demo" if has_demo else "survey.stored_none", lang))
else:
    st.caption(
        t(
            "survey.stored_current",
            lang,
            count=len(records),
            n=f"{sum(r.valid_rows for r in records):,}",
        )
    )
    for record in records:
        text, download, remove = st.columns([6, 1.3, 1])
        text.markdown(
            t(
                "survey.stored_wave",
                lang,
                wave=markdown_text(record.wave),
                file=markdown_text(record.source_name),
                valid=f"{record.valid_rows:,}",
                rejected=f"{record.rejected_rows:,}",
                time=record.imported_at.replace("T", " ")[:16],
            )
        )
        # Counts and issue locations only: rejected rows (one respondent's answers each) are
        # offered for download in the uploading session alone, below.
        if user.can(Permission.IMPORT_SURVEY):
            download.download_button(
                t("survey.download_report", lang),
                cached_survey.wave_report(park, record.wave_id),
                key=f"survey.report.{record.wave_id}",
                **auth.audited(
                    "survey_wave_report",
                    f"survey_{record.wave}_report.xlsx",
                    park_id=park.park_id,
                    wave_id=record.wave_id,
                ),
                help=t("survey.download_report_help", lang),
            )
        # Deleting a wave is an admin's (retention.storage.waves checks it again).
        if user.can(Permission.DELETE_WAVE):
            remove.button(
                t("survey.remove", lang),
                key=f"survey.remove.{record.wave_id}",
                on_click=_remove,
                args=(record.wave_id, record.wave),
            )

# Planners and admins import files (a preview, then a stored wave); HR and viewers read the
# park's current survey (stored waves, else the demo survey) and nothing of any file.
importer = user.can(Permission.IMPORT_SURVEY)
if importer:
    source = st.radio(
        t("survey.source", lang),
        ["demo", "upload"],
        key="survey.source",
        horizontal=True,
        format_func=lambda value: t(f"survey.source.{value}", lang),
    )
    st.download_button(
        t("import.survey.template", lang),
        cached.survey_template(),
        key="survey.template",
        **auth.audited("survey_template", "parklife_survey_template.xlsx", park_id=park.park_id),
        help=t("import.survey.template_help", lang),
    )
    if source == "demo":
        data, file_name = cached_survey.demo_survey_bytes(), cached_survey.DEMO_SURVEY.name
        st.warning(t("survey.synthetic_survey", lang), icon=":material/science:")
    else:
        uploaded = st.file_uploader(t("survey.file", lang), type=["csv", "xlsx", "txt"],
                                    key="survey.file")  # fmt: skip
        if uploaded is None:
            st.info(t("survey.upload_prompt", lang))
            st.stop()
        data, file_name = uploaded.getvalue(), uploaded.name
    wave = st.text_input(t("survey.wave", lang), value="2024-spring", key="survey.wave")

    progress = None
    try:
        # Large files: a progress bar over the steps; the size limit is checked first.
        progress = UploadProgress(file_name, len(data), steps=("read", "import"), lang=lang)
        progress.step("read")
        with busy.showing(busy.message("read_survey", lang), when=not progress.shown):
            raw = cached_survey.raw_survey(data, file_name)
    except ParkLifeError as exc:
        if progress is not None:
            progress.fail()
        _show_error(t("survey.read_error", lang), str(exc))
        st.stop()
    if raw.dropped_columns:
        dropped = "、".join(markdown_text(column) for column in raw.dropped_columns)
        st.info(t("survey.dropped_columns", lang, columns=dropped))

    # --- mapping ---------------------------------------------------------------------------------
    st.subheader(t("survey.mapping", lang))
    st.caption(t("survey.mapping_help", lang))
    st.caption(t("import.survey.layout", lang, layout=t(f"import.layout.{raw.layout.name}", lang)))
    mappings = cached.mapping_store()
    saved = mappings.load_survey_mapping(park.park_id, raw.headers)
    saved_version = mappings.survey_mapping_version(park.park_id, raw.headers)
    if saved is not None:
        st.info(t("survey.mapping_saved_found", lang))
    proposal = (
        saved
        if saved is not None
        else survey_import.proposed_mapping(raw, mappings.known_survey_targets(park.park_id))
    )
    # The editor shows what each target means in the user's language; choices are read back to
    # their codes (a choice made before a language switch comes back in the other language).
    target_codes = labels_to_codes(MAPPING_TARGETS, target_label)
    proposed = proposal.to_frame()
    edited = st.data_editor(
        proposed.assign(target=[target_label(str(v), lang) for v in proposed["target"]]),
        key="survey.mapping_editor",
        hide_index=True,
        disabled=["column", "score"],
        column_config={
            "column": st.column_config.TextColumn(t("survey.col.column", lang)),
            "target": st.column_config.SelectboxColumn(
                t("survey.col.target", lang),
                options=[target_label(v, lang) for v in MAPPING_TARGETS],
                required=True,
            ),
            "score": st.column_config.NumberColumn(t("survey.col.score", lang), format="%.0f"),
        },
    )
    try:
        mapping = ColumnMapping.from_frame(
            edited.assign(target=[target_codes.get(str(v), str(v)) for v in edited["target"]])
        )
    except ParkLifeError as exc:
        _show_error(t("survey.mapping_error", lang), str(exc))
        st.stop()

    # --- values: every answer of the coded questions, its count and its code ---
    st.subheader(t("import.values.title", lang))
    st.caption(t("import.values.help", lang))
    saved_values = mappings.load_value_map(park.park_id)
    with busy.showing(busy.message("survey_answers", lang)):
        answers = cached_survey.answers(data, file_name, mapping, saved_values)
    answer_codes = labels_to_codes(CODE_OPTIONS, code_label)
    edited_values = st.data_editor(
        answers.assign(
            group=[t(f"import.group.{g}", lang) for g in answers["group"]],
            code=[
                c if pd.isna(c) or c == "" else code_label(str(c), lang) for c in answers["code"]
            ],
            source=[t(f"import.source.{s}", lang) for s in answers["source"]],
        ),
        # Edits are kept by row position: a new file or mapping (another table) starts afresh.
        key=f"survey.values_editor.{cached_survey.answers_key(data, mapping)}",
        hide_index=True,
        disabled=["group", "answer", "count", "columns", "source"],
        column_config={
            "group": st.column_config.TextColumn(t("import.values.col.group", lang)),
            "answer": st.column_config.TextColumn(t("import.values.col.answer", lang)),
            "count": st.column_config.NumberColumn(t("import.values.col.count", lang)),
            "columns": st.column_config.NumberColumn(t("import.values.col.columns", lang)),
            "code": st.column_config.SelectboxColumn(
                t("import.values.col.code", lang),
                options=[code_label(c, lang) for c in CODE_OPTIONS],
            ),
            "source": st.column_config.TextColumn(t("import.values.col.source", lang)),
        },
    )
    # The editor shows translated labels; decisions are read back against the untranslated table.
    decided = answers.assign(
        code=[
            c if pd.isna(c) or c == "" else answer_codes.get(str(c), str(c))
            for c in edited_values["code"]
        ]
    )
    try:
        values = survey_import.value_map(decided)
    except ParkLifeError as exc:
        _show_error(t("survey.mapping_error", lang), str(exc))
        st.stop()
    undecided = survey_import.undecided_answers(decided)
    if len(undecided):
        st.warning(
            t(
                "import.values.unknown",
                lang,
                n=len(undecided),
                answers=markdown_text("、".join(undecided["answer"].head(8))),
            )
        )

    audited_saves.save_button(  # a refused save is shown and audited too
        t("survey.save_mapping", lang),
        key="survey.save_mapping",
        save=lambda chosen, chosen_values, version: audited_saves.save_survey_mapping(
            park.park_id, chosen, values=chosen_values, expected_version=version
        ),
        args=(mapping, values, saved_version),
        saved_text=t("survey.mapping_saved", lang),
    )

    try:
        progress.step("import", rows=f"{len(raw.frame):,}")
        with busy.showing(busy.message("import_survey", lang), when=not progress.shown):
            result = cached_survey.imported_survey(
                data,
                file_name,
                mapping,
                park,
                wave=wave,
                link_parameters=LinkParameters(),
                values=values,
            )
    except ParkLifeError as exc:
        progress.fail()
        _show_error(t("survey.mapping_error", lang), str(exc))
        st.stop()
    progress.finish(rows=result.rows_read)

    # --- validation report ---
    st.subheader(t("survey.validation", lang))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("survey.rows_read", lang), result.rows_read)
    c2.metric(t("survey.rows_kept", lang), len(result.survey))
    c3.metric(t("survey.rows_rejected", lang), len(result.rejected))
    c4.metric(t("import.survey.blank_rows", lang), result.blank_rows)
    issues = cached_survey.issues(result)
    if issues.empty:
        st.success(t("survey.no_issues", lang))
    else:
        issues = translated_issues(issues, lang, columns=("expected",))
        if "rejected" in issues.columns:  # yes/no in the user's language, not True/False
            issues["rejected"] = [
                t(f"survey_words.answer.{'yes' if bool(v) else 'no'}", lang)
                for v in issues["rejected"]
            ]
        st.dataframe(
            issues.rename(columns={c: t(f"survey.issue.{c}", lang) for c in issues.columns}),
            hide_index=True,
            key="survey.issues",
        )
    if len(result.rejected):
        rejected_csv, rejected_xlsx = cached_survey.rejected_downloads(result)
        d1, d2 = st.columns(2)
        d1.download_button(
            t("survey.download_rejected_csv", lang),
            rejected_csv,
            mime="text/csv",
            key="survey.download_rejected_csv",
            **auth.audited(
                "survey_rejected_rows",
                "rejected_rows.csv",
                park_id=park.park_id,
                rows=len(result.rejected),
            ),
        )
        d2.download_button(
            t("survey.download_rejected_xlsx", lang),
            rejected_xlsx,
            key="survey.download_rejected_xlsx",
            **auth.audited(
                "survey_rejected_rows",
                "rejected_rows.xlsx",
                park_id=park.park_id,
                rows=len(result.rejected),
            ),
        )
    to_confirm = result.links[result.links["method"].isin(["fuzzy", "unmatched"])]
    if len(to_confirm):
        st.markdown(f"**{t('survey.links', lang)}**")
        st.caption(t("survey.links_help", lang))
        shown = to_confirm[["layer", "value", "matched_name", "score", "method"]]
        st.dataframe(
            shown.rename(columns={c: t(f"survey.link.{c}", lang) for c in shown.columns}),
            hide_index=True,
            key="survey.links_table",
        )

    # --- add to the park ---
    if source == "upload":
        st.button(
            t("survey.save", lang, wave=markdown_text(wave.strip()), n=f"{len(result.survey):,}"),
            key="survey.save",
            type="primary",
            help=t("survey.save_help", lang),
            disabled=result.survey.empty,
            on_click=_save,
            args=(result, file_name, wave),
        )
    else:
        st.caption(t("survey.save_demo_note", lang))
else:
    with busy.showing(busy.message("current_survey", lang)):
        current = cached_survey.current_survey(park)
    source = current.origin
    if current.survey.empty:
        st.info(t("auth.survey_readonly_none", lang))
        st.stop()
    st.caption(t("auth.survey_readonly_note", lang, n=f"{len(current.survey):,}"))
    if source == "demo":
        st.warning(t("survey.synthetic_survey", lang), icon=":material/science:")


# --- weighting -----------------------------------------------------------------------------------
st.subheader(t("survey.weighting", lang))
st.caption(t("survey.weighting_help", lang))
w1, w2 = st.columns(2)
trim = w1.number_input(
    t("survey.trim", lang), min_value=0.0, max_value=50.0, value=0.0, step=1.0, key="survey.trim"
)
# Starts at the park's saved k (Assumptions page); raising it here is a what-if for this page,
# lowering it below the saved k is not allowed (smaller groups would be shown and exported).
saved_k = current_parameters(park).privacy.min_group_size
chosen_k = w2.number_input(
    t("survey.k", lang),
    min_value=saved_k,
    max_value=max(100, saved_k),
    value=saved_k,
    step=1,
    key="survey.k",
    help=t("survey.k_help", lang, k=saved_k),
)
# A value kept in the session from before the saved k was raised must not undercut it either.
k = max(int(chosen_k), saved_k)
weighting_parameters = WeightingParameters(trim_max_ratio=trim if trim > 1 else None)
try:
    with busy.showing(busy.message("survey_weights", lang)):
        if importer:
            weighting = cached_survey.weights(
                data, result, park, wave=wave, parameters=weighting_parameters
            )
        else:
            weighting = cached_survey.current_weights(park, parameters=weighting_parameters)
except ParkLifeError as exc:
    _show_error(t("survey.weights_error", lang), str(exc))
    st.stop()
with busy.showing(busy.message("survey_analysis", lang)):
    if importer:
        analysis = cached_survey.analysis_key(
            data,
            result,
            park,
            wave=wave,
            weighting=weighting_parameters,
            min_group_size=k,
            values=values,
        )
    else:
        analysis, result = cached_survey.current_analysis(  # type: ignore[assignment]
            park, weighting=weighting_parameters, min_group_size=k
        )
m1, m2, m3 = st.columns(3)
m1.metric(t("survey.respondents", lang), len(result.survey))
m2.metric(t("survey.effective_n", lang), f"{weighting.effective_n:,.0f}")
m3.metric(t("survey.design_effect", lang), f"{weighting.design_effect:.2f}")
st.caption(t("survey.uncovered", lang, count=len(weighting.uncovered_enterprises)))
w = weighting.weights


def _suppression_caption(table: pd.DataFrame) -> None:
    count = suppressed_rows(table)
    if count:
        st.caption(t("survey.suppressed_note", lang, count=count, k=k))


# --- IPA -----------------------------------------------------------------------------------------
st.subheader(t("survey.ipa", lang))
i1, i2 = st.columns(2)
kind = state.kept(
    i1.radio,
    state.SURVEY_IMPORTANCE,
    t("survey.importance_kind", lang),
    ["stated", "derived_overall", "derived_intent"],
    format_func=lambda value: t(f"survey.importance.{value}", lang),
)
cohort = state.kept(
    i2.selectbox,
    state.SURVEY_COHORT,
    t("survey.cohort", lang),
    ["all", *(b.value for b in AgeBand)],
    format_func=lambda v: t("survey.cohort.all" if v == "all" else f"survey.age.{v}", lang),
)
with busy.showing(busy.message("survey_analysis", lang)):
    chart = cached_survey.ipa_chart(
        analysis, kind, None if cohort == "all" else cohort, result, w, park
    )
if chart.suppressed:
    st.info(t("survey.ipa_suppressed", lang, k=k))
else:
    chart_column, legend_column = st.columns([3, 2])
    chart_column.plotly_chart(ipa_figure(chart, lang=lang), key="survey.ipa_chart")
    legend_column.caption(t("survey_words.ipa.legend", lang))
    legend_column.dataframe(
        ipa_legend(ipa_points(chart.points, lang=lang), lang=lang, importance_kind=kind),
        hide_index=True,
        key="survey.ipa_legend",
    )
    st.caption(t(f"survey_words.ipa.explain.{kind}", lang))

# --- cohort table --------------------------------------------------------------------------------
st.subheader(t("survey.cohort_table", lang))
g1, g2 = st.columns(2)
# Only the breakdowns the user's role may see (viewer: age cohorts; HR: + its own enterprises);
# the tables check the scope again and keep HR to its own enterprises' rows.
group_by = state.kept(
    g1.selectbox,
    state.SURVEY_GROUP_BY,
    t("survey.group_by", lang),
    auth.survey_breakdowns(list(GROUPINGS)),
    format_func=lambda value: t(f"survey.group.{value}", lang),
)
measure = state.kept(
    g2.radio,
    state.SURVEY_MEASURE,
    t("survey.measure", lang),
    ["sat", "imp"],
    horizontal=True,
    format_func=lambda value: t(f"survey.measure.{value}", lang),
)
with busy.showing(busy.message("survey_analysis", lang)):
    means = cached_survey.cohort_means(analysis, measure, group_by, result, w, park, user)
# Enterprises, residences and zones by their names (never their ids).
names = {
    "enterprise_id": feature_names(park.layers.get(LayerKind.ENTERPRISES), lang),
    "residence_id": feature_names(park.layers.get(LayerKind.RESIDENCES), lang),
    "zone_id": feature_names(park.layers.get(LayerKind.ZONES), lang),
}
st.dataframe(
    cohort_table(means, lang=lang, by=group_by, names=names.get(group_by)),
    key="survey.cohort_table",
)
_suppression_caption(means)

# --- reasons -------------------------------------------------------------------------------------
st.subheader(t("survey.reasons", lang))
only_intending = st.checkbox(t("survey.only_intending", lang), key="survey.only_intending")
with busy.showing(busy.message("survey_analysis", lang)):
    reasons = cached_survey.reasons(analysis, only_intending, result, w, park, user)
bars = reason_bars(reasons, lang=lang)
bar = go.Figure(
    go.Bar(
        x=bars["share"],
        y=bars["name"],
        orientation="h",
        error_x={
            "type": "data",
            "symmetric": False,
            "array": bars["plus"],
            "arrayminus": bars["minus"],
        },
    )
)
bar.update_layout(xaxis_title=t("survey.axis.share", lang), xaxis_tickformat=".0%", height=360,
                  margin={"t": 20})  # fmt: skip
st.plotly_chart(bar, key="survey.reasons_chart")
_suppression_caption(reasons)

# --- downloads -----------------------------------------------------------------------------------
if not user.can(Permission.EXPORT):
    st.caption(t("auth.survey_no_export", lang))
    st.stop()
note = t("survey.export_note", lang)
if source == "demo" or park.synthetic:
    note = t("survey.synthetic_export_note", lang) + " " + note
sheets = ["ipa", f"{measure}_by_{group_by}", "reasons", "weighting"]
workbook = results_workbook(
    ipa=chart,
    means=means,
    measure=measure,
    by=group_by,
    reasons=reasons,
    weighting=cached_survey.weighting_sheet(analysis, result, w, park, user),
    names=names,
    lang=lang,
    note=note,
)
st.download_button(
    t("survey.download_aggregates", lang),
    workbook,
    key="survey.download_aggregates",
    **auth.audited(
        "survey_results",
        "survey_results.xlsx",
        park_id=park.park_id,
        by=group_by,
        measure=measure,
        sheets=sheets,
    ),
)
