"""Notices every page showing park data repeats: synthetic demo data must say so."""

from __future__ import annotations

import streamlit as st

from retention.i18n import t
from ui import state


def synthetic_notice(park: object) -> None:
    """Show a warning when ``park`` (a ``retention.storage.park.ParkData``) holds synthetic data."""
    if getattr(park, "synthetic", False):
        st.warning(t("common.synthetic_notice", state.lang()), icon=":material/science:")
