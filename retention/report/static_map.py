"""A snapshot map as a picture, drawn from vector layers without internet.

Layers are drawn in a metric projection (the local UTM zone), so the scale bar is true in
metres; a north arrow points to grid north (within a degree of true north inside one UTM zone).
Chinese text needs a CJK font: the first installed one of ``CJK_FONTS`` is used (Debian's
fonts-wqy-microhei is what set-up installs).
"""

from __future__ import annotations

import io
import math

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle

from retention.report.snapshot import MapBlock, MapLayer

CJK_FONTS: tuple[str, ...] = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC")
"""CJK font families tried in order for map text."""

VALUE_COLOURS: tuple[str, ...] = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")
"""Sequential palette (ColorBrewer Oranges) for the valued layer: light = low, dark = high."""


def cjk_font_family() -> str | None:
    """Return the first installed CJK font family of ``CJK_FONTS``, or ``None``."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FONTS if family in installed), None)


def nice_scale_length_metres(width_metres: float) -> float:
    """Return a round scale-bar length (1, 2 or 5 × 10^k m) near a fifth of the map width."""
    if not math.isfinite(width_metres) or width_metres <= 0:
        raise ValueError(f"map width must be a positive number of metres, got {width_metres}")
    target = width_metres / 5
    exponent = math.floor(math.log10(target))
    for step in (5, 2, 1):
        length = step * 10**exponent
        if length <= target:
            return float(length)
    return float(10**exponent)


def _scale_text(length_metres: float) -> str:
    return f"{length_metres / 1000:g} km" if length_metres >= 1000 else f"{length_metres:g} m"


def render_map_png(
    block: MapBlock, *, width_px: int = 1600, height_px: int = 1000, dpi: int = 160
) -> bytes:
    """Draw a snapshot map as a PNG: layers, legend, metric scale bar and north arrow.

    Parameters
    ----------
    block
        The map: layers in WGS84, drawn first-underneath; at most one coloured by a value.
    width_px, height_px, dpi
        Picture size.

    Returns
    -------
    bytes
        The PNG file.
    """
    layers = [layer for layer in block.layers if not layer.frame.empty]
    frames = [layer.frame for layer in layers]
    if not frames:
        raise ValueError(f"map {block.title!r} has no features to draw")
    crs = frames[0].estimate_utm_crs()
    family = cjk_font_family()
    fonts = [family, "DejaVu Sans"] if family else ["DejaVu Sans"]
    with plt.rc_context({"font.family": fonts}):
        fig, ax = plt.subplots(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
        try:
            handles = []
            for layer in layers:
                frame = layer.frame.to_crs(crs)
                handles.append(_draw_layer(ax, frame, layer, block.legend_title))
            ax.set_aspect("equal")
            ax.set_axis_off()
            ax.set_title(block.title, fontsize=12)
            _add_scale_bar(ax)
            _add_north_arrow(ax)
            labelled = [h for h in handles if h is not None]
            if labelled:
                ax.legend(handles=labelled, loc="lower left", fontsize=7, framealpha=0.85)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        finally:
            plt.close(fig)
    return buffer.getvalue()


def _draw_layer(
    ax: plt.Axes, frame: gpd.GeoDataFrame, layer: MapLayer, legend_title: str
) -> Artist | None:
    name, colour, column = layer.name, layer.colour, layer.value_column
    kinds = set(frame.geom_type.dropna())
    if column is not None:
        values = frame[column].astype(float)
        finite = values[values.notna()]
        low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        cmap = mcolors.LinearSegmentedColormap.from_list("snapshot", list(VALUE_COLOURS))
        norm = mcolors.Normalize(vmin=low, vmax=high if high > low else low + 1)
        frame.plot(
            ax=ax,
            column=column,
            cmap=cmap,
            norm=norm,
            edgecolor="#999999",
            linewidth=0.2,
            missing_kwds={"color": "#dddddd"},
        )
        mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        bar = ax.figure.colorbar(mappable, ax=ax, fraction=0.035, pad=0.01)
        bar.set_label(legend_title or column, fontsize=8)
        bar.ax.tick_params(labelsize=7)
        return None
    if kinds <= {"Point", "MultiPoint"}:
        frame.plot(ax=ax, color=colour, markersize=10, edgecolor="white", linewidth=0.3)
        return Line2D([], [], marker="o", linestyle="", color=colour, label=name)
    if kinds <= {"LineString", "MultiLineString"}:
        frame.plot(ax=ax, color=colour, linewidth=0.5)
        return Line2D([], [], color=colour, label=name)
    frame.plot(ax=ax, facecolor="none", edgecolor=colour, linewidth=1.0)
    return Patch(facecolor="none", edgecolor=colour, label=name)


def _add_scale_bar(ax: plt.Axes) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_scale_length_metres(x1 - x0)
    height = (y1 - y0) * 0.008
    left = x1 - (x1 - x0) * 0.04 - length
    bottom = y0 + (y1 - y0) * 0.04
    for i in range(2):
        ax.add_patch(
            Rectangle(
                (left + i * length / 2, bottom),
                length / 2,
                height,
                facecolor="black" if i == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
            )
        )
    ax.text(
        left + length / 2,
        bottom + height * 2,
        _scale_text(length),
        ha="center",
        va="bottom",
        fontsize=8,
    )


def _add_north_arrow(ax: plt.Axes) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x = x1 - (x1 - x0) * 0.05
    length = (y1 - y0) * 0.07
    y = y1 - (y1 - y0) * 0.05 - length
    ax.add_patch(
        FancyArrow(
            x,
            y,
            0,
            length,
            width=(x1 - x0) * 0.006,
            head_width=(x1 - x0) * 0.02,
            head_length=length * 0.35,
            length_includes_head=True,
            color="black",
        )
    )
    ax.text(x, y - (y1 - y0) * 0.01, "N", ha="center", va="top", fontsize=9)
