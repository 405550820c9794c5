"""A snapshot as one self-contained, interactive HTML file that works offline.

Every script and style is inside the file: Leaflet (with its images as data URIs) from the app's
vendored assets, plotly.js once, the page's own CSS. The map has no background tiles (a plain
background, so nothing is requested off the machine); its layers are GeoJSON with tooltips.
A Content-Security-Policy in the page forbids every network request, so a file passed around in
a meeting cannot call out even if a name in it tried to.

User text (names, notes, table cells) is HTML-escaped; GeoJSON properties are escaped before
they reach a tooltip (folium's tooltips insert them as HTML) and embedded through Jinja's
``tojson``, which escapes ``<`` so no ``</script>`` can end the map's script.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import branca.element
import folium
import geopandas as gpd
import numpy as np

from retention.errors import ParkLifeError
from retention.report.snapshot import (
    ChartBlock,
    Kpi,
    MapBlock,
    Snapshot,
    TableBlock,
    table_rows,
)
from retention.report.static_map import VALUE_COLOURS

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'"
)
"""No request of any kind leaves the file: scripts, styles, images and fonts are all inline."""

_CSS = """
body{font-family:"WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC",sans-serif;margin:2rem;
color:#0f172a;max-width:1200px}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #cbd5e1;padding-bottom:.2rem;margin-top:2rem}
.meta{color:#475569;font-size:.9rem}.notice{border:1px solid #f59e0b;background:#fffbeb;
color:#9a3412;padding:.6rem .8rem;margin:1rem 0;font-weight:bold}
.kpis{display:flex;flex-wrap:wrap;gap:.8rem}.kpi{border:1px solid #cbd5e1;background:#f8fafc;
padding:.6rem .9rem;min-width:12rem}.kpi .label{color:#475569;font-size:.85rem}
.kpi .value{font-size:1.5rem;font-weight:bold}.kpi .note{font-size:.75rem;color:#475569}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{border:1px solid #94a3b8;
padding:.25rem .5rem;text-align:left}th{background:#e2e8f0}td.num{text-align:right}
.note{font-size:.8rem;color:#475569}.map{height:520px;border:1px solid #cbd5e1}
.message{font-size:1.05rem}.legend{font-size:.85rem}
.swatch{display:inline-block;width:1.1rem;height:.8rem;border:1px solid #999;margin-right:.2rem;
vertical-align:middle}
"""


class MissingAssetError(ParkLifeError):
    """A vendored front-end file the offline HTML needs is missing (run scripts/setup.sh)."""


def _read_asset(assets_dir: Path, relative: str) -> str:
    path = assets_dir / relative
    if not path.is_file():
        raise MissingAssetError(
            f"{path} is missing: the offline HTML snapshot inlines Leaflet from the vendored "
            "assets (scripts/setup.sh installs them)"
        )
    return path.read_text(encoding="utf-8")


def _leaflet_css(assets_dir: Path) -> str:
    css = _read_asset(assets_dir, "leaflet/leaflet.css")

    def data_uri(match: re.Match[str]) -> str:
        image = assets_dir / "leaflet" / match.group(1)
        if not image.is_file():
            return "none"
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)


def _escaped_properties(frame: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    out = frame[[*columns, "geometry"]].copy()
    for column in columns:
        if out[column].dtype.kind not in "fiu":
            out[column] = out[column].map(lambda v: "" if v is None else html.escape(str(v)))
    return out


def _colour(value: float, low: float, high: float) -> str:
    if value != value:
        return "#dddddd"
    share = 0.0 if high <= low else (value - low) / (high - low)
    index = min(int(share * len(VALUE_COLOURS)), len(VALUE_COLOURS) - 1)
    return VALUE_COLOURS[index]


class _MetricScale(branca.element.MacroElement):
    """Leaflet's scale bar in metres only (folium's ``control_scale`` adds feet and miles)."""

    _template = branca.element.Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


def _legend_html(title: str, values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return ""
    edges = np.linspace(float(finite.min()), float(finite.max()), len(VALUE_COLOURS) + 1)
    items = "".join(
        f'<span class="swatch" style="background:{colour}"></span>'
        f"{edges[i]:,.1f}–{edges[i + 1]:,.1f}&nbsp;&nbsp;"
        for i, colour in enumerate(VALUE_COLOURS)
    )
    return f'<p class="legend"><b>{html.escape(title)}</b>: {items}</p>'


def _style_function(
    data: gpd.GeoDataFrame, value_column: str | None, colour: str
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Return folium's style function: a fixed colour, or the value's colour class."""
    if value_column is None:
        fixed = {"color": colour, "fillColor": colour, "weight": 1.5, "fillOpacity": 0.1}
        return lambda feature: fixed
    values = data[value_column].astype(float)
    low, high = float(values.min()), float(values.max())

    def valued(feature: dict[str, Any]) -> dict[str, Any]:
        value = feature["properties"].get(value_column)
        fill = _colour(float("nan") if value is None else float(value), low, high)
        return {"fillColor": fill, "color": "#999999", "weight": 0.5, "fillOpacity": 0.8}

    return valued


def _map_html(block: MapBlock, dom_id: str) -> str:
    frames = [layer.frame for layer in block.layers if not layer.frame.empty]
    bounds = gpd.GeoDataFrame(
        geometry=[g for f in frames for g in f.to_crs(4326).geometry], crs=4326
    ).total_bounds
    m = folium.Map(tiles=None, control_scale=False, prefer_canvas=False)
    m.add_child(_MetricScale())
    m.default_js = []
    m.default_css = []
    m._id = dom_id  # stable element ids make the file reproducible
    for layer in block.layers:
        if layer.frame.empty:
            continue
        frame = layer.frame.to_crs(4326)
        text_columns = [
            c for c in frame.columns if c != "geometry" and c in ("name", "name_zh", "name_en")
        ]
        columns = [*text_columns, *([layer.value_column] if layer.value_column else [])]
        data = _escaped_properties(frame, columns)
        group = folium.FeatureGroup(name=html.escape(layer.name))
        style = _style_function(data, layer.value_column, layer.colour)

        point_kinds = set(data.geom_type.dropna()) <= {"Point", "MultiPoint"}
        tooltip = folium.GeoJsonTooltip(fields=columns) if columns else None
        folium.GeoJson(
            data.to_json(),
            style_function=style,
            tooltip=tooltip,
            marker=folium.CircleMarker(radius=5, fill=True) if point_kinds else None,
        ).add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    figure_html = m.get_root().render()
    # Keep the map's own elements (its div, style and script); the page supplies the assets.
    body = figure_html.split("<body>", 1)[1].rsplit("</body>", 1)[0]
    head_styles = re.findall(r"<style>.*?</style>", figure_html.split("<body>", 1)[0], flags=re.S)
    scripts = figure_html.rsplit("</body>", 1)[1]
    return "\n".join([*head_styles, body, scripts.replace("</html>", "")])


def _kpi_html(kpi: Kpi) -> str:
    note = f'<div class="note">{html.escape(kpi.note)}</div>' if kpi.note else ""
    value = html.escape(f"{kpi.value_text()} {kpi.unit}".strip())
    return (
        f'<div class="kpi"><div class="label">{html.escape(kpi.label)}</div>'
        f'<div class="value">{value}</div>{note}</div>'
    )


def _table_html(block: TableBlock) -> str:
    rows = table_rows(block)
    numeric = [block.frame[c].dtype.kind in "fiu" for c in block.frame.columns]
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in rows[0])
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{html.escape(cell)}</td>'
            if numeric[i]
            else f"<td>{html.escape(cell)}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows[1:]
    )
    note = f'<p class="note">{html.escape(block.note)}</p>' if block.note else ""
    return (
        f"<h3>{html.escape(block.title)}</h3><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>{note}"
    )


def snapshot_html(snapshot: Snapshot, *, assets_dir: Path) -> str:
    """Write a snapshot as one self-contained HTML page and return its text.

    Parameters
    ----------
    snapshot
        The content.
    assets_dir
        The vendored front-end assets (``static/vendor``), whose Leaflet files are inlined.

    Returns
    -------
    str
        The HTML document (UTF-8).
    """
    leaflet_js = _read_asset(assets_dir, "leaflet/leaflet.js")
    leaflet_css = _leaflet_css(assets_dir)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if snapshot.lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        f"<title>{html.escape(snapshot.title)} — {html.escape(snapshot.park_name)}</title>",
        f"<style>{leaflet_css}</style><style>{_CSS}</style>",
        f"<script>{leaflet_js}</script>",
        "</head><body>",
        f"<h1>{html.escape(snapshot.title)}</h1><h2>{html.escape(snapshot.park_name)}</h2>",
        '<div class="meta">'
        + "<br>".join(html.escape(line) for line in snapshot.header_lines())
        + "</div>",
    ]
    if snapshot.synthetic_notice:
        parts.append(f'<div class="notice">{html.escape(snapshot.synthetic_notice)}</div>')
    parts.append(f"<h2>{html.escape(snapshot.label('key_figures'))}</h2>")
    parts.append('<div class="kpis">' + "".join(_kpi_html(k) for k in snapshot.kpis) + "</div>")
    plotly_included = False
    map_count = 0
    for section in snapshot.sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts.append(f'<p class="message">{html.escape(section.message)}</p>')
        for block in section.blocks:
            if isinstance(block, TableBlock):
                parts.append(_table_html(block))
            elif isinstance(block, ChartBlock):
                parts.append(f"<h3>{html.escape(block.title)}</h3>")
                parts.append(
                    block.figure.to_html(
                        full_html=False,
                        include_plotlyjs=not plotly_included,
                        config={"displaylogo": False, "toImageButtonOptions": {"format": "png"}},
                        div_id=f"chart-{len(parts)}",
                        default_height="480px",
                    )
                )
                plotly_included = True
                if block.note:
                    parts.append(f'<p class="note">{html.escape(block.note)}</p>')
            elif isinstance(block, MapBlock):
                map_count += 1
                parts.append(f"<h3>{html.escape(block.title)}</h3>")
                parts.append(f'<div class="map">{_map_html(block, f"map_{map_count}")}</div>')
                valued = block.valued_layer
                if valued is not None and valued.value_column is not None:
                    values = valued.frame[valued.value_column].to_numpy(dtype=float)
                    parts.append(_legend_html(block.legend_title or valued.name, values))
                if block.note:
                    parts.append(f'<p class="note">{html.escape(block.note)}</p>')
            elif isinstance(block, Kpi):
                parts.append('<div class="kpis">' + _kpi_html(block) + "</div>")
        if section.sources:
            parts.append(
                f'<p class="note">{html.escape(snapshot.label("sources"))}: '
                f"{html.escape(section.sources)}</p>"
            )
    parts.append(f"<h2>{html.escape(snapshot.label('assumptions'))}</h2>")
    parts.append(_table_html(snapshot.assumptions))
    if snapshot.provenance:
        parts.append(
            f"<h2>{html.escape(snapshot.label('provenance'))}</h2><ul>"
            + "".join(f"<li>{html.escape(p)}</li>" for p in snapshot.provenance)
            + "</ul>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)
