"""The park's saved planning parameters (``retention.park_parameters``), read once per file version.

Every cached wrapper that depends on a parameter takes it from :func:`current_parameters`, so a
value saved on the Assumptions page reaches every page on its next run. The file's SHA-256 is the
cache key: a save by any session changes it, and an unchanged file is never parsed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from retention.auth.audit import AuditAction
from retention.auth.roles import Permission
from retention.errors import ParameterError
from retention.escaping import markdown_text
from retention.i18n import t
from retention.park_parameters import (
    ParkParameters,
    load_park_parameters,
    parameter_table,
    park_parameters_from_document,
    park_parameters_from_toml,
    park_parameters_to_document,
    park_parameters_to_toml,
    park_parameters_version,
    reset_park_parameters,
    save_park_parameters,
    source_text,
)
from retention.storage.park import ParkData
from ui import cached, state


@st.cache_data(max_entries=512, show_spinner=False)
def cited_source(source: str, lang: str) -> str:
    """Return a parameter's source as a citation in ``lang`` (``park_parameters.source_text``)."""
    return source_text(source, lang)


@st.cache_data(max_entries=32, show_spinner=False)
def _saved(park_id: str, data_dir: str, version: str) -> ParkParameters:
    return load_park_parameters(park_id, store=cached.store())


def parameters_version(park_id: str) -> str:
    """Return the version token of the park's saved parameters (``"default"`` without any)."""
    return park_parameters_version(park_id, store=cached.store())


def saved_parameters(park_id: str) -> ParkParameters:
    """Return the park's saved parameters (the sourced defaults without a file).

    Raises
    ------
    ParameterError
        When the file exists but is invalid (edited by hand); the message names it.
    """
    return _saved(park_id, str(state.data_dir()), parameters_version(park_id))


def current_parameters(park: ParkData) -> ParkParameters:
    """Return the parameters every page computes with for ``park``.

    An invalid file (only a hand edit can make one: saves are validated) is reported on the
    page and the sourced defaults are used, so the other pages stay usable while the
    Assumptions page shows how to fix it.
    """
    try:
        return saved_parameters(park.park_id)
    except ParameterError as error:
        st.error(t("assumptions.file_error_elsewhere", state.lang(), message=markdown_text(error)))
        return ParkParameters()


# --- the Assumptions page's editing, saving and file exchange (``retention.park_parameters``) ----


def to_document(params: ParkParameters) -> dict[str, Any]:
    """Return the parameters as the TOML-shaped document the page edits."""
    return park_parameters_to_document(params)


def from_document(document: Mapping[str, Any]) -> ParkParameters:
    """Return parameters from an edited document (``ParameterError`` naming ``section.key``)."""
    return park_parameters_from_document(document)


def to_toml(params: ParkParameters) -> bytes:
    """Return the parameters file's bytes (UTF-8 TOML), e.g. for a download."""
    return park_parameters_to_toml(params).encode("utf-8")


def from_toml(text: str, *, file: str) -> ParkParameters:
    """Return parameters read from an uploaded TOML file (``ParameterError`` naming ``file``)."""
    return park_parameters_from_toml(text, file=file)


@st.cache_data(max_entries=32, show_spinner=False)
def table(params: ParkParameters, lang: str) -> pd.DataFrame:
    """Return every parameter with its unit, range, default and source, cached per value."""
    return parameter_table(params, lang)


def save(params: ParkParameters, park_id: str, *, expected_version: str, how: str = "save") -> None:
    """Save the park's parameters atomically (every page's next run computes with them).

    ``expected_version`` is :func:`parameters_version` when the edit started: if someone saved
    since, ``StaleVersionError`` is raised and nothing is overwritten. Only a user allowed to
    edit parameters (planner, admin) may save; the save is audited.
    """
    state.scope().require(Permission.EDIT_PARAMETERS)
    _audited(
        lambda: save_park_parameters(
            params, park_id, store=cached.store(), expected_version=expected_version
        ),
        park_id, how=how, expected_version=expected_version,
    )  # fmt: skip


def reset(park_id: str, *, expected_version: str) -> None:
    """Remove the park's saved parameters: back to the sourced defaults (editors only, audited)."""
    state.scope().require(Permission.EDIT_PARAMETERS)
    _audited(
        lambda: reset_park_parameters(
            park_id, store=cached.store(), expected_version=expected_version
        ),
        park_id, how="reset", expected_version=expected_version,
    )  # fmt: skip


def _audited(save: Callable[[], object], park_id: str, *, how: str, expected_version: str) -> None:
    """Run the save; audit it, or its refusal (someone saved since ``expected_version``)."""
    from ui.audited_saves import audited_save  # imports this module's users: import when used

    audited_save(
        save,
        action=AuditAction.PARAMETERS_SAVE,
        park_id=park_id,
        what="parameters",
        based_on=expected_version[:12],  # the text's SHA-256 (or "default"): enough to tell
        detail=lambda _: {"how": how},
    )
