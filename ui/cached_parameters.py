"""The park's saved planning parameters (``retention.park_parameters``), read once per file version.

Every cached wrapper that depends on a parameter takes it from :func:`current_parameters`, so a
value saved on the Assumptions page reaches every page on its next run. The file's SHA-256 is the
cache key: a save by any session changes it, and an unchanged file is never parsed twice.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from retention.errors import ParameterError
from retention.escaping import markdown_text
from retention.i18n import t
from retention.park_parameters import (
    ParkParameters,
    load_park_parameters,
    park_parameters_version,
)
from retention.storage.park import ParkData
from ui import state


@st.cache_data(max_entries=32, show_spinner=False)
def _saved(park_id: str, data_dir: str, version: str) -> ParkParameters:
    return load_park_parameters(park_id, data_dir=Path(data_dir))


def parameters_version(park_id: str) -> str:
    """Return the version of the park's parameters file (``"default"`` without one)."""
    return park_parameters_version(park_id, data_dir=state.data_dir())


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
