"""Assumptions: every planning parameter with value, unit, range and source, editable per park.

The widgets edit a copy of the saved parameters' document (``retention.park_parameters``); the
same validation as a parameters file decides whether it can be saved. Saved values reach every
page through ``ui.cached_parameters``.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from retention.access.parameters import DAY_TYPES
from retention.auth.roles import Permission
from retention.data.layers import CAPACITY_UNITS, AmenityCategory
from retention.errors import ParameterError, StaleVersionError
from retention.escaping import markdown_text
from retention.i18n import label, t
from retention.park_parameters import (
    DECAY_KINDS,
    DEFAULT_VERSION,
    PARAMETERS_FILE,
    SCALARS,
    WINDOW_SOURCES,
    ParkParameters,
    ScalarSpec,
)
from retention.safe_cells import csv_bytes
from ui import auth, cached_parameters, state
from ui.entry import page_park, require_app_navigation
from ui.storage_notices import stale_notice

require_app_navigation()

LOADED = "assumptions.loaded"  # (park id, parameters version) the widgets were filled from
FLASH = "assumptions.flash"  # message to show after the rerun that follows a save/reset/restore
SAVE = "assumptions.save"
RESET = "assumptions.reset"
UPLOAD = "assumptions.upload"
RESTORE = "assumptions.restore"
WINDOWS = "assumptions.windows"
TIERS = "assumptions.tiers"
CATEGORIES = "assumptions.categories"
DECAY_KIND = "assumptions.decay.kind"
DECAY_ZONES = "assumptions.decay.zones"
DECAY_BANDWIDTH = "assumptions.decay.bandwidth_minutes"
EDITORS = (WINDOWS, TIERS, CATEGORIES, DECAY_ZONES)
_STEPS = {
    "probability": 0.01,
    "ratio": 0.05,
    "cny": 500.0,
    "metres": 10.0,
    "kmh": 0.5,
    "m_per_min": 1.0,
    "minutes": 1.0,
}
_CHANGED_STYLE = "background-color: rgba(255, 193, 7, 0.25)"


def _scalar_key(spec: ScalarSpec) -> str:
    return f"assumptions.{spec.path}"


def _fill_widgets(saved: ParkParameters, *, force: bool) -> None:
    """Show ``saved`` in the widgets: all of them when ``force``, else only those without state.

    Streamlit drops a widget's state when a run does not render it (another page was shown),
    so a widget without state is refilled from the saved values.
    """
    document = cached_parameters.to_document(saved)
    values = {_scalar_key(spec): document[spec.section][spec.key] for spec in SCALARS}
    values[DECAY_KIND] = saved.decay.kind
    values[DECAY_BANDWIDTH] = float(saved.decay.bandwidth_minutes or 10.0)
    for key, value in values.items():
        if force or key not in st.session_state:
            st.session_state[key] = value
    if force:
        for key in EDITORS:  # the editors restart from the saved values
            st.session_state.pop(key, None)


def _changed_marker(spec: ScalarSpec, value: object) -> str:
    default = cached_parameters.to_document(ParkParameters())[spec.section][spec.key]
    if value == default:
        return ""
    return f" :orange[{t('assumptions.default_marker', lang, default=f'{default:g}')}]"


def _scalar_inputs(section: str) -> None:
    for spec in SCALARS:
        if spec.section != section:
            continue
        key = _scalar_key(spec)
        name = t(f"assumptions.param.{spec.path}", lang)
        unit = t(f"assumptions.unit.{spec.unit}", lang)
        left, middle, right = st.columns([3, 2, 5], vertical_alignment="center")
        left.markdown(
            f"**{name}**  \n{unit} · " + t("assumptions.range", lang, range=spec.range_text)
        )
        if spec.integer:
            middle.number_input(
                name,
                min_value=int(spec.low),
                max_value=int(spec.high),
                step=1,
                key=key,
                label_visibility="collapsed",
            )
        else:
            middle.number_input(
                name,
                min_value=float(spec.low),
                max_value=float(spec.high),
                step=_STEPS.get(spec.unit, 1.0),
                format="%.2f" if spec.unit in ("probability", "ratio") else "%.1f",
                key=key,
                label_visibility="collapsed",
            )
        right.caption(
            cached_parameters.cited_source(spec.source, lang)
            + _changed_marker(spec, st.session_state.get(key))
        )


def _number_or_none(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


lang = state.lang()
user = state.scope()
editor = user.can(Permission.EDIT_PARAMETERS)  # planners and admins; others read only
park = page_park("assumptions")
st.caption(t("assumptions.intro", lang))

flash = st.session_state.pop(FLASH, None)
if flash:
    st.success(flash)
try:
    saved = cached_parameters.saved_parameters(park.park_id)
except ParameterError as error:
    st.error(t("assumptions.file_error", lang, message=markdown_text(error)))
    saved = ParkParameters()
version = cached_parameters.parameters_version(park.park_id)
loaded = (park.park_id, version)
_fill_widgets(saved, force=st.session_state.get(LOADED) != loaded)
st.session_state[LOADED] = loaded
document = cached_parameters.to_document(saved)
defaults = ParkParameters()

# --- travel --------------------------------------------------------------------------------
st.header(t("assumptions.section.travel", lang))
st.caption(t("assumptions.section.travel_caption", lang))
_scalar_inputs("travel")

# --- time windows --------------------------------------------------------------------------
st.header(t("assumptions.section.time_windows", lang))
st.caption(t("assumptions.section.time_windows_caption", lang))
window_frame = pd.DataFrame(document["time_windows"])
window_frame["source"] = [
    cached_parameters.cited_source(WINDOW_SOURCES.get(key, ""), lang) for key in window_frame["key"]
]
# The window's code and the route-layer column holding its headway are identifiers, not words for
# a reader: the table leaves them out and the saved document keeps them (rows stay in order).
window_frame = window_frame.drop(columns=["key", "headway_field"])
time_pattern = r"^([01]\d|2[0-4]):[0-5]\d$"
edited_windows = st.data_editor(
    window_frame,
    key=WINDOWS,
    hide_index=True,
    num_rows="fixed",
    disabled=["source"],
    column_order=["label_en", "label_zh", "day_type", "start", "end", "source"],
    column_config={
        "day_type": st.column_config.SelectboxColumn(
            t("assumptions.col.day_type", lang), options=list(DAY_TYPES), required=True
        ),
        "start": st.column_config.TextColumn(
            t("assumptions.col.start", lang), validate=time_pattern, required=True
        ),
        "end": st.column_config.TextColumn(
            t("assumptions.col.end", lang), validate=time_pattern, required=True
        ),
        "label_en": st.column_config.TextColumn(t("assumptions.col.label_en", lang)),
        "label_zh": st.column_config.TextColumn(t("assumptions.col.label_zh", lang)),
        "source": st.column_config.TextColumn(t("assumptions.col.source", lang), width="large"),
    },
)
document["time_windows"] = [
    {
        **window,
        **{name: str(value or "") for name, value in row.items() if name in window},
    }
    for window, row in zip(document["time_windows"], edited_windows.to_dict("records"), strict=True)
]

# --- living circle & gap targets -----------------------------------------------------------
st.header(t("assumptions.section.living_circle", lang))
st.caption(t("assumptions.section.tiers_caption", lang))
tier_frame = pd.DataFrame(
    [
        {
            "name": tier.name,
            "minutes": tier.minutes,
            "metres": tier.metres,
            "metres_strict": tier.metres_strict,
            "clause": cached_parameters.cited_source(
                tier.clause + (" ✱" if tier.verify else ""), lang
            ),
        }
        for tier in saved.living_circle.tiers
    ]
)
edited_tiers = st.data_editor(
    tier_frame,
    key=TIERS,
    hide_index=True,
    num_rows="fixed",
    disabled=["name", "clause"],
    column_config={
        "name": st.column_config.TextColumn(t("assumptions.col.tier", lang)),
        "minutes": st.column_config.NumberColumn(
            t("assumptions.col.minutes", lang), min_value=1.0, max_value=60.0, required=True
        ),
        "metres": st.column_config.NumberColumn(
            t("assumptions.col.metres", lang), min_value=50.0, max_value=5000.0, required=True
        ),
        "metres_strict": st.column_config.NumberColumn(
            t("assumptions.col.metres_strict", lang),
            min_value=50.0,
            max_value=5000.0,
            required=True,
        ),
        "clause": st.column_config.TextColumn(t("assumptions.col.source", lang), width="large"),
    },
)
document["living_circle"]["tiers"] = {
    str(row["name"]): {name: float(row[name]) for name in ("minutes", "metres", "metres_strict")}
    for row in edited_tiers.to_dict("records")
}

st.caption(t("assumptions.section.categories_caption", lang))
requirements = {r.category: r for r in saved.living_circle.requirements}
norm_sources = {norm.category: norm.source for norm in saved.supply_norms}
category_frame = pd.DataFrame(
    [
        {
            "category": label("category", category, lang),
            "tier": values["tier"] or None,
            "target_minutes": values["target_minutes"],
            "cap_minutes": values["cap_minutes"],
            "supply_norm_per_1000": values["supply_norm_per_1000"],
            "norm_unit": t(
                f"assumptions.capacity_unit.{CAPACITY_UNITS[AmenityCategory(category)]}", lang
            ),
            "source": "; ".join(
                part
                for part in (
                    cached_parameters.cited_source(
                        requirements[category].clause
                        + (" ✱" if requirements[category].verify else ""),
                        lang,
                    )
                    if category in requirements
                    else "",
                    cached_parameters.cited_source(saved.gap.target(category).source, lang),
                )
                if part
            ),
        }
        for category, values in document["categories"].items()
    ]
)
edited_categories = st.data_editor(
    category_frame,
    key=CATEGORIES,
    hide_index=True,
    height=35 * (len(category_frame) + 1) + 3,  # every category without scrolling
    num_rows="fixed",
    disabled=["category", "norm_unit", "source"],
    column_config={
        "category": st.column_config.TextColumn(t("assumptions.col.category", lang)),
        "tier": st.column_config.SelectboxColumn(
            t("assumptions.col.tier", lang),
            options=[tier.name for tier in saved.living_circle.tiers],
        ),
        "target_minutes": st.column_config.NumberColumn(
            t("assumptions.col.target_minutes", lang), min_value=0.0, max_value=120.0, required=True
        ),
        "cap_minutes": st.column_config.NumberColumn(
            t("assumptions.col.cap_minutes", lang), min_value=0.0, max_value=240.0, required=True
        ),
        "supply_norm_per_1000": st.column_config.NumberColumn(
            t("assumptions.col.supply_norm_per_1000", lang), min_value=0.0, format="%g"
        ),
        "norm_unit": st.column_config.TextColumn(t("assumptions.col.norm_unit", lang)),
        "source": st.column_config.TextColumn(t("assumptions.col.source", lang), width="large"),
    },
)
category_codes = list(document["categories"])  # the rows' order (the table shows names)
for category, row in zip(category_codes, edited_categories.to_dict("records"), strict=True):
    document["categories"][category] = {
        "tier": str(row["tier"] or ""),
        "target_minutes": _number_or_none(row["target_minutes"]),
        "cap_minutes": _number_or_none(row["cap_minutes"]),
        "supply_norm_per_1000": _number_or_none(row["supply_norm_per_1000"]),
    }

# --- E2SFCA decay ----------------------------------------------------------------------------
st.header(t("assumptions.section.supply", lang))
st.caption(t("assumptions.section.supply_caption", lang))
decay_kind = st.selectbox(
    t("assumptions.decay.kind", lang),
    DECAY_KINDS,
    format_func=lambda kind: t(f"assumptions.decay_kind.{kind}", lang),
    key=DECAY_KIND,
)
decay: dict[str, object] = {"kind": decay_kind}
if decay_kind == "step":
    zones = saved.decay if saved.decay.kind == "step" else defaults.decay
    edited_zones = st.data_editor(
        pd.DataFrame({"zone_minutes": zones.zones_minutes, "weight": zones.weights}),
        key=DECAY_ZONES,
        hide_index=True,
        num_rows="dynamic",
        column_config={
            "zone_minutes": st.column_config.NumberColumn(
                t("assumptions.col.zone_minutes", lang), min_value=0.0, max_value=240.0
            ),
            "weight": st.column_config.NumberColumn(
                t("assumptions.col.weight", lang), min_value=0.0, max_value=1.0, format="%.2f"
            ),
        },
    ).dropna(how="all")
    decay["zones_minutes"] = [float(v) for v in edited_zones["zone_minutes"].fillna(-1.0)]
    decay["weights"] = [float(v) for v in edited_zones["weight"].fillna(-1.0)]
    st.caption(t("assumptions.decay.zones_caption", lang))
elif decay_kind == "gaussian":
    decay["bandwidth_minutes"] = float(
        st.number_input(
            t("assumptions.decay.bandwidth_minutes", lang),
            min_value=0.5,
            max_value=240.0,
            step=0.5,
            key=DECAY_BANDWIDTH,
        )
    )
st.caption(
    f"{t('assumptions.col.source', lang)}: "
    + markdown_text(
        cached_parameters.cited_source(saved.decay.source or defaults.decay.source, lang)
    )
)
document["decay"] = decay

# --- retention conversion & cost; privacy ----------------------------------------------------
st.header(t("assumptions.section.retention", lang))
st.caption(t("assumptions.section.retention_caption", lang))
_scalar_inputs("conversion")
_scalar_inputs("replacement_cost")
st.header(t("assumptions.section.privacy", lang))
st.caption(t("assumptions.section.privacy_caption", lang))
_scalar_inputs("privacy")
# The disclosure rules every survey figure follows (retention.survey.disclosure), in full.
with st.expander(t("disclosure.title", lang), expanded=False):
    st.markdown(t("disclosure.rules", lang))
st.header(t("assumptions.section.shuttle", lang))
st.caption(t("assumptions.section.shuttle_caption", lang))
_scalar_inputs("shuttle")

for spec in SCALARS:
    document[spec.section][spec.key] = st.session_state[_scalar_key(spec)]

# --- the candidate: validated exactly like a parameters file ------------------------------------
candidate: ParkParameters | None
try:
    candidate = cached_parameters.from_document(document)
except ParameterError as error:
    candidate = None
    st.error(t("assumptions.invalid", lang, message=markdown_text(error)))
shown = candidate or saved
table = cached_parameters.table(shown, lang)
changed = table[table["changed"]]
if len(changed):
    st.info(
        t(
            "assumptions.changed_note",
            lang,
            count=len(changed),
            names=markdown_text(
                "; ".join(f"{row.name} = {row.value}" for row in changed.itertuples())
            ),
        )
    )
else:
    st.caption(t("assumptions.all_default", lang))
if candidate is not None and candidate != saved:
    st.warning(t("assumptions.unsaved", lang))

# --- save, reset, download, restore -----------------------------------------------------------
st.header(t("assumptions.section.files", lang))
path_text = f"parks/{park.park_id}/{PARAMETERS_FILE}"
buttons = st.columns(4)
if buttons[0].button(
    t("assumptions.save", lang),
    key=SAVE,
    type="primary",
    disabled=not editor or candidate is None or candidate == saved,
):
    try:
        cached_parameters.save(candidate, park.park_id, expected_version=version)
    except StaleVersionError as error:
        stale_notice(str(error))
    else:
        st.session_state[FLASH] = t("assumptions.saved", lang, path=path_text)
        st.rerun()
if buttons[1].button(
    t("assumptions.reset", lang),
    key=RESET,
    help=t("assumptions.reset_help", lang),
    disabled=not editor or (version == DEFAULT_VERSION and candidate == saved),
):
    try:
        cached_parameters.reset(park.park_id, expected_version=version)
    except StaleVersionError as error:
        stale_notice(str(error))
    else:
        st.session_state[LOADED] = None  # refill even if the file was already absent
        st.session_state[FLASH] = t("assumptions.reset_done", lang)
        st.rerun()
buttons[2].download_button(
    t("assumptions.download", lang),
    cached_parameters.to_toml(saved),
    mime="application/toml",
    key="assumptions.download",
    **auth.audited(
        "parameters", f"{park.park_id}_{PARAMETERS_FILE}", park_id=park.park_id, version=version
    ),
)
export = table.rename(columns={column: t(f"assumptions.col.{column}", lang) for column in table})
buttons[3].download_button(
    t("assumptions.download_table", lang),
    csv_bytes(export),
    mime="text/csv",
    key="assumptions.download_table",
    **auth.audited(
        "parameters", f"{park.park_id}_parameters.csv", park_id=park.park_id, version=version
    ),
)
uploaded = st.file_uploader(
    t("assumptions.upload", lang),
    type=["toml"],
    key=UPLOAD,
    help=t("assumptions.upload_help", lang),
)
if uploaded is not None:
    try:
        restored = cached_parameters.from_toml(
            uploaded.getvalue().decode("utf-8"), file=uploaded.name
        )
    except (ParameterError, UnicodeDecodeError) as error:
        st.error(t("assumptions.upload_error", lang, message=markdown_text(error)))
    else:
        differs = int(cached_parameters.table(restored, lang)["changed"].sum())
        st.info(
            t("assumptions.upload_ready", lang, file=markdown_text(uploaded.name), count=differs)
        )
        if st.button(t("assumptions.restore", lang), key=RESTORE, disabled=not editor):
            try:
                cached_parameters.save(
                    restored, park.park_id, expected_version=version, how="restore"
                )
            except StaleVersionError as error:
                stale_notice(str(error))
            else:
                st.session_state[FLASH] = t(
                    "assumptions.restored", lang, file=markdown_text(uploaded.name)
                )
                st.rerun()

# --- every parameter ---------------------------------------------------------------------------
st.header(t("assumptions.section.all", lang))
st.caption(t("assumptions.section.all_caption", lang))
highlight = table["changed"].to_numpy()
# On screen, parameters are named in words; their file keys stay in the downloaded table (the
# parameters file is edited by those keys).
hidden_columns = [t("assumptions.col.changed", lang), t("assumptions.col.key", lang)]
styled = export.drop(columns=hidden_columns).style.apply(
    lambda row: [_CHANGED_STYLE if highlight[row.name] else ""] * len(row), axis=1
)
st.dataframe(styled, hide_index=True, key="assumptions.table")
