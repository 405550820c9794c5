"""Scenario lab: build a what-if (shuttle, amenity, dormitory), compare it with the baseline and
other scenarios in minutes, people, leavers avoided and yuan; siting and budget tools.

The working scenario lives in this session only (``ui.state.SCENARIO_DRAFT``) until saved; the
numbers come from ``ui.cached_scenario`` (``retention.scenario``). This page reads widgets, calls
the wrappers and renders.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from retention.auth.audit import AuditAction
from retention.data.layers import AmenityCategory, ResidenceKind
from retention.errors import ScenarioError, StaleVersionError, ValidationError
from retention.escaping import markdown_text
from retention.i18n import label, t
from retention.report.difference_map import build_difference_map
from retention.report.maps import build_route_drawing_map, route_preview_layer
from retention.scenario.budget import OBJECTIVES
from retention.scenario.model import (
    AddAmenity,
    AddResidence,
    AddRoute,
    CloseAmenity,
    Modification,
    MoveWorkers,
    RouteStop,
    Scenario,
    ServiceWindow,
)
from retention.scenario.siting import DEMANDS
from ui import audited_saves, auth, cached_scenario, scenario_lab, state
from ui.cached_parameters import current_parameters
from ui.entry import page_park, require_app_navigation
from ui.map_view import show_map

require_app_navigation()

lang = state.lang()
auth.require_page("scenario")  # planners and admins shape scenarios
park = page_park("scenario")
st.caption(t("scenario.intro", lang))
parameters = current_parameters(park)
context = cached_scenario.context(park)
store = cached_scenario.store()

if state.scenario_draft() is None:
    state.set_scenario_draft(scenario_lab.to_json(Scenario(t("scenario.default_name", lang))))
draft = scenario_lab.from_json(state.scenario_draft() or "")


def _set_draft(scenario: Scenario) -> None:
    state.set_scenario_draft(
        scenario_lab.to_json(scenario),
        editing=state.scenario_editing(),
        version=state.scenario_editing_version(),
    )


def _add(modification: Modification, *, from_drawing: bool = False) -> None:
    """Append a modification to the draft, or say precisely why it cannot be added.

    A route added from the drawing clears it: the next route starts on a blank map.
    """
    _change(lambda: draft.with_modification(modification, context), from_drawing=from_drawing)


def _change(changed: Callable[[], Scenario], *, from_drawing: bool = False) -> None:
    """Make ``changed()`` the draft, or say precisely why it cannot be; a change made from the
    drawing clears it."""
    try:
        _set_draft(changed())
    except ScenarioError as error:
        st.error(markdown_text(error))
    else:
        if from_drawing:
            state.clear_scenario_drawing()
        st.rerun()


places = scenario_lab.places(park, lang).set_index("ref")

# A new amenity proposed by the Gaps page ("what next"): its form below is filled in once and
# opened; nothing is added until the user presses Add.
prefill = state.take_scenario_prefill()
categories = [c.value for c in AmenityCategory]
if prefill is not None and prefill["category"] in categories and prefill["near"] in places.index:
    st.session_state["scenario.amenity.category"] = prefill["category"]
    st.session_state["scenario.amenity.near"] = prefill["near"]
    st.session_state[state.SCENARIO_SITING_CATEGORY.key] = prefill["category"]
    st.info(
        t(
            "gaps_next.prefilled",
            lang,
            category=label("category", prefill["category"], lang),
            place=markdown_text(places.at[prefill["near"], "label"]),
            tab=t("scenario.tab.amenity", lang),
            add=t("scenario.amenity.add", lang),
            siting=t("scenario.siting", lang),
        ),
        icon=":material/lightbulb:",
    )


def _place(label_key: str, key: str, kinds: tuple[str, ...] | None = None) -> str:
    """A selectbox of places (stops, residences, amenities, enterprises) by id."""
    refs = [ref for ref in places.index if kinds is None or places.at[ref, "kind"] in kinds]
    return str(
        st.selectbox(
            t(label_key, lang), refs, format_func=lambda ref: places.at[ref, "label"], key=key
        )
    )


def _costs(prefix: str, step: float) -> tuple[float, float]:
    """Capital and annual running cost inputs of a form."""
    left, right = st.columns(2)
    capital = left.number_input(
        t("scenario.capital", lang), value=0.0, min_value=0.0, step=step, key=f"{prefix}.capital"
    )
    annual = right.number_input(
        t("scenario.annual", lang), value=0.0, min_value=0.0, step=10_000.0, key=f"{prefix}.annual"
    )
    return float(capital), float(annual)


# --- 1. which scenario --------------------------------------------------------------------------
records = {record.scenario_id: record for record in store.list(park.park_id)}
left, middle, right = st.columns([3, 3, 2])
opened = left.selectbox(
    t("scenario.open", lang),
    ["", *records],
    format_func=lambda sid: t("scenario.new", lang) if not sid else records[sid].name,
    key="scenario.open",
)
if middle.button(t("scenario.open_button", lang), key="scenario.open_button"):
    if opened:
        state.replace_scenario_draft(
            scenario_lab.to_json(records[opened].scenario),
            editing=opened,
            version=records[opened].version,
        )
    else:
        state.replace_scenario_draft(
            scenario_lab.to_json(Scenario(t("scenario.default_name", lang)))
        )
    st.rerun()
author = right.text_input(t("scenario.author", lang), key="scenario.author")
editing = state.scenario_editing()
if editing in records:
    record = records[editing]
    st.caption(
        t(
            "scenario.saved_by",
            lang,
            author=markdown_text(record.author),
            created=record.created_utc,
            updated=record.updated_utc,
        )
    )
name = st.text_input(t("scenario.name", lang), value=draft.name, key=state.SCENARIO_NAME)
if name.strip() and name != draft.name:
    draft = replace(draft, name=name)
    _set_draft(draft)

# --- 2. its modifications -----------------------------------------------------------------------
st.subheader(t("scenario.modifications", lang))
if not draft.modifications:
    st.info(t("scenario.empty", lang))
for index, modification in enumerate(draft.modifications):
    text_column, button_column = st.columns([8, 1])
    text_column.text(f"{index + 1}. {scenario_lab.describe(modification, lang)}")
    if button_column.button(t("scenario.remove", lang), key=f"scenario.remove.{index}"):
        try:
            _set_draft(draft.without_modification(index, context))
        except ScenarioError as error:
            st.error(markdown_text(error))
        else:
            st.rerun()

windows = {w.key: (w.label_en if lang == "en" else w.label_zh) for w in parameters.time_windows}
enterprise_ids = sorted(context.enterprise_ids)
route_tab, amenity_tab, close_tab, residence_tab = st.tabs(
    [t(f"scenario.tab.{name}", lang) for name in ("route", "amenity", "close", "residence")],
    default=t("scenario.tab.amenity", lang) if prefill is not None else None,
)
with route_tab:
    # Draw the route: every click of the line tool (or every marker) is a stop; the map keeps
    # what was drawn while the snapped road line beside it changes (a feature group).
    st.caption(t("scenario_draw.how", lang))
    drawn = None
    if state.scenario_drawing() != "[]":
        try:
            drawn = cached_scenario.drawn_route(park, state.scenario_drawing())
        except ScenarioError as error:
            st.error(markdown_text(error))
    returned = show_map(
        build_route_drawing_map(
            park.layers,
            lang=lang,
            tiles=state.tiles(),
            boundary=park.boundary,
            synthetic=park.synthetic,
        ),
        key=f"scenario.draw_map.{state.scenario_drawing_map()}",
        height=480,
        returned_objects=["all_drawings"],
        feature_group=None
        if drawn is None
        else route_preview_layer(
            drawn.line,
            [(stop.lon, stop.lat, stop.name) for stop in drawn.stops],
            tiles=state.tiles(),
            lang=lang,
        ),
    )
    drawings = returned.get("all_drawings")
    if drawings is not None:
        drawing_text = json.dumps(drawings, ensure_ascii=False, sort_keys=True)
        if drawing_text != state.scenario_drawing():
            state.set_scenario_drawing(drawing_text)
            st.rerun()
    if drawn is not None:
        st.markdown(
            t(
                "scenario_draw.summary" if drawn.on_roads else "scenario_draw.summary_straight",
                lang,
                n=len(drawn.stops),
                picked=sum(drawn.picked),
                km=f"{drawn.length_metres / 1000:.2f}",
                stops=markdown_text(" → ".join(stop.name for stop in drawn.stops)),
            )
        )
        if drawn.on_roads and not all(drawn.picked):
            onto_road = [m for m, p in zip(drawn.moved_metres, drawn.picked, strict=True) if not p]
            st.caption(
                t(
                    "scenario_draw.tolerance",
                    lang,
                    moved=f"{max(onto_road):,.0f}",
                    vertex=f"{max(drawn.vertex_metres, default=0.0):,.0f}",
                )
            )

with route_tab, st.form("scenario.form.route"):
    route_name = st.text_input(t("scenario.route.name", lang), key="scenario.route.name")
    use_drawing = drawn is not None and st.checkbox(
        t("scenario_draw.use", lang, n=len(drawn.stops)),
        value=True,
        key="scenario.route.use_drawing",
    )
    # A drawing may instead re-route a new route of the draft: its timetable and costs stay.
    new_routes = {
        index: modification.name
        for index, modification in enumerate(draft.modifications)
        if isinstance(modification, AddRoute)
    }
    redrawn = -1
    if drawn is not None and new_routes:
        redrawn = st.selectbox(
            t("scenario_draw.replace", lang),
            [-1, *new_routes],
            format_func=lambda index: (
                t("scenario_draw.replace_none", lang)
                if index < 0
                else t("scenario_draw.replace_route", lang, name=new_routes[index])
            ),
            key="scenario.route.replace",
            help=t("scenario_draw.replace_help", lang),
        )
    stops = st.multiselect(
        t("scenario.route.stops", lang),
        list(places.index),
        format_func=lambda ref: places.at[ref, "label"],
        key="scenario.route.stops",
        help=t("scenario.route.stops_help", lang),
    )
    a, b, c = st.columns(3)
    window = a.selectbox(
        t("scenario.route.window", lang),
        list(windows),
        format_func=windows.get,
        index=list(windows).index("weekday_evening") if "weekday_evening" in windows else 0,
        key="scenario.route.window",
    )
    start = b.text_input(t("scenario.route.start", lang), "18:00", key="scenario.route.start")
    end = c.text_input(t("scenario.route.end", lang), "22:00", key="scenario.route.end")
    a, b, c = st.columns(3)
    headway = a.number_input(
        t("scenario.route.headway", lang), value=15.0, step=5.0, key="scenario.headway"
    )
    capacity = b.number_input(
        t("scenario.route.capacity", lang), value=35, step=5, key="scenario.route.capacity"
    )
    two_way = c.checkbox(t("scenario.two_way", lang), value=True, key="scenario.route.two_way")
    a, b, c = st.columns(3)
    basis = a.selectbox(
        t("scenario.route.cost_basis", lang),
        ["vehicle_hour", "vehicle_km"],
        format_func=lambda value: t(f"scenario.route.per_{value}", lang),
        key="scenario.route.cost_basis",
    )
    rate = b.number_input(
        t("scenario.route.rate", lang),
        value=0.0,
        step=10.0,
        key="scenario.route.rate",
        help=t("scenario.route.rate_help", lang),
    )
    fare = c.number_input(t("scenario.route.fare", lang), value=0.0, key="scenario.route.fare")
    open_to = st.multiselect(
        t("scenario.route.open_to", lang),
        enterprise_ids,
        # Enterprises by name (a place's id is never shown).
        format_func=lambda eid: places.at[eid, "label"] if eid in places.index else eid,
        key="scenario.route.open_to",
    )
    if st.form_submit_button(t("scenario.route.add", lang)):
        if use_drawing and drawn is not None and redrawn >= 0:
            _change(
                lambda: draft.with_route_stops(redrawn, drawn.stops, context), from_drawing=True
            )
        else:
            _add(
                AddRoute(
                    route_id=f"S-{uuid.uuid4().hex[:6]}",
                    name=route_name.strip() or t("scenario.route.default_name", lang),
                    stops=drawn.stops
                    if use_drawing and drawn is not None
                    else tuple(
                        RouteStop(
                            float(places.at[ref, "lon"]),
                            float(places.at[ref, "lat"]),
                            str(places.at[ref, "label"]),
                            str(ref),
                        )
                        for ref in stops
                    ),
                    service=(ServiceWindow(window, float(headway), start.strip(), end.strip()),),
                    two_way=two_way,
                    vehicle_capacity=int(capacity),
                    cost_basis=basis,
                    cost_cny_per_unit=float(rate) if rate > 0 else None,
                    fare_cny=float(fare),
                    open_to=tuple(open_to),
                ),
                from_drawing=bool(use_drawing),
            )

with amenity_tab, st.form("scenario.form.amenity"):
    a, b = st.columns(2)
    category = a.selectbox(
        t("scenario.amenity.category", lang),
        categories,
        format_func=lambda value: label("category", value, lang),
        key="scenario.amenity.category",
    )
    amenity_name = b.text_input(t("scenario.amenity.name", lang), key="scenario.amenity.name")
    near = _place("scenario.amenity.near", "scenario.amenity.near")
    a, b, c = st.columns(3)
    amenity_capacity = a.number_input(
        t("scenario.amenity.capacity", lang),
        value=1.0,
        min_value=0.0,
        key="scenario.amenity.capacity",
    )
    hours = b.text_input(
        t("scenario.amenity.hours", lang), "Mo-Su 06:00-22:00", key="scenario.amenity.hours"
    )
    capital, annual = _costs("scenario.amenity", 10_000.0)
    if st.form_submit_button(t("scenario.amenity.add", lang)):
        _add(
            AddAmenity(
                amenity_id=f"N{len(draft.modifications) + 1}-{category}",
                name=amenity_name.strip() or label("category", category, lang),
                category=category,
                lon=float(places.at[near, "lon"]) + 0.0003,  # beside it, not on top of it
                lat=float(places.at[near, "lat"]),
                capacity=float(amenity_capacity),
                opening_hours=hours.strip(),
                capital_cost_cny=capital,
                annual_cost_cny_per_year=annual,
            )
        )

with close_tab, st.form("scenario.form.close"):
    closing = _place("scenario.close.amenity", "scenario.close.amenity", ("amenity",))
    saving = st.number_input(
        t("scenario.close.saving", lang), value=0.0, min_value=0.0, key="scenario.close.saving"
    )
    if st.form_submit_button(t("scenario.close.add", lang)):
        _add(CloseAmenity(str(closing), float(saving)))

with residence_tab, st.form("scenario.form.residence"):
    a, b = st.columns(2)
    residence_name = a.text_input(t("scenario.residence.name", lang), key="scenario.residence.name")
    kind = b.selectbox(
        t("scenario.residence.kind", lang),
        [k.value for k in ResidenceKind],
        format_func=lambda value: label("residence_kind", value, lang),
        key="scenario.residence.kind",
    )
    near_place = _place("scenario.amenity.near", "scenario.residence.near")
    a, b, c = st.columns(3)
    beds = a.number_input(
        t("scenario.residence.beds", lang), value=200, min_value=0, key="scenario.residence.beds"
    )
    with b:
        source = _place("scenario.residence.from", "scenario.residence.from", ("residence",))
    movers = c.number_input(
        t("scenario.residence.movers", lang), value=0, min_value=0, key="scenario.residence.movers"
    )
    residence_capital, residence_annual = _costs("scenario.residence", 100_000.0)
    if st.form_submit_button(t("scenario.residence.add", lang)):
        _add(
            AddResidence(
                residence_id=f"H{len(draft.modifications) + 1}-new",
                name=residence_name.strip() or label("residence_kind", kind, lang),
                kind=kind,
                lon=float(places.at[near_place, "lon"]) + 0.0003,
                lat=float(places.at[near_place, "lat"]),
                beds=int(beds),
                moves_in=((str(source), int(movers)),) if movers else (),
                capital_cost_cny=residence_capital,
                annual_cost_cny_per_year=residence_annual,
            )
        )
    if st.form_submit_button(t("scenario.residence.move", lang)):
        _add(MoveWorkers(str(source), str(near_place), int(movers)))

# --- 3. keep it: save, duplicate, rename, delete, export, import ---------------------------------
st.subheader(t("scenario.keep", lang))
a, b, c, d = st.columns(4)
if a.button(t("scenario.save", lang), key="scenario.save", disabled=not author.strip()):
    try:
        saved = audited_saves.save_scenario(  # a refused save is audited too
            park.park_id,
            draft,
            author=author,
            scenario_id=editing if editing in records else None,
            expected_version=state.scenario_editing_version() if editing in records else None,
        )
    except ValidationError as error:
        st.error(markdown_text(error))
    except StaleVersionError:
        st.error(t("scenario_store.stale", lang, name=markdown_text(records[editing].name)))
    else:
        state.set_scenario_draft(
            scenario_lab.to_json(saved.scenario), editing=saved.scenario_id, version=saved.version
        )
        st.success(t("scenario.saved", lang, name=markdown_text(saved.name)))
if editing in records:
    if b.button(
        t("scenario.duplicate", lang), key="scenario.duplicate", disabled=not author.strip()
    ):
        copy = store.duplicate(
            park.park_id,
            editing,
            name=t("scenario.copy_of", lang, name=records[editing].name),
            author=author,
        )
        auth.record(
            AuditAction.SCENARIO_CHANGE,
            park_id=park.park_id,
            detail={"scenario_id": copy.scenario_id, "name": copy.name, "how": "duplicate"},
        )
        state.replace_scenario_draft(
            scenario_lab.to_json(copy.scenario), editing=copy.scenario_id, version=copy.version
        )
        st.rerun()
    confirm = d.checkbox(t("scenario.delete_confirm", lang), key="scenario.delete_confirm")
    if c.button(t("scenario.delete", lang), key="scenario.delete", disabled=not confirm):
        try:
            audited_saves.delete_scenario(
                park.park_id, editing, expected_version=state.scenario_editing_version()
            )
        except StaleVersionError:
            st.error(t("scenario_store.stale", lang, name=markdown_text(records[editing].name)))
        else:
            if state.scenario_id() == editing:
                state.set_scenario_id("")
            state.replace_scenario_draft(
                scenario_lab.to_json(Scenario(t("scenario.default_name", lang)))
            )
            st.rerun()
    st.caption(t("scenario.rename_hint", lang))
st.download_button(
    t("scenario.export", lang),
    scenario_lab.to_json(draft).encode("utf-8"),
    mime="application/json",
    key="scenario.export",
    **auth.audited("scenario", "scenario.json", park_id=park.park_id, scenario=draft.name),
)
uploaded = st.file_uploader(t("scenario.import", lang), type=["json"], key="scenario.import")
if uploaded is not None and st.button(
    t("scenario.import_button", lang), key="scenario.import_button"
):
    if uploaded.size > 1_000_000:
        st.error(t("scenario.import_too_big", lang))
    else:
        try:
            imported = scenario_lab.from_json(uploaded.getvalue(), context=context)
        except ScenarioError as error:
            st.error(markdown_text(error))
        else:
            state.replace_scenario_draft(scenario_lab.to_json(imported))
            st.rerun()

# --- 4. what it changes ---------------------------------------------------------------------------
st.subheader(t("scenario.results", lang))
st.warning(t("scenario.caution", lang), icon=":material/info:")
if not draft.modifications:
    st.info(t("scenario.nothing_to_compare", lang))
else:
    others = {sid: r for sid, r in records.items() if sid != editing}
    compare_with = state.kept(
        st.multiselect,
        state.SCENARIO_COMPARE,
        t("scenario.compare", lang),
        list(others),
        format_func=lambda sid: others[sid].name,
    )
    with st.spinner(t("scenario.computing", lang)):
        text = scenario_lab.to_json(draft)
        result = cached_scenario.result(park, text)
        compared = [(draft.name, result)] + [
            (
                others[sid].name,
                cached_scenario.result(park, scenario_lab.to_json(others[sid].scenario)),
            )
            for sid in compare_with
        ]
    st.dataframe(
        scenario_lab.kpi_comparison(compared, cost=parameters.replacement_cost, lang=lang),
        hide_index=True,
        key="scenario.kpis",
    )
    if result.leavers is None:
        st.info(t("scenario.no_model", lang))
    else:
        total = result.leavers.total
        st.caption(
            t(
                "scenario.sensitivity",
                lang,
                low=f"{-float(total['delta_conversion_high']):.1f}",
                high=f"{-float(total['delta_conversion_low']):.1f}",
                cost_low=f"{-float(total['delta_cost_range_high_cny']):,.0f}",
                cost_high=f"{-float(total['delta_cost_range_low_cny']):,.0f}",
            )
        )
    for route_id, operations in result.operations.items():
        riders = result.riders[route_id]
        st.markdown(
            t(
                "scenario.route.summary",
                lang,
                route=markdown_text(result.applied.routes[route_id].name),
                run=f"{operations.run_minutes:.1f}",
                cycle=f"{operations.cycle_minutes:.1f}",
                vehicles=operations.vehicles,
                hours=f"{operations.vehicle_hours_per_day:.1f}",
                km=f"{operations.vehicle_km_per_day:.0f}",
                cost=f"{operations.cost_cny_per_year:,.0f}",
                riders=f"{riders.riders_per_day:,.0f}",
            )
        )
        if riders.over_capacity:
            st.warning(t("scenario.route.over_capacity", lang, route=markdown_text(route_id)))
    st.markdown(f"**{t('scenario.map.heading', lang)}**")
    gains = scenario_lab.gains(result)
    show_map(
        build_difference_map(
            gains,
            gains["minutes_saved"],
            tiles=state.tiles(),
            lang=lang,
            title=t("scenario.map.title", lang),
        ),
        key="scenario.map",
        height=480,
    )
    with st.expander(t("scenario.winners", lang)):
        winners = scenario_lab.winners(
            result, retention=cached_scenario.retention_basis(park), privacy=parameters.privacy
        )
        st.dataframe(winners, hide_index=True, key="scenario.winners")

# --- 5. siting assistant -------------------------------------------------------------------------
st.subheader(t("scenario.siting", lang))
a, b, c, d = st.columns(4)
# The siting and budget choices and the compared scenarios are kept (ui.state, in the URL too).
siting_category = state.kept(
    a.selectbox,
    state.SCENARIO_SITING_CATEGORY,
    t("scenario.amenity.category", lang),
    [c.value for c in AmenityCategory],
    format_func=lambda value: label("category", value, lang),
)
threshold = b.number_input(
    t("scenario.siting.threshold", lang), value=15.0, min_value=1.0, key="scenario.siting.threshold"
)
k = c.number_input(
    t("scenario.siting.k", lang), value=3, min_value=1, max_value=10, key="scenario.siting.k"
)
demand = state.kept(
    d.selectbox,
    state.SCENARIO_SITING_DEMAND,
    t("scenario.siting.demand", lang),
    list(DEMANDS),
    format_func=lambda value: t(f"scenario.siting.demand_{value}", lang),
)
if st.toggle(t("scenario.siting.run", lang), key="scenario.siting.run"):
    with st.spinner(t("scenario.computing", lang)):
        suggestions = cached_scenario.sites(
            park,
            category=siting_category,
            threshold_minutes=threshold,
            k=int(k),
            demand=demand,
            capacity_people=None,
        )
    st.dataframe(suggestions, hide_index=True, key="scenario.siting.table")
    for position, (_, row) in enumerate(suggestions.iterrows()):
        if st.button(
            t("scenario.siting.add", lang, n=position + 1), key=f"scenario.siting.add.{position}"
        ):
            _add(
                scenario_lab.suggested_amenity(
                    row,
                    amenity_id=f"N{len(draft.modifications) + 1}-{row['candidate_id']}",
                    name=t(
                        "scenario.siting.suggested",
                        lang,
                        category=label("category", siting_category, lang),
                    ),
                    category=siting_category,
                    capacity=1.0,
                )
            )

# --- 6. budget package ---------------------------------------------------------------------------
st.subheader(t("scenario.budget", lang))
st.caption(t("scenario.budget_caption", lang))
a, b = st.columns(2)
budget = a.number_input(
    t("scenario.budget.amount", lang),
    value=1_000_000.0,
    min_value=0.0,
    step=100_000.0,
    key="scenario.budget.amount",
)
objective = state.kept(
    b.selectbox,
    state.SCENARIO_BUDGET_OBJECTIVE,
    t("scenario.budget.objective", lang),
    list(OBJECTIVES),
    format_func=lambda value: t(f"scenario.budget.{value}", lang),
)
if len(draft.modifications) >= 2 and st.toggle(
    t("scenario.budget.run", lang), key="scenario.budget.run"
):
    try:
        with st.spinner(t("scenario.computing", lang)):
            measured = cached_scenario.interventions(park, scenario_lab.to_json(draft), objective)
    except ValidationError as error:
        st.error(markdown_text(error))
    else:
        packages = scenario_lab.packages(measured, float(budget))
        if not packages:
            st.info(t("scenario.budget.none", lang))
        for rank, package in enumerate(packages, start=1):
            st.text(
                t(
                    "scenario.budget.package",
                    lang,
                    rank=rank,
                    items=", ".join(str(i + 1) for i in package.chosen),
                    cost=f"{package.annual_cost_cny:,.0f}",
                    benefit=f"{package.benefit:,.1f}",
                )
            )
        if packages:
            whole = cached_scenario.recorded_package(
                draft,
                packages[0],
                measured,
                name=t("scenario.budget.package_name", lang),
                budget_cny_per_year=float(budget),
                objective=objective,
            )
            chosen = cached_scenario.result(park, scenario_lab.to_json(whole))
            st.caption(t("scenario.budget.whole", lang))
            st.dataframe(
                scenario_lab.kpi_comparison(
                    [(whole.name, chosen)], cost=parameters.replacement_cost, lang=lang
                ),
                hide_index=True,
                key="scenario.budget.table",
            )
            # Keep the package as a saved scenario: the sidebar can then show it and the Reports
            # page and `parklife report --scenario` put it (candidates, cost, reach, leavers
            # avoided with their range and the caution) in a snapshot.
            package_name = st.text_input(
                t("scenario.budget.save_name", lang),
                value=t("scenario.budget.default_save_name", lang, budget=f"{budget:,.0f}"),
                key="scenario.budget.save_name",
            )
            if st.button(
                t("scenario.budget.save", lang),
                key="scenario.budget.save",
                disabled=not (author.strip() and package_name.strip()),
                help=t("scenario.budget.save_help", lang),
            ):
                saved = store.save(
                    park.park_id, replace(whole, name=package_name.strip()), author=author
                )
                auth.record(
                    AuditAction.SCENARIO_CHANGE,
                    park_id=park.park_id,
                    detail={
                        "scenario_id": saved.scenario_id,
                        "name": saved.name,
                        "how": "save budget package",
                    },
                )
                st.success(t("scenario.budget.saved", lang, name=markdown_text(saved.name)))
elif len(draft.modifications) < 2:
    st.info(t("scenario.budget.need_two", lang))
