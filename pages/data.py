"""Data: upload a layer file, see its validation report, add the valid rows to the park."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from retention.data.crs import CoordinateSystem
from retention.data.io import table_to_csv_bytes, table_to_xlsx_bytes
from retention.data.layers import LayerKind
from retention.errors import ValidationError
from retention.escaping import markdown_text
from retention.i18n import label, t
from ui import cached, state
from ui.entry import require_app_navigation
from ui.notices import synthetic_notice

require_app_navigation()

FILE_TYPES = ["gpkg", "geojson", "json", "zip", "csv", "xlsx"]
UPLOADABLE = [kind.value for kind in LayerKind]
FLASH = "data.flash"  # message to show once after a rerun (added / removed)
ISSUE_COLUMNS = ("file", "row", "column", "value", "expected", "message", "severity")

lang = state.lang()
park = cached.current_park()
st.title(t("data.title", lang))
if park is None:
    st.info(t("data.no_park", lang))
    st.stop()
synthetic_notice(park)
st.caption(t("data.intro", lang))
park_name = park.name(lang)

if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH))

uploaded = st.file_uploader(
    t("data.file", lang), type=FILE_TYPES, key="data.file", help=t("data.file_help", lang)
)
left, right = st.columns(2)
kind = left.selectbox(
    t("data.kind", lang),
    UPLOADABLE,
    key="data.kind",
    format_func=lambda value: label("layer", value, lang),
)
system = right.radio(
    t("data.crs", lang),
    [member.value for member in CoordinateSystem],
    key="data.crs",
    format_func=lambda value: t(f"common.crs.{value}", lang),
    help=t("data.crs_help", lang),
)


def _issues_table(issues: pd.DataFrame) -> pd.DataFrame:
    shown = issues[[c for c in ISSUE_COLUMNS if c in issues]].copy()
    return shown.rename(columns={c: t(f"data.col.{c}", lang) for c in ISSUE_COLUMNS})


if uploaded is not None:
    data = uploaded.getvalue()
    try:
        names = cached.layer_names(data, uploaded.name)
        layer = None
        if len(names) > 1:
            layer = st.selectbox(t("data.layer", lang), names, key="data.layer")
        validation = cached.validated_upload(
            data,
            file_name=uploaded.name,
            kind=kind,
            coordinate_system=system,
            layer=layer,
            park=park,
        )
    except ValidationError as error:
        st.error(f"{t('data.file_error', lang)} {markdown_text(error)}", icon=":material/error:")
        validation = None

    if validation is not None:
        st.subheader(t("data.report", lang, file=markdown_text(uploaded.name)))
        warnings = (
            int((validation.issues["severity"] == "warning").sum())
            if "severity" in validation.issues
            else 0
        )
        counts = st.columns(3)
        counts[0].metric(t("data.valid_rows", lang), len(validation.valid))
        counts[1].metric(t("data.rejected_rows", lang), len(validation.rejected))
        counts[2].metric(t("data.warnings", lang), warnings)
        if validation.issues.empty:
            st.success(t("data.all_valid", lang))
        else:
            st.markdown(f"**{t('data.issues', lang)}**")
            st.dataframe(_issues_table(validation.issues), hide_index=True, key="data.issues")
            stem = uploaded.name.rsplit(".", 1)[0]
            buttons = st.columns(3)
            buttons[0].download_button(
                t("data.download_rejected_csv", lang),
                table_to_csv_bytes(validation.rejected),
                file_name=f"{stem}_rejected.csv",
                mime="text/csv",
                key="data.download_rejected_csv",
                disabled=validation.rejected.empty,
            )
            buttons[1].download_button(
                t("data.download_rejected_xlsx", lang),
                table_to_xlsx_bytes(validation.rejected, sheet_name="rejected"),
                file_name=f"{stem}_rejected.xlsx",
                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                key="data.download_rejected_xlsx",
                disabled=validation.rejected.empty,
            )
            buttons[2].download_button(
                t("data.download_issues_csv", lang),
                table_to_csv_bytes(validation.issues),
                file_name=f"{stem}_issues.csv",
                mime="text/csv",
                key="data.download_issues_csv",
            )
        if validation.valid.empty:
            st.info(t("data.nothing_to_add", lang))
        elif st.button(
            t("data.add", lang, count=len(validation.valid), park=markdown_text(park_name)),
            key="data.add",
            type="primary",
        ):
            upload_id = cached.upload_store().add_upload(
                park.park_id,
                kind,
                validation,
                source_name=uploaded.name,
                coordinate_system=system,
            )
            st.session_state[FLASH] = t(
                "data.added",
                lang,
                count=len(validation.valid),
                file=markdown_text(uploaded.name),
                upload_id=upload_id,
            )
            st.rerun()

st.divider()
st.subheader(t("data.uploads", lang))
store = cached.upload_store()
records = store.list_uploads(park.park_id)
if not records:
    st.caption(t("data.no_uploads", lang))
for record in records:
    line, report_column, remove_column = st.columns([6, 1, 1])
    line.markdown(
        t(
            "data.upload_line",
            lang,
            layer=label("layer", record.kind, lang),
            file=markdown_text(record.source_name),
            system=record.coordinate_system.upper(),
            valid=record.valid_rows,
            rejected=record.rejected_rows,
            time=record.uploaded_at,
        )
    )
    report = store.load_report(park.park_id, record.upload_id)
    report_column.download_button(
        t("data.download_report", lang),
        table_to_csv_bytes(report.issues),
        file_name=f"{record.upload_id}_issues.csv",
        mime="text/csv",
        key=f"data.report.{record.upload_id}",
    )
    if remove_column.button(t("data.remove", lang), key=f"data.remove.{record.upload_id}"):
        store.remove_upload(park.park_id, record.upload_id)
        st.session_state[FLASH] = t("data.removed", lang, upload_id=record.upload_id)
        st.rerun()
