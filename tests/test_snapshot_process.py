"""PDF and PowerPoint snapshots written in a worker process (issue 12): steps reported in order,
the same file as in-process writing, and the worker's errors raised in the caller, never lost.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from pptx import Presentation
from pypdf import PdfReader

from retention.errors import SnapshotWriteError
from retention.pipeline.snapshot import write_snapshot
from retention.pipeline.snapshot_process import write_snapshot_in_subprocess
from retention.report.pictures import picture_steps
from retention.report.snapshot import ChartBlock, Section

from .snapshot_fixtures import small_snapshot

pytestmark = pytest.mark.slow  # a worker process and Chromium (kaleido)

ASSETS = Path(__file__).resolve().parents[1] / "static" / "vendor"


def _texts(deck: Presentation) -> list[str]:
    return [
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
    ]


def test_pptx_from_the_worker_is_the_deck_written_in_process_with_its_steps_reported():
    snapshot = small_snapshot(lang="zh")
    steps: list[tuple[str, int, int]] = []
    data = write_snapshot_in_subprocess(
        snapshot, "pptx", assets_dir=ASSETS, progress=lambda *step: steps.append(step)
    )
    total = picture_steps(snapshot)
    assert total == 3  # the fixture has one map: charts, the map, the layout
    assert steps == [("charts", 0, total), ("map", 1, total), ("layout", 2, total)]
    here = Presentation(io.BytesIO(write_snapshot(snapshot, "pptx", assets_dir=ASSETS)))
    there = Presentation(io.BytesIO(data))
    assert len(there.slides) == len(here.slides)
    assert _texts(there) == _texts(here)


def test_pdf_from_the_worker_reads_back_with_the_snapshot_text():
    snapshot = small_snapshot(lang="en")
    data = write_snapshot_in_subprocess(snapshot, "pdf", assets_dir=ASSETS)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert snapshot.version_hash in text


def test_a_failure_in_the_worker_is_raised_with_its_type_message_and_traceback():
    snapshot = small_snapshot(lang="en")
    broken = dataclasses.replace(
        snapshot,
        sections=(Section("Broken", "a chart that is not a figure", (ChartBlock("x", "nope"),)),),
    )
    with pytest.raises(
        SnapshotWriteError, match=r"PDF .* failed: ChartRenderError: could not draw"
    ) as error:
        write_snapshot_in_subprocess(broken, "pdf", assets_dir=ASSETS)
    assert "Traceback" in error.value.detail


def test_a_worker_over_its_time_is_stopped_and_said_so():
    with pytest.raises(SnapshotWriteError, match="took longer than 0 s and was stopped"):
        write_snapshot_in_subprocess(
            small_snapshot(), "pptx", assets_dir=ASSETS, timeout_seconds=0.01
        )
