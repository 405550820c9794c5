"""Charts as pictures for the PDF and PowerPoint snapshots: plotly figures → PNG via kaleido.

kaleido drives a headless Chromium (Debian's ``/usr/bin/chromium``, found by kaleido itself; it
cannot download a browser here). All charts of a snapshot are rendered in one kaleido call, so
the browser starts once per export.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retention.errors import ParkLifeError

CHART_WIDTH_PX = 1200
CHART_HEIGHT_PX = 700


class ChartRenderError(ParkLifeError):
    """A chart could not be drawn as a picture (no Chromium for kaleido, or kaleido failed)."""


def render_charts_png(
    figures: Sequence[Any], *, width_px: int = CHART_WIDTH_PX, height_px: int = CHART_HEIGHT_PX
) -> list[bytes]:
    """Return each plotly figure as PNG bytes, in order.

    Parameters
    ----------
    figures
        plotly figures; their fonts should name a CJK family for Chinese text (the page charts
        do; kaleido's Chromium uses the system fonts).
    width_px, height_px
        Picture size in pixels (scale 2 for print).

    Returns
    -------
    list of bytes
        One PNG per figure.
    """
    if not figures:
        return []
    import plotly.io as pio

    with tempfile.TemporaryDirectory(prefix="parklife-charts-") as folder:
        paths = [Path(folder) / f"chart-{i}.png" for i in range(len(figures))]
        try:
            pio.write_images(
                list(figures), paths, format="png", width=width_px, height=height_px, scale=2
            )
        except Exception as error:  # kaleido raises bare Exceptions for a missing browser
            raise ChartRenderError(
                f"could not draw {len(figures)} chart(s) as pictures with kaleido "
                f"(needs Debian's chromium package): {error}"
            ) from error
        return [path.read_bytes() for path in paths]
