"""Every chart and map of a snapshot drawn as a picture, once, for the PDF and PowerPoint writers.

Charts go through kaleido in one call (``report.chart_images``), maps through matplotlib
(``report.static_map``). The writers report their steps through a :data:`Progress` callback
(``retention.pipeline.snapshot_process`` passes them on to the Reports page): ``"charts"``,
one ``"map"`` per map, then ``"layout"`` when the pages are laid out.
"""

from __future__ import annotations

from collections.abc import Callable

from retention.report.chart_images import render_charts_png
from retention.report.snapshot import ChartBlock, MapBlock, Snapshot
from retention.report.static_map import render_map_png

Progress = Callable[[str, int, int], None]
"""``(step, done, total)``: ``step`` is ``"charts"``, ``"map"`` or ``"layout"``; ``done`` steps
of ``total`` are finished when it is called."""

STEPS: tuple[str, ...] = ("charts", "map", "layout")
"""The step names a writer reports."""


def picture_steps(snapshot: Snapshot) -> int:
    """Return how many steps a PDF or PowerPoint writer reports: charts, each map, layout."""
    maps = sum(
        isinstance(block, MapBlock) for section in snapshot.sections for block in section.blocks
    )
    return maps + 2


def render_pictures(snapshot: Snapshot, *, progress: Progress | None = None) -> dict[int, bytes]:
    """Return every chart and map of ``snapshot`` as PNG bytes, keyed by ``id(block)``.

    ``progress`` is called before the charts and before each map, with the steps done so far
    of :func:`picture_steps` (the writer reports ``"layout"`` itself).
    """
    total = picture_steps(snapshot)
    blocks = [block for section in snapshot.sections for block in section.blocks]
    charts = [block for block in blocks if isinstance(block, ChartBlock)]
    if progress is not None:
        progress("charts", 0, total)
    pictures = dict(
        zip(map(id, charts), render_charts_png([c.figure for c in charts]), strict=True)
    )
    maps = [block for block in blocks if isinstance(block, MapBlock)]
    for done, block in enumerate(maps, start=1):
        if progress is not None:
            progress("map", done, total)
        pictures[id(block)] = render_map_png(block)
    return pictures
