"""Saves of versioned records from the pages, with both outcomes in the audit log.

Two signed-in users may edit the same scenario or survey mapping at once: each save names the
version its edit started from, the store refuses the later one (``StaleVersionError``, nothing
overwritten; on PostgreSQL inside one transaction under the park's lock). The audit log then
holds both attempts: the save that went in under its own action, the refused one as
``save_refused`` with the version it was based on and the version stored at the time, so an
administrator sees who tried to save what over whom.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import streamlit as st

from retention.auth.audit import AuditAction
from retention.data.columns import LayerColumnMapping
from retention.errors import StaleVersionError
from retention.scenario.model import Scenario
from retention.scenario.records import ScenarioRecord
from retention.survey.answers import ValueMap
from retention.survey.mapping import ColumnMapping
from ui import auth, cached, cached_scenario
from ui.storage_notices import stale_notice

T = TypeVar("T")


def audited_save(
    save: Callable[[], T],
    *,
    action: AuditAction,
    park_id: str,
    what: str,
    based_on: int | str,
    detail: Callable[[T | None], Mapping[str, object]],
) -> T:
    """Run ``save``; audit it as ``action``, or a refusal as ``save_refused``, then re-raise.

    Parameters
    ----------
    save
        The store call (raises ``StaleVersionError`` when the stored version moved on).
    action
        The audit action of a save that went in.
    park_id
        The park the record belongs to.
    what
        The kind of record, in the refusal's detail (``scenario``, ``survey_mapping``, ...).
    based_on
        The version the edit started from.
    detail
        Returns the event detail from the save's result (``None`` for a refusal): ids and names,
        never survey answers.
    """
    try:
        result = save()
    except StaleVersionError as error:
        refused = {"what": what, **detail(None), "based_on_version": based_on,
                   "stored_version": error.stored_version}  # fmt: skip
        auth.record(AuditAction.SAVE_REFUSED, park_id=park_id, detail=refused)
        raise
    auth.record(action, park_id=park_id, detail=detail(result))
    return result


def save_scenario(
    park_id: str,
    scenario: Scenario,
    *,
    author: str,
    scenario_id: str | None,
    expected_version: int | None,
) -> ScenarioRecord:
    """Save a new scenario (no ``scenario_id``) or a new version of one (audited either way)."""

    def detail(saved: ScenarioRecord | None) -> dict[str, object]:
        if saved is None:
            return {"scenario_id": scenario_id or "", "name": scenario.name, "how": "save"}
        return {"scenario_id": saved.scenario_id, "name": saved.name, "how": "save",
                "version": saved.version}  # fmt: skip

    return audited_save(
        lambda: cached_scenario.store().save(
            park_id,
            scenario,
            author=author,
            scenario_id=scenario_id,
            expected_version=expected_version,
        ),
        action=AuditAction.SCENARIO_CHANGE,
        park_id=park_id,
        what="scenario",
        based_on=expected_version or 0,
        detail=detail,
    )


def delete_scenario(park_id: str, scenario_id: str, *, expected_version: int) -> None:
    """Delete a saved scenario if nobody saved it since ``expected_version`` (audited)."""
    audited_save(
        lambda: cached_scenario.store().delete(
            park_id, scenario_id, expected_version=expected_version
        ),
        action=AuditAction.SCENARIO_CHANGE,
        park_id=park_id,
        what="scenario",
        based_on=expected_version,
        detail=lambda _: {"scenario_id": scenario_id, "how": "delete"},
    )


def save_survey_mapping(
    park_id: str, mapping: ColumnMapping, *, values: ValueMap, expected_version: int
) -> None:
    """Keep a survey layout's column mapping (and merge its answer codes), audited."""
    save = cached.mapping_store().save_survey_mapping
    _mapping_save(
        lambda: save(park_id, mapping, values=values, expected_version=expected_version),
        park_id, what="survey_mapping", key=mapping.signature, based_on=expected_version,
    )  # fmt: skip


def save_layer_mapping(park_id: str, mapping: LayerColumnMapping, *, expected_version: int) -> None:
    """Keep a layer file layout's column mapping and value map, audited."""
    save = cached.mapping_store().save_layer_mapping
    _mapping_save(
        lambda: save(park_id, mapping, expected_version=expected_version),
        park_id, what="layer_mapping", key=f"{mapping.kind}.{mapping.signature}",
        based_on=expected_version,
    )  # fmt: skip


def _mapping_save(
    save: Callable[[], None], park_id: str, *, what: str, key: str, based_on: int
) -> None:
    audited_save(save, action=AuditAction.MAPPING_SAVE, park_id=park_id, what=what,
                 based_on=based_on, detail=lambda _: {"mapping": key})  # fmt: skip


def save_button(
    label: str, *, key: str, save: Callable[..., None], args: tuple[Any, ...], saved_text: str
) -> None:
    """Draw a save button; on click run ``save(*args)``, and say on the next run how it went.

    ``args`` are bound when the button is drawn, so they carry what the user saw: the edit and
    the version it started from (reading the version in the run after the click would take a
    save made meanwhile as the starting point, and overwrite it). A refused save shows the
    refusal (``ui.storage_notices.stale_notice``) and keeps the user's edit on the page.
    """
    flash = f"{key}.flash"

    def clicked(*values: Any) -> None:
        try:
            save(*values)
        except StaleVersionError as error:
            st.session_state[flash] = str(error)
        else:
            st.session_state[flash] = ""

    st.button(label, key=key, on_click=clicked, args=args)
    shown = st.session_state.pop(flash, None)
    if shown == "":
        st.success(saved_text)
    elif shown is not None:
        stale_notice(shown)
