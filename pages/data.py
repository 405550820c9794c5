"""Data: upload a layer file, see its validation report, add the valid rows to the park."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from retention.auth.roles import Permission
from retention.data.columns import IGNORE, LayerColumnMapping
from retention.data.crs import CoordinateSystem
from retention.data.io import RawLayer
from retention.data.layers import LAYER_SPECS, LayerKind
from retention.errors import DamagedFileError, MissingColumnsError, ValidationError
from retention.escaping import markdown_text
from retention.i18n import label, t
from retention.report.issue_text import translated_issues
from ui import audited_saves, auth, cached, layer_import, state
from ui.entry import page_park, require_app_navigation
from ui.storage_notices import damage_notices
from ui.upload_progress import UploadProgress

require_app_navigation()

FILE_TYPES = ["gpkg", "geojson", "json", "zip", "csv", "xlsx"]
UPLOADABLE = [kind.value for kind in LayerKind]
FLASH = "data.flash"  # message to show once after a rerun (removed)
ADDED = "data.added"  # what the last "add" stored: shown instead of validating that file again
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ISSUE_COLUMNS = ("file", "row", "column", "value", "expected", "message", "severity")

lang = state.lang()
user = auth.require_page("data")
park = page_park("data")
st.caption(t("data.intro", lang))
park_name = park.name(lang)

if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH))

uploaded = st.file_uploader(
    t("data.file", lang), type=FILE_TYPES, key="data.file", help=t("data.file_help", lang)
)
left, right = st.columns(2)
# The layer kind and coordinate system are kept (ui.state): across pages, languages and in the URL.
kind = state.kept(
    left.selectbox,
    state.DATA_KIND,
    t("data.kind", lang),
    UPLOADABLE,
    format_func=lambda value: label("layer", value, lang),
)
system = state.kept(
    right.radio,
    state.DATA_CRS,
    t("data.crs", lang),
    [member.value for member in CoordinateSystem],
    format_func=lambda value: t(f"common.crs.{value}", lang),
    help=t("data.crs_help", lang),
)
left.download_button(
    t("import.data.template", lang, layer=label("layer", kind, lang)),
    cached.layer_template(kind),
    key="data.template",
    **auth.audited(
        "layer_template", f"parklife_{kind}_template.xlsx", park_id=park.park_id, kind=kind
    ),
    help=t("import.data.template_help", lang),
)


def _issues_table(issues: pd.DataFrame) -> pd.DataFrame:
    shown = issues[[c for c in ISSUE_COLUMNS if c in issues]].copy()
    shown = translated_issues(shown, lang, columns=("message", "expected"))
    shown["severity"] = [t(f"import.severity.{s}", lang) for s in shown["severity"]]
    return shown.rename(columns={c: t(f"data.col.{c}", lang) for c in ISSUE_COLUMNS})


def _mapping_step(raw: RawLayer, file_key: str) -> LayerColumnMapping | None:
    """Show the column mapping and the choice value map; return the mapping (None if invalid)."""
    headers = cached.layer_headers(raw)
    mappings = cached.mapping_store()
    proposal, saved = layer_import.proposed_mapping(mappings, park.park_id, kind, headers)
    st.subheader(t("import.data.mapping", lang))
    st.caption(t("import.data.mapping_help", lang))
    if saved:
        st.info(t("import.data.mapping_saved_found", lang))
    edited = st.data_editor(
        pd.DataFrame({"column": list(proposal.columns), "target": list(proposal.targets)}),
        key=f"data.mapping_editor.{file_key}",
        hide_index=True,
        disabled=["column"],
        column_config={
            "column": st.column_config.TextColumn(t("import.data.col.column", lang)),
            "target": st.column_config.SelectboxColumn(
                t("import.data.col.target", lang),
                options=list(layer_import.targets(kind)),
                required=True,
            ),
        },
    )
    try:
        mapping = LayerColumnMapping(
            kind,
            tuple(str(c) for c in edited["column"]),
            tuple(str(v) if isinstance(v, str) and v else IGNORE for v in edited["target"]),
            proposal.values,
        )
    except ValidationError as error:
        st.error(f"{t('import.data.mapping_error', lang)} {markdown_text(error)}")
        return None
    choices = cached.choice_values(data, uploaded.name, layer, mapping)
    if not choices.empty:
        st.markdown(f"**{t('import.data.values', lang)}**")
        st.caption(t("import.data.values_help", lang))
        options = sorted(
            {c for f in choices["field"] for c in LAYER_SPECS[LayerKind(kind)].field(f).choices}
        )
        edited_choices = st.data_editor(
            choices.assign(source=[t(f"import.data.source.{s}", lang) for s in choices["source"]]),
            key=f"data.values_editor.{file_key}",
            hide_index=True,
            disabled=["field", "value", "count", "source"],
            column_config={
                "field": st.column_config.TextColumn(t("import.data.col.field", lang)),
                "value": st.column_config.TextColumn(t("import.data.col.value", lang)),
                "count": st.column_config.NumberColumn(t("import.data.col.count", lang)),
                "code": st.column_config.SelectboxColumn(
                    t("import.data.col.code", lang), options=options
                ),
                "source": st.column_config.TextColumn(t("import.data.col.source", lang)),
            },
        )
        try:
            values = layer_import.values_from_choices(
                choices.assign(code=edited_choices["code"].to_numpy()), kind
            )
        except ValidationError as error:
            st.error(f"{t('import.data.mapping_error', lang)} {markdown_text(error)}")
            return None
        mapping = mapping.with_values(values)
    audited_saves.save_button(  # refused if someone saved this layout's mapping meanwhile
        t("import.data.save_mapping", lang),
        key="data.save_mapping",
        save=lambda chosen, version: audited_saves.save_layer_mapping(
            park.park_id, chosen, expected_version=version
        ),
        args=(mapping, mappings.layer_mapping_version(park.park_id, kind, headers)),
        saved_text=t("import.data.mapping_saved", lang),
    )
    return mapping


def _show_file_error(error: ValidationError) -> None:
    if isinstance(error, MissingColumnsError):
        fields = "、".join(t(f"import.field.{f}", lang) for f in error.fields)
        st.error(
            t("import.data.missing_columns", lang, n=len(error.fields), fields=fields),
            icon=":material/error:",
        )
        st.caption(t("import.data.error_detail", lang, error=markdown_text(error)))
    else:
        st.error(f"{t('data.file_error', lang)} {markdown_text(error)}", icon=":material/error:")


def _show_added(added: dict[str, object]) -> None:
    """What the last "add" stored, and where to go next (the file is not validated again)."""
    st.success(
        t(
            "import.data.added",
            lang,
            count=added["count"],
            layer=label("layer", str(added["kind"]), lang),
            file=markdown_text(added["file"]),
            upload_id=added["upload_id"],
        )
    )
    if added.get("warnings"):
        st.caption(t("import.data.added_warnings", lang, n=added["warnings"]))
    st.markdown(f"**{t('import.data.next', lang)}**")
    links = st.columns(3)
    links[0].page_link("pages/map.py", label=t("import.data.next_map", lang), icon=":material/map:")
    links[1].page_link(
        "pages/gaps.py", label=t("import.data.next_gaps", lang), icon=":material/insights:"
    )
    links[2].caption(t("import.data.next_upload", lang))


if uploaded is not None:
    data = uploaded.getvalue()
    file_key = hashlib.sha256(data).hexdigest()[:16]
    added = st.session_state.get(ADDED)
    if added is not None and added.get("file_key") == file_key and added.get("kind") == kind:
        _show_added(added)
    validation = None
    if added is None or added.get("file_key") != file_key or added.get("kind") != kind:
        st.session_state.pop(ADDED, None)
        progress = None
        try:
            # Large files: a progress bar over the steps; the size limit is checked first.
            progress = UploadProgress(
                uploaded.name, len(data), steps=("read", "validate"), lang=lang
            )
            progress.step("read")
            names = cached.layer_names(data, uploaded.name)
            layer = None
            if len(names) > 1:
                layer = st.selectbox(t("data.layer", lang), names, key="data.layer")
            raw = cached.raw_layer(data, uploaded.name, layer)
            mapping = _mapping_step(raw, file_key)
            if mapping is not None:
                progress.step("validate", rows=f"{len(raw.frame):,}")
                validation = cached.validated_upload(
                    data,
                    file_name=uploaded.name,
                    kind=kind,
                    coordinate_system=system,
                    layer=layer,
                    park=park,
                    mapping=mapping,
                )
            progress.finish(rows=len(raw.frame))
        except ValidationError as error:
            if progress is not None:
                progress.fail()
            _show_file_error(error)
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
            # The rejected rows (CSV, XLSX) and the issues (CSV), each download audited.
            downloads = (
                ("rejected_csv", "layer_rejected_rows", validation.rejected, "rejected.csv"),
                ("rejected_xlsx", "layer_rejected_rows", validation.rejected, "rejected.xlsx"),
                ("issues_csv", "layer_issues", validation.issues, "issues.csv"),
            )
            for column, (name, what, table, suffix) in zip(st.columns(3), downloads, strict=True):
                as_xlsx = suffix.endswith(".xlsx")
                column.download_button(
                    t(f"data.download_{name}", lang),
                    cached.table_xlsx(table, sheet_name="rejected")
                    if as_xlsx
                    else cached.table_csv(table),
                    mime=XLSX_MIME if as_xlsx else "text/csv",
                    key=f"data.download_{name}",
                    **auth.audited(
                        what,
                        f"{stem}_{suffix}",
                        park_id=park.park_id,
                        kind=kind,
                        rows=len(table),
                    ),
                    disabled=table.empty,
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
                scope=user,
            )
            # The mapping that read the file is kept for the park's next file of this layout.
            cached.mapping_store().save_layer_mapping(park.park_id, mapping)
            st.session_state[ADDED] = {
                "file_key": file_key,
                "kind": kind,
                "file": uploaded.name,
                "count": len(validation.valid),
                "warnings": warnings,
                "upload_id": upload_id,
            }
            st.rerun()

st.divider()
st.subheader(t("data.uploads", lang))
store = cached.upload_store()
records = store.list_uploads(park.park_id)
damage_notices(
    store.damage_notes(park.park_id),
    headline="store.damaged_uploads",
    restore=lambda: store.restore_manifest(park.park_id),
    key="data",
)
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
    try:
        report = store.load_report(park.park_id, record.upload_id)
    except DamagedFileError as error:
        report_column.caption(t("store.report_damaged", lang), help=str(error))
    else:
        report_column.download_button(
            t("data.download_report", lang),
            cached.table_csv(report.issues),
            mime="text/csv",
            key=f"data.report.{record.upload_id}",
            **auth.audited(
                "upload_report",
                f"{record.upload_id}_issues.csv",
                park_id=park.park_id,
                upload_id=record.upload_id,
            ),
        )
    # Deleting an upload is an admin's (retention.storage.uploads checks it again).
    if user.can(Permission.DELETE_UPLOAD) and remove_column.button(
        t("data.remove", lang), key=f"data.remove.{record.upload_id}"
    ):
        store.remove_upload(park.park_id, record.upload_id, scope=user)
        st.session_state[FLASH] = t("data.removed", lang, upload_id=record.upload_id)
        st.rerun()
