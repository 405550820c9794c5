"""A progress bar while a large accepted upload is checked, read and validated.

The Data and Survey pages read a file in a few cached steps (limits, reading, validation); a
file of :data:`LARGE_UPLOAD_BYTES` or more shows them in an ``st.status`` box with a progress
bar, so a 150,000-row file does not look like a frozen page. The size limit is checked first,
before any reading (``retention.data.limits``; the readers check it, and the row and sheet
limits, again). Smaller files read in well under a second and show nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from retention.data.limits import check_upload_size
from retention.escaping import markdown_text
from retention.i18n import t

LARGE_UPLOAD_BYTES = 1_000_000
"""Files from this size get a progress bar (about 10,000 CSV rows)."""


class UploadProgress:
    """Steps of reading one upload, drawn as a status box with a progress bar (large files).

    Parameters
    ----------
    file_name
        The uploaded file's name (shown, escaped).
    size_bytes
        Its size; the upload limit is checked on it first (``FileFormatError`` if too large,
        and then nothing is drawn).
    steps
        Catalogue keys (``upload_progress.step.<key>``) of the steps after the limit check, in
        order.
    lang
        Interface language.
    """

    def __init__(self, file_name: str, size_bytes: int, *, steps: Sequence[str], lang: str) -> None:
        self._lang = lang
        self._steps = list(steps)
        self._done = 0
        self._size_text = f"{size_bytes / 1_000_000:,.1f} MB"
        self._file = markdown_text(file_name)
        self._status = None
        self._bar = None
        check_upload_size(size_bytes, file_name=file_name)  # before any reading
        if size_bytes >= LARGE_UPLOAD_BYTES:
            self._status = st.status(
                t("upload_progress.label", lang, file=self._file, size=self._size_text),
                expanded=True,
            )
            self._bar = self._status.progress(0.0, text=t("upload_progress.limits_ok", lang))

    @property
    def shown(self) -> bool:
        """Whether the file is large enough for a progress bar."""
        return self._status is not None

    def step(self, key: str, **values: object) -> None:
        """Start step ``key`` (one of ``steps``); ``values`` fill its text (e.g. ``rows``)."""
        self._done = self._steps.index(key) + 1
        if self._bar is not None:
            text = t(f"upload_progress.step.{key}", self._lang, **values)
            self._bar.progress(self._done / (len(self._steps) + 1), text=text)

    def finish(self, *, rows: int) -> None:
        """Mark the work done: ``rows`` rows read and checked (validated, or waiting for a valid
        column mapping)."""
        if self._status is not None and self._bar is not None:
            self._bar.progress(1.0, text=t("upload_progress.done", self._lang, rows=f"{rows:,}"))
            self._status.update(
                label=t(
                    "upload_progress.done_label",
                    self._lang,
                    file=self._file,
                    size=self._size_text,
                    rows=f"{rows:,}",
                ),
                state="complete",
                expanded=False,
            )

    def fail(self) -> None:
        """Mark the file refused (the page shows the error itself)."""
        if self._status is not None:
            self._status.update(state="error", expanded=False)
