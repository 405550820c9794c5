"""Progress messages while a page computes, so that a page is never blank while it waits.

A page that needs a result that is neither in memory nor in the results cache on disk (a fresh
data directory, a new upload or survey wave, a changed parameter) computes it, or waits for the
sidebar's background warm-up (``ui.warmup``) that computes it. Meanwhile the page shows a
message in the user's language where the result will appear, with the seconds elapsed
(``st.spinner``; Streamlit draws it only when the work takes longer than half a second, so a warm
restart, which loads results at once, shows none).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from retention.i18n import t
from retention.storage.park import ParkData
from ui import warmup


def message(step: str, lang: str) -> str:
    """Return the progress message of ``step`` (``progress.<step>`` in the catalogue)."""
    return t(f"progress.{step}", lang)


def results_message(park: ParkData, lang: str) -> str:
    """Return the message while the park's model inputs are loaded or prepared.

    Names the expensive stages not stored yet (travel times, survey, retention model); when all
    are stored it says they are being loaded.
    """
    missing = warmup.missing(park)
    if not missing:
        return message("loading_results", lang)
    stages = ", ".join(t(f"pipeline.warmup.stage.{stage.value}", lang) for stage in missing)
    return t("progress.preparing_results", lang, stages=stages)


@contextmanager
def showing(text: str, *, when: bool = True) -> Iterator[None]:
    """Show ``text`` with a spinner and the seconds elapsed while the block runs.

    ``when=False``: show nothing (the page shows its own progress, e.g. a large upload's bar).
    """
    if not when:
        yield
        return
    with st.spinner(text, show_time=True):
        yield
