"""Interactive park maps built with folium, served with front-end assets from the app itself.

folium links Leaflet, jQuery, Bootstrap, Font Awesome and its plugins from public CDNs; without
internet access such a map renders blank (DESIGN.md, known traps). Every map built here, and any
map passed through ``use_local_assets``, links the copies that ``scripts/vendor_assets.py``
places under ``static/vendor/`` instead. This module knows nothing about Streamlit: the asset
base URL is a parameter.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import branca.colormap
import branca.element
import folium
import folium.elements
import folium.plugins
import geopandas as gpd
import numpy as np
import shapely

from retention.auth.roles import scope_enterprise_ids
from retention.data.crs import CoordinateSystem, from_wgs84
from retention.data.layers import (
    AmenityCategory,
    LayerKind,
    ResidenceKind,
    RoadClass,
    TransitKind,
    ZoneLevel,
)
from retention.errors import ParameterError
from retention.escaping import html_lines, html_text, map_tooltip
from retention.i18n import label, t

DEFAULT_ASSET_BASE_URL = "/app/static/vendor"
"""Where Streamlit serves ``static/vendor/`` (``server.enableStaticServing``)."""

VENDORED_ASSETS: Mapping[str, str] = MappingProxyType(
    {
        # folium.Map (folium 0.20.0, folium/folium.py _default_js / _default_css)
        "leaflet": "leaflet/leaflet.js",
        "jquery": "jquery/jquery.min.js",
        "bootstrap": "bootstrap/js/bootstrap.bundle.min.js",
        "awesome_markers": "leaflet.awesome-markers/leaflet.awesome-markers.js",
        "leaflet_css": "leaflet/leaflet.css",
        "bootstrap_css": "bootstrap/css/bootstrap.min.css",
        "awesome_markers_font_css": "fontawesome/css/all.min.css",
        "awesome_markers_css": "leaflet.awesome-markers/leaflet.awesome-markers.css",
        # folium.plugins.MarkerCluster
        "markerclusterjs": "leaflet.markercluster/leaflet.markercluster.js",
        "markerclustercss": "leaflet.markercluster/MarkerCluster.css",
        "markerclusterdefaultcss": "leaflet.markercluster/MarkerCluster.Default.css",
        # folium.plugins.Draw (the Scenario page's route drawing)
        "leaflet_draw_js": "leaflet-draw/leaflet.draw.js",
        "leaflet_draw_css": "leaflet-draw/leaflet.draw.css",
    }
)
"""folium's name for each front-end asset → its path under the vendored asset directory."""

OMITTED_ASSETS: frozenset[str] = frozenset({"glyphicons_css", "awesome_rotate_css"})
"""folium assets dropped rather than vendored: neither is published on npm. Glyphicons only serve
``folium.Icon(prefix="glyphicon")`` and the rotate sheet only ``folium.Icon(angle=...)``; ParkLife
maps use Font Awesome icons without rotation."""


class TileSource(StrEnum):
    """Background map tiles. Tiles come from a tile server; every data layer works without them."""

    OSM = "osm"
    AMAP = "amap"  # Amap (高德) tiles are drawn in GCJ-02: data is shifted to match them
    NONE = "none"
    CUSTOM = "custom"  # the deployment's own tile server (``PARKLIFE_MAP_TILES``), WGS84 like OSM


TILES_ENV = "PARKLIFE_MAP_TILES"
"""Server setting for the default map background: ``osm`` (default), ``amap``, ``none``, or the
deployment's own tile URL template (``https://tiles.example/{z}/{x}/{y}.png``), which then is the
default and a choice of its own ("park tile server")."""

_TEMPLATE_FIELDS = ("{x}", "{y}", "{z}")


@dataclass(frozen=True)
class TileSetting:
    """The deployment's map background setting (:data:`TILES_ENV`), parsed.

    Attributes
    ----------
    default
        The background a new session starts with.
    custom_url
        The deployment's own tile URL template (``""``: none configured).
    """

    default: TileSource
    custom_url: str = ""

    @property
    def choices(self) -> tuple[TileSource, ...]:
        """The backgrounds a user may choose, the deployment's own server first when set."""
        builtin = (TileSource.OSM, TileSource.AMAP, TileSource.NONE)
        return (TileSource.CUSTOM, *builtin) if self.custom_url else builtin


def tile_setting(value: str | None = None) -> TileSetting:
    """Parse the map background setting; ``None`` reads ``$PARKLIFE_MAP_TILES`` (unset: OSM).

    Assumes a custom template uses Leaflet's ``{z}``/``{x}``/``{y}`` (and optionally ``{s}``)
    fields, is an ``http(s)://`` URL or a path on the app's own host (``/tiles/{z}/{x}/{y}.png``),
    and serves WGS84 / Web Mercator tiles like OpenStreetMap.

    Parameters
    ----------
    value
        ``osm``, ``amap``, ``none`` or a tile URL template; ``None`` reads the environment.

    Returns
    -------
    TileSetting
        The default background and the custom URL, if any.

    Raises
    ------
    ParameterError
        If the value is neither a known background nor a usable URL template.
    """
    raw = os.environ.get(TILES_ENV, "") if value is None else value
    text = raw.strip()
    if not text:
        return TileSetting(TileSource.OSM)
    if text.lower() in {TileSource.OSM, TileSource.AMAP, TileSource.NONE}:
        return TileSetting(TileSource(text.lower()))
    missing = [field for field in _TEMPLATE_FIELDS if field not in text]
    if not re.match(r"^(https?://[^/\s]+)?/", text) or missing or re.search(r"[\s\"'<>`]", text):
        raise ParameterError(
            f"{TILES_ENV}={raw!r}: expected osm, amap, none or a tile URL template starting with "
            "http://, https:// or / and containing {z}, {x} and {y}"
            + (f" (missing {', '.join(missing)})" if missing else "")
        )
    return TileSetting(TileSource.CUSTOM, custom_url=text)


_AMAP_TILES_URL = (
    "https://webrd0{s}.is.autonavi.com/appmaptile"
    "?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
)
_MAX_ZOOM = 19  # OSM's standard tile layer stops at 19; MarkerCluster needs a map maxZoom

# Okabe–Ito-based qualitative palette, extended; readable on light tiles and a plain background.
_CATEGORY_STYLE: Mapping[AmenityCategory, tuple[str, str]] = MappingProxyType(
    {
        AmenityCategory.CANTEEN: ("utensils", "#d55e00"),
        AmenityCategory.GROCERY: ("basket-shopping", "#e69f00"),
        AmenityCategory.CLINIC: ("stethoscope", "#cc3366"),
        AmenityCategory.HOSPITAL: ("hospital", "#b2182b"),
        AmenityCategory.SPORTS_COURT: ("basketball", "#f0882a"),
        AmenityCategory.GYM: ("dumbbell", "#7b3294"),
        AmenityCategory.PARK: ("tree", "#1b9e77"),
        AmenityCategory.LIBRARY_CULTURE: ("book", "#0072b2"),
        AmenityCategory.CAFE_LEISURE: ("mug-hot", "#8c564b"),
        AmenityCategory.MALL: ("bag-shopping", "#c51b7d"),
        AmenityCategory.KINDERGARTEN: ("children", "#56b4e9"),
        AmenityCategory.SCHOOL: ("school", "#2166ac"),
        AmenityCategory.TRAINING: ("chalkboard-user", "#5e3c99"),
        AmenityCategory.EMPLOYMENT_SERVICE: ("briefcase", "#4d4d4d"),
        AmenityCategory.EXPRESS_DELIVERY: ("box", "#997a00"),
    }
)
_RESIDENCE_COLOURS: Mapping[ResidenceKind, str] = MappingProxyType(
    {
        ResidenceKind.DORM: "#e41a1c",
        ResidenceKind.TALENT_APARTMENT: "#377eb8",
        ResidenceKind.RENTAL_VILLAGE: "#ff7f00",
        ResidenceKind.COMMUNITY: "#4daf4a",
    }
)
_ZONE_STYLE: Mapping[ZoneLevel, Mapping[str, object]] = MappingProxyType(
    {
        ZoneLevel.PARK: {"color": "#222222", "weight": 3, "fillOpacity": 0.03, "dashArray": None},
        ZoneLevel.GRID: {"color": "#555555", "weight": 2, "fillOpacity": 0.0, "dashArray": "6 4"},
        ZoneLevel.MICRO_GRID: {
            "color": "#888888",
            "weight": 1,
            "fillOpacity": 0.0,
            "dashArray": "2 4",
        },
    }
)
_ROAD_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        RoadClass.ARTERIAL: 3.0,
        RoadClass.COLLECTOR: 2.0,
        RoadClass.LOCAL: 1.2,
        RoadClass.PATH: 0.8,
    }
)
_TRANSIT_DASH: Mapping[str, str | None] = MappingProxyType(
    {TransitKind.BUS: None, TransitKind.CUSTOM_BUS: "8 4", TransitKind.SHUTTLE: "2 6"}
)
_ROUTE_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#8c564b",
)
_ENTERPRISE_COLOUR = "#3d3d6b"
_Group = folium.FeatureGroup | folium.plugins.MarkerCluster
_LAYER_CODE = "parklife_layer"  # attribute naming a park map layer's code (see _tagged)
_BOUNDARY_COLOUR = "#6a3d9a"

_MAP_CSS = """
<style>
.leaflet-container { background: #f2efe9; font-family: "WenQuanYi Micro Hei", "Microsoft YaHei",
  "PingFang SC", sans-serif; }
.pl-icon { width: 24px; height: 24px; border-radius: 50%; border: 2px solid #fff;
  box-shadow: 0 0 2px rgba(0,0,0,.6); color: #fff; display: flex; align-items: center;
  justify-content: center; font-size: 12px; }
.pl-icon-square { border-radius: 4px; }
.pl-legend { background: rgba(255,255,255,.92); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 0 4px rgba(0,0,0,.3); font-size: 12px; line-height: 18px; }
.pl-legend h4 { font-size: 13px; margin: 2px 0 4px; font-weight: 600; }
.pl-legend h5 { font-size: 12px; margin: 6px 0 2px; font-weight: 600; }
.pl-legend .pl-swatch { display: inline-block; width: 12px; height: 12px; border-radius: 50%;
  margin-right: 6px; vertical-align: middle; }
.pl-legend .pl-line { display: inline-block; width: 22px; height: 0; margin-right: 6px;
  vertical-align: middle; border-top: 2px solid #555; }
.pl-legend .pl-icon { display: inline-flex; width: 18px; height: 18px; font-size: 9px;
  margin-right: 6px; vertical-align: middle; border-width: 1px; }
.pl-legend .pl-note { color: #a94400; font-weight: 600; }
.pl-legend summary { cursor: pointer; font-size: 13px; font-weight: 600; }
.pl-legend-body { overflow-y: auto; max-width: 240px; }
.pl-tile-note { background: rgba(255,248,225,.95); border: 1px solid #d9a400; color: #5c4400;
  padding: 6px 10px; border-radius: 4px; max-width: 320px; font-size: 12px; line-height: 16px; }
</style>
"""


class _MapStyle(branca.element.MacroElement):
    """Inline style sheet for ParkLife's marker icons and legend (no external request)."""

    _template = branca.element.Template(
        "{% macro header(this, kwargs) %}" + _MAP_CSS + "{% endmacro %}"
    )


class _Legend(branca.element.MacroElement):
    """A collapsible Leaflet control holding the legend's HTML (bottom left).

    Built as a control in the map's script (rather than a fixed-position page element) so that it
    lives inside the map container wherever the map is embedded, including streamlit-folium. The
    body sits in a ``<details>`` element: one click on its title folds it away; it starts folded
    on a small map (narrower than 700 px or lower than 420 px) so it never hides the park there,
    and its height is capped to the map's so it is never cut off.
    """

    _template = branca.element.Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "bottomleft"});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create("div", "pl-legend");
            var size = map.getSize();
            var details = L.DomUtil.create("details", "pl-legend-details", div);
            details.open = size.x >= 700 && size.y >= 420;
            var summary = L.DomUtil.create("summary", "pl-legend-summary", details);
            summary.textContent = {{ this.summary|tojson }};
            var body = L.DomUtil.create("div", "pl-legend-body", details);
            body.innerHTML = {{ this.body|tojson }};
            body.style.maxHeight = Math.max(120, Math.round(size.y * 0.55)) + "px";
            L.DomEvent.disableScrollPropagation(div);
            L.DomEvent.disableClickPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, body: str, summary: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body
        self.summary = summary


class _MetricScale(branca.element.MacroElement):
    """Leaflet's scale bar in metres and kilometres only (folium's ``control_scale`` adds feet)."""

    _template = branca.element.Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false, position: "bottomright"})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class _TileFailureNote(branca.element.MacroElement):
    """A note inside the map when its background tiles do not load (offline, server down).

    Without it an offline map shows layers on an empty background and no word why. The note
    appears after a few failed tiles with none loaded, says every layer is still shown and how
    to choose a plain background; it disappears as soon as a tile loads.
    """

    _template = branca.element.Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, tiles) {
            var failed = 0, loaded = 0;
            var note = L.control({position: "topleft"});
            note.onAdd = function () {
                var div = L.DomUtil.create("div", "pl-tile-note");
                div.setAttribute("role", "status");
                div.textContent = {{ this.text|tojson }};
                return div;
            };
            var shown = false;
            tiles.on("tileerror", function () {
                failed += 1;
                if (!shown && loaded === 0 && failed >= 2) { note.addTo(map); shown = true; }
            });
            tiles.on("tileload", function () {
                loaded += 1;
                if (shown) { note.remove(); shown = false; }
            });
        })({{ this._parent.get_name() }}, {{ this.tiles.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, tiles: folium.TileLayer, text: str) -> None:
        super().__init__()
        self._name = "TileFailureNote"
        self.tiles = tiles
        self.text = text


def add_legend(m: folium.Map, body_html: str, *, lang: str = "en") -> None:
    """Add a collapsible legend (bottom left, inside the map container) holding ``body_html``.

    Parameters
    ----------
    m
        The map; modified in place (it is a build product).
    body_html
        The legend's HTML, already escaped (e.g. ``legend_html``).
    lang
        ``"en"`` or ``"zh"`` for the legend's fold-away title.
    """
    _Legend(body_html, t("map.legend.title", lang)).add_to(m)


def standalone_html(m: folium.Map) -> str:
    """Return the map as one self-contained HTML page (assets linked as the map says).

    Rendering a folium map changes it (folium adds icon elements on every render and
    streamlit-folium renames its elements), so the page is the thing to keep or share, not the
    map: call ``use_local_assets`` first and never reuse ``m`` afterwards.

    Parameters
    ----------
    m
        A finished map.

    Returns
    -------
    str
        An HTML document.
    """
    return m.get_root().render()


def asset_urls(*, asset_base_url: str = DEFAULT_ASSET_BASE_URL) -> Mapping[str, str]:
    """Return folium's asset names mapped to their URLs under ``asset_base_url``.

    Parameters
    ----------
    asset_base_url
        URL path at which ``static/vendor/`` is served, without a trailing slash.

    Returns
    -------
    Mapping
        ``{"leaflet": "<base>/leaflet/leaflet.js", ...}``.
    """
    base = asset_base_url.rstrip("/")
    return MappingProxyType({name: f"{base}/{path}" for name, path in VENDORED_ASSETS.items()})


def _elements(root: branca.element.Element) -> Iterator[branca.element.Element]:
    yield root
    for child in root._children.values():
        yield from _elements(child)


def _localised(
    links: list[tuple[str, str]], urls: Mapping[str, str], owner: str
) -> list[tuple[str, str]]:
    local: list[tuple[str, str]] = []
    for name, _cdn_url in links:
        if name in OMITTED_ASSETS:
            continue
        if name not in urls:
            raise ValueError(
                f"{owner} needs front-end asset {name!r}, which is not vendored; add its npm "
                "package to frontend/package.json, its files to scripts/vendor_assets.py and its "
                "name to retention.report.maps.VENDORED_ASSETS"
            )
        local.append((name, urls[name]))
    return local


def assets_used(m: folium.Map) -> frozenset[str]:
    """Return the vendored asset names the map and its plugins link (omitted ones left out).

    Parameters
    ----------
    m
        A map with its elements added.

    Returns
    -------
    frozenset of str
        Keys of :data:`VENDORED_ASSETS` (an asset that is not vendored is named too, so a check
        of the files finds it missing).
    """
    names: set[str] = set()
    for element in _elements(m):
        if isinstance(element, folium.elements.JSCSSMixin):
            names.update(name for name, _ in [*element.default_js, *element.default_css])
    return frozenset(names - OMITTED_ASSETS)


def use_local_assets(m: folium.Map, *, asset_base_url: str = DEFAULT_ASSET_BASE_URL) -> folium.Map:
    """Point the map's and every plugin's JavaScript and CSS links at the vendored copies.

    Assumes the elements are already added to ``m``. Links are set on each element instance, never
    on folium's classes, so other maps (and other sessions in the same process) are unaffected.
    An element needing an asset that is not vendored raises ``ValueError`` naming it, rather than
    silently loading it from a CDN.

    Parameters
    ----------
    m
        The map to prepare for offline display; modified in place (it is a build product).
    asset_base_url
        URL path at which ``static/vendor/`` is served.

    Returns
    -------
    folium.Map
        ``m`` itself, for chaining.
    """
    urls = asset_urls(asset_base_url=asset_base_url)
    for element in _elements(m):
        if isinstance(element, folium.elements.JSCSSMixin):
            owner = type(element).__name__
            element.default_js = _localised(list(element.default_js), urls, owner)
            element.default_css = _localised(list(element.default_css), urls, owner)
        elif isinstance(element, branca.colormap.ColorMap):
            # streamlit-folium links d3 from a CDN for every colour map; it has no offline copy.
            raise ValueError(
                "branca colour maps load d3 from a CDN when shown with streamlit-folium; "
                "draw the legend with retention.report.maps legend HTML instead"
            )
    return m


def _display_frame(gdf: gpd.GeoDataFrame, tiles: TileSource) -> gpd.GeoDataFrame:
    """Return a copy in the coordinates the tiles are drawn in (GCJ-02 for Amap, else WGS84)."""
    frame = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf.copy()
    if tiles is not TileSource.AMAP:
        return frame

    def shift(coords: np.ndarray) -> np.ndarray:
        lon, lat = from_wgs84(coords[:, 0], coords[:, 1], system=CoordinateSystem.GCJ02)
        return np.column_stack([lon, lat])

    frame = frame.copy()
    frame["geometry"] = shapely.transform(frame.geometry.to_numpy(), shift)
    return frame


def _in_language(row: Mapping[str, object], column: str, lang: str) -> object:
    """Return ``<column>_en`` in English when the row has it, else ``<column>``."""
    english = row.get(f"{column}_en")
    if lang == "en" and isinstance(english, str) and english.strip():
        return english
    return row.get(column)


def _name(row: Mapping[str, object], lang: str) -> str:
    """Return the feature's name in ``lang``: ``name`` is Chinese, ``name_en`` its English."""
    name = row.get("name")
    name_en = row.get("name_en")
    if lang == "en" and isinstance(name_en, str) and name_en.strip():
        return name_en
    if isinstance(name, str) and name.strip():
        return name
    return str(row.get("id", row.get("route_id", "")))


def _icon(fa_name: str, colour: str, *, square: bool = False) -> folium.DivIcon:
    shape = " pl-icon-square" if square else ""
    return folium.DivIcon(
        html=(
            f'<div class="pl-icon{shape}" style="background:{colour}">'
            f'<i class="fa-solid fa-{fa_name}"></i></div>'
        ),
        icon_size=(24, 24),
        icon_anchor=(12, 12),
        class_name="pl-marker",
    )


def _points(gdf: gpd.GeoDataFrame) -> Iterator[tuple[Mapping[str, object], float, float]]:
    """Yield each row with the latitude/longitude of its point (or a point inside its polygon)."""
    points = gdf.geometry.representative_point()
    for (_, row), point in zip(gdf.iterrows(), points, strict=True):
        if point is None or point.is_empty:
            continue
        yield row.to_dict(), float(point.y), float(point.x)


def _int(value: object) -> int:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
    return int(number) if math.isfinite(number) else 0


def _tagged(group: _Group, code: str) -> _Group:
    """Mark ``group`` as the park map's layer ``code`` (see ``park_map_page``)."""
    setattr(group, _LAYER_CODE, code)
    return group


def _add_boundary(m: folium.Map, boundary: gpd.GeoDataFrame, lang: str) -> None:
    group = _tagged(
        folium.FeatureGroup(name=t("map.layer.district_boundary", lang), show=True), "boundary"
    )
    folium.GeoJson(
        boundary[["geometry"]],
        style_function=lambda _feature: {
            "color": _BOUNDARY_COLOUR,
            "weight": 2,
            "fillOpacity": 0.0,
            "dashArray": "10 6",
        },
        tooltip=map_tooltip(t("map.tooltip.district_boundary", lang)),
    ).add_to(group)
    group.add_to(m)


def _add_zones(m: folium.Map, zones: gpd.GeoDataFrame, lang: str) -> None:
    for level in ZoneLevel:
        subset = zones[zones["level"] == level.value]
        if subset.empty:
            continue
        frame = subset[["geometry"]].copy()
        frame["tip"] = [
            html_lines(_name(row, lang), label("zone_level", level.value, lang))
            for row in subset.to_dict("records")
        ]
        style = dict(_ZONE_STYLE[level])
        group = _tagged(
            folium.FeatureGroup(
                name=t("map.layer.zones", lang, level=label("zone_level", level.value, lang)),
                show=level is not ZoneLevel.MICRO_GRID,
            ),
            f"zones.{level.value}",
        )
        folium.GeoJson(
            frame,
            style_function=lambda _feature, style=style: {**style, "fillColor": style["color"]},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(group)
        group.add_to(m)


def _add_roads(m: folium.Map, roads: gpd.GeoDataFrame, lang: str) -> None:
    frame = roads[["geometry"]].copy()
    frame["weight"] = [
        _ROAD_WEIGHTS.get(str(value), 1.0) for value in roads.get("road_class", [None] * len(roads))
    ]
    group = _tagged(
        folium.FeatureGroup(name=label("layer", LayerKind.ROADS.value, lang), show=True), "roads"
    )
    folium.GeoJson(
        frame,
        style_function=lambda feature: {
            "color": "#9a9a9a",
            "weight": feature["properties"]["weight"],
            "opacity": 0.9,
        },
        interactive=False,
    ).add_to(group)
    group.add_to(m)


def _add_transit(
    m: folium.Map,
    routes: gpd.GeoDataFrame | None,
    stops: gpd.GeoDataFrame | None,
    lang: str,
) -> None:
    group = _tagged(folium.FeatureGroup(name=t("map.layer.transit", lang), show=True), "transit")
    colours: dict[str, str] = {}
    if routes is not None:
        for index, row in enumerate(routes.to_dict("records")):
            route_id = str(row.get("route_id", index))
            colour = colours.setdefault(
                route_id, _ROUTE_COLOURS[len(colours) % len(_ROUTE_COLOURS)]
            )
            kind = str(row.get("kind", TransitKind.BUS.value))
            kind_label = label("transit_kind", kind, lang) if kind in set(TransitKind) else kind
            folium.GeoJson(
                gpd.GeoDataFrame(geometry=[row["geometry"]], crs="EPSG:4326"),
                style_function=lambda _feature, colour=colour, kind=kind: {
                    "color": colour,
                    "weight": 4,
                    "opacity": 0.85,
                    "dashArray": _TRANSIT_DASH.get(kind),
                },
                tooltip=map_tooltip(_name(row, lang), kind_label),
            ).add_to(group)
    if stops is not None:
        for row, lat, lon in _points(stops):
            route_id = str(row.get("route_id", ""))
            folium.CircleMarker(
                location=(lat, lon),
                radius=4,
                color=colours.get(route_id, "#333333"),
                weight=2,
                fill=True,
                fill_color="#ffffff",
                fill_opacity=1.0,
                tooltip=map_tooltip(
                    _name(row, lang), t("map.tooltip.stop_of", lang, route=route_id)
                ),
            ).add_to(group)
    group.add_to(m)


def _add_enterprises(
    m: folium.Map,
    enterprises: gpd.GeoDataFrame,
    lang: str,
    cluster_threshold: int,
    *,
    user_scope: str | None = None,
) -> None:
    # Another firm's headcount is its figure: an HR scope sees its own firms' only, a viewer none.
    own = scope_enterprise_ids(user_scope)
    name = label("layer", LayerKind.ENTERPRISES.value, lang)
    group: _Group
    if len(enterprises) > cluster_threshold:
        group = folium.plugins.MarkerCluster(name=name, options={"disableClusteringAtZoom": 17})
    else:
        group = folium.FeatureGroup(name=name)
    _tagged(group, "enterprises")
    for row, lat, lon in _points(enterprises):
        folium.Marker(
            location=(lat, lon),
            icon=_icon("industry", _ENTERPRISE_COLOUR, square=True),
            tooltip=map_tooltip(
                _name(row, lang),
                _in_language(row, "industry", lang),
                *(
                    [t("map.tooltip.employees", lang, count=_int(row.get("employees")))]
                    if own is None or str(row.get("id")) in own
                    else []
                ),
            ),
        ).add_to(group)
    group.add_to(m)


def _add_residences(m: folium.Map, residences: gpd.GeoDataFrame, lang: str) -> None:
    group = _tagged(
        folium.FeatureGroup(name=label("layer", LayerKind.RESIDENCES.value, lang)), "residences"
    )
    for row, lat, lon in _points(residences):
        kind = str(row.get("kind", ""))
        colour = _RESIDENCE_COLOURS.get(kind, "#666666")  # type: ignore[call-overload]
        beds = _int(row.get("beds"))
        kind_label = label("residence_kind", kind, lang) if kind in set(ResidenceKind) else kind
        folium.CircleMarker(
            location=(lat, lon),
            radius=min(4.0 + math.sqrt(beds) / 4.0, 16.0),
            color="#ffffff",
            weight=1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.85,
            tooltip=map_tooltip(
                _name(row, lang),
                kind_label,
                t(
                    "map.tooltip.beds_residents",
                    lang,
                    beds=beds,
                    residents=_int(row.get("residents")),
                ),
            ),
        ).add_to(group)
    group.add_to(m)


def _add_amenities(
    m: folium.Map, amenities: gpd.GeoDataFrame, lang: str, cluster_threshold: int
) -> list[AmenityCategory]:
    shown: list[AmenityCategory] = []
    for category in AmenityCategory:
        subset = amenities[amenities["category"] == category.value]
        if subset.empty:
            continue
        shown.append(category)
        fa_name, colour = _CATEGORY_STYLE[category]
        name = label("category", category.value, lang)
        group: _Group
        if len(subset) > cluster_threshold:
            group = folium.plugins.MarkerCluster(name=name, options={"disableClusteringAtZoom": 17})
        else:
            group = folium.FeatureGroup(name=name)
        _tagged(group, f"amenity.{category.value}")
        areas = subset[subset.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
        if not areas.empty:
            folium.GeoJson(
                areas[["geometry"]],
                style_function=lambda _feature, colour=colour: {
                    "color": colour,
                    "weight": 1,
                    "fillColor": colour,
                    "fillOpacity": 0.25,
                },
                interactive=False,
            ).add_to(group)
        for row, lat, lon in _points(subset):
            folium.Marker(
                location=(lat, lon),
                icon=_icon(fa_name, colour),
                tooltip=map_tooltip(_name(row, lang), name, row.get("opening_hours")),
            ).add_to(group)
        group.add_to(m)
    return shown


def legend_html(
    *,
    lang: str,
    categories: list[AmenityCategory] | tuple[AmenityCategory, ...] = tuple(AmenityCategory),
    synthetic: bool = False,
) -> str:
    """Return the legend's HTML: amenity icons, residence colours, boundary and route styles.

    Parameters
    ----------
    lang
        ``"en"`` or ``"zh"``.
    categories
        Amenity categories present on the map, in display order.
    synthetic
        Whether to state that the data is synthetic demo data.

    Returns
    -------
    str
        HTML fragment (escaped text).
    """
    esc = html_text
    parts: list[str] = []
    if synthetic:
        parts.append(f'<div class="pl-note">{esc(t("map.legend.synthetic", lang))}</div>')
    parts.append(f"<h5>{esc(label('layer', LayerKind.AMENITIES.value, lang))}</h5>")
    for category in categories:
        fa_name, colour = _CATEGORY_STYLE[category]
        parts.append(
            f'<div><span class="pl-icon" style="background:{colour}">'
            f'<i class="fa-solid fa-{fa_name}"></i></span>'
            f"{esc(label('category', category.value, lang))}</div>"
        )
    parts.append(f"<h5>{esc(label('layer', LayerKind.RESIDENCES.value, lang))}</h5>")
    for kind, colour in _RESIDENCE_COLOURS.items():
        parts.append(
            f'<div><span class="pl-swatch" style="background:{colour}"></span>'
            f"{esc(label('residence_kind', kind.value, lang))}</div>"
        )
    parts.append(
        f'<div><span class="pl-icon pl-icon-square" style="background:{_ENTERPRISE_COLOUR}">'
        f'<i class="fa-solid fa-industry"></i></span>'
        f"{esc(label('layer', LayerKind.ENTERPRISES.value, lang))}</div>"
    )
    parts.append(f"<h5>{esc(t('map.legend.lines', lang))}</h5>")
    for level, style in _ZONE_STYLE.items():
        dash = "dashed" if style["dashArray"] else "solid"
        parts.append(
            f'<div><span class="pl-line" style="border-top:{style["weight"]}px {dash} '
            f'{style["color"]}"></span>'
            f"{esc(t('map.layer.zones', lang, level=label('zone_level', level.value, lang)))}"
            "</div>"
        )
    for transit_kind in TransitKind:
        dash = "dashed" if _TRANSIT_DASH.get(transit_kind) else "solid"
        parts.append(
            f'<div><span class="pl-line" style="border-top:3px {dash} {_ROUTE_COLOURS[0]}">'
            f"</span>{esc(label('transit_kind', transit_kind.value, lang))}</div>"
        )
    return "".join(parts)


def new_map(
    bounds: tuple[float, float, float, float],
    *,
    tiles: TileSource | str = TileSource.OSM,
    lang: str = "en",
) -> folium.Map:
    """Return an empty map fitted to ``bounds`` with ParkLife's tiles, styles and scale bar.

    Assumes ``bounds`` are WGS84 ``(min_lon, min_lat, max_lon, max_lat)``; with Amap tiles the
    view is shifted to GCJ-02 like the data (add layers through ``display_frame``). Call
    ``use_local_assets`` after adding layers (``ui.map_view.show_map`` does).

    Parameters
    ----------
    bounds
        Area to show.
    tiles
        Background tile source; ``TileSource.NONE`` gives a plain background.
    lang
        ``"en"`` or ``"zh"`` (tile attribution text).

    Returns
    -------
    folium.Map
        A new map (a new object on every call) with a metric scale bar and, under tiles, a note
        that appears inside the map when they fail to load.
    """
    source = TileSource(tiles)
    min_lon, min_lat, max_lon, max_lat = bounds
    if source is TileSource.AMAP:
        lons, lats = from_wgs84(
            [min_lon, max_lon], [min_lat, max_lat], system=CoordinateSystem.GCJ02
        )
        min_lon, max_lon = float(lons[0]), float(lons[1])
        min_lat, max_lat = float(lats[0]), float(lats[1])
    m = folium.Map(
        location=((min_lat + max_lat) / 2.0, (min_lon + max_lon) / 2.0),
        zoom_start=13,
        tiles=None,
        control_scale=False,  # folium's scale bar adds feet and miles: _MetricScale instead
        maxZoom=_MAX_ZOOM,
    )
    layer: folium.TileLayer | None = None
    if source is TileSource.OSM:
        layer = folium.TileLayer(
            "OpenStreetMap", name=t("common.tiles.osm", lang), max_zoom=_MAX_ZOOM, control=False
        )
    elif source is TileSource.AMAP:
        layer = folium.TileLayer(
            _AMAP_TILES_URL,
            name=t("common.tiles.amap", lang),
            attr=t("map.attribution.amap", lang),
            subdomains="1234",
            max_zoom=18,
            control=False,
        )
    elif source is TileSource.CUSTOM:
        url = tile_setting().custom_url
        if not url:
            raise ParameterError(
                f"the deployment's own tile server was chosen but {TILES_ENV} names no tile URL "
                "template; expected e.g. https://tiles.example/{z}/{x}/{y}.png"
            )
        layer = folium.TileLayer(
            url,
            name=tile_name(TileSource.CUSTOM, lang),
            attr=t("mapview.attribution.custom", lang),
            max_zoom=_MAX_ZOOM,
            control=False,
        )
    if layer is not None:
        layer.add_to(m)
        _TileFailureNote(layer, t("mapview.tiles_failed", lang)).add_to(m)
    m.fit_bounds([[min_lat, min_lon], [max_lat, max_lon]])
    _MapStyle().add_to(m)
    _MetricScale().add_to(m)
    return m


def display_frame(
    gdf: gpd.GeoDataFrame, *, tiles: TileSource | str = TileSource.OSM
) -> gpd.GeoDataFrame:
    """Return a copy of a WGS84 layer in the coordinates the chosen tiles are drawn in.

    Assumes ``gdf`` is WGS84 (or has a CRS to reproject from). Amap tiles are drawn in GCJ-02, so
    WGS84 data would appear ~500 m off in Zhuzhou; the copy is shifted to GCJ-02 for display only.

    Parameters
    ----------
    gdf
        A layer; not modified.
    tiles
        Tile source the map uses.

    Returns
    -------
    GeoDataFrame
        Display coordinates (WGS84 for OSM and no tiles, GCJ-02 for Amap).
    """
    return _display_frame(gdf, TileSource(tiles))


def layers_bounds(
    layers: Mapping[LayerKind, gpd.GeoDataFrame],
) -> tuple[float, float, float, float]:
    """Return WGS84 ``(min_lon, min_lat, max_lon, max_lat)`` around every non-empty layer."""
    boxes = [
        frame.to_crs("EPSG:4326").total_bounds
        for frame in layers.values()
        if frame is not None and not frame.empty
    ]
    if not boxes:
        raise ValueError("cannot draw a map: every layer is empty")
    stacked = np.vstack(boxes)
    return (
        float(np.nanmin(stacked[:, 0])),
        float(np.nanmin(stacked[:, 1])),
        float(np.nanmax(stacked[:, 2])),
        float(np.nanmax(stacked[:, 3])),
    )


def _park_base(
    layers: Mapping[LayerKind, gpd.GeoDataFrame],
    source: TileSource,
    lang: str,
    boundary: gpd.GeoDataFrame | None,
    *,
    zones: bool,
) -> tuple[folium.Map, dict[LayerKind, gpd.GeoDataFrame]]:
    """A new map of the park with its boundary, zones (optionally), roads, transit, residences.

    Returns the map and the non-empty layers in display coordinates, for the layers to follow.
    """
    present = {
        kind: _display_frame(frame, source)
        for kind, frame in layers.items()
        if frame is not None and not frame.empty
    }
    m = new_map(layers_bounds({kind: layers[kind] for kind in present}), tiles=source, lang=lang)
    if boundary is not None and not boundary.empty:
        _add_boundary(m, _display_frame(boundary, source), lang)
    if zones and LayerKind.ZONES in present:
        _add_zones(m, present[LayerKind.ZONES], lang)
    if LayerKind.ROADS in present:
        _add_roads(m, present[LayerKind.ROADS], lang)
    if LayerKind.TRANSIT_ROUTES in present or LayerKind.TRANSIT_STOPS in present:
        _add_transit(
            m, present.get(LayerKind.TRANSIT_ROUTES), present.get(LayerKind.TRANSIT_STOPS), lang
        )
    if LayerKind.RESIDENCES in present:
        _add_residences(m, present[LayerKind.RESIDENCES], lang)
    return m, present


def build_park_map(
    layers: Mapping[LayerKind, gpd.GeoDataFrame],
    *,
    lang: str,
    tiles: TileSource | str = TileSource.OSM,
    asset_base_url: str = DEFAULT_ASSET_BASE_URL,
    boundary: gpd.GeoDataFrame | None = None,
    synthetic: bool = False,
    cluster_threshold: int = 60,
    user_scope: str | None = None,
) -> folium.Map:
    """Build the park's overview map: boundaries, enterprises, residences, transit, amenities.

    Assumes layers in WGS84 with the columns of ``retention.data.layers.LAYER_SPECS``; missing
    layers are skipped. Each amenity category is its own layer with its own icon; dense point
    layers (more than ``cluster_threshold`` points) are clustered. Which layers show is chosen
    outside the map (``park_map_page`` then ``MapPage.showing``), so the choice survives reruns;
    the map itself has no layer control. Nothing needs the internet except the background tiles.

    Parameters
    ----------
    layers
        The park's layers by kind; not modified.
    lang
        ``"en"`` or ``"zh"`` for layer names, tooltips and the legend.
    tiles
        Background tiles; with Amap (GCJ-02) tiles the data is shifted to GCJ-02 for display.
    asset_base_url
        URL path at which ``static/vendor/`` is served.
    boundary
        The real district boundary, drawn as its own layer, if any.
    synthetic
        Whether the layers are synthetic demo data (stated in the legend).
    cluster_threshold
        Point layers with more points than this are clustered.
    user_scope
        The run key's ``user_scope``: enterprise headcounts are shown for the firms it may see
        (every firm for ``None``/``"all"``, an HR scope's own, none for a viewer).

    Returns
    -------
    folium.Map
        A new map whose every asset link points under ``asset_base_url``.
    """
    m, present = _park_base(layers, TileSource(tiles), lang, boundary, zones=True)
    if LayerKind.ENTERPRISES in present:
        _add_enterprises(
            m, present[LayerKind.ENTERPRISES], lang, cluster_threshold, user_scope=user_scope
        )
    categories: list[AmenityCategory] = []
    if LayerKind.AMENITIES in present:
        categories = _add_amenities(m, present[LayerKind.AMENITIES], lang, cluster_threshold)
    add_legend(m, legend_html(lang=lang, categories=categories, synthetic=synthetic), lang=lang)
    return use_local_assets(m, asset_base_url=asset_base_url)


def tile_name(source: TileSource | str, lang: str) -> str:
    """Return a background's name for the map background choice, in ``lang``."""
    value = TileSource(source).value
    return t(
        f"mapview.tiles.{value}" if value == TileSource.CUSTOM else f"common.tiles.{value}", lang
    )


HIDDEN_BY_DEFAULT: frozenset[str] = frozenset({f"zones.{ZoneLevel.MICRO_GRID.value}"})
"""Park map layers a new session starts without (micro-grids clutter the park view)."""


def park_map_layers(
    layers: Mapping[LayerKind, gpd.GeoDataFrame], *, boundary: gpd.GeoDataFrame | None = None
) -> tuple[str, ...]:
    """Return the codes of the park map's layers for these data, in drawing order.

    Codes are stable across languages (``boundary``, ``zones.<level>``, ``roads``, ``transit``,
    ``residences``, ``enterprises``, ``amenity.<category>``): a choice of layers kept as codes
    survives a language switch and fits in a URL. ``build_park_map`` draws exactly these.

    Parameters
    ----------
    layers
        The park's layers by kind.
    boundary
        The district boundary, if any.

    Returns
    -------
    tuple of str
        One code per layer the map will have.
    """

    def present(kind: LayerKind) -> gpd.GeoDataFrame | None:
        frame = layers.get(kind)
        return frame if frame is not None and not frame.empty else None

    codes: list[str] = []
    if boundary is not None and not boundary.empty:
        codes.append("boundary")
    zones = present(LayerKind.ZONES)
    if zones is not None:
        levels = set(zones["level"].astype(str))
        codes += [f"zones.{level.value}" for level in ZoneLevel if level.value in levels]
    if present(LayerKind.ROADS) is not None:
        codes.append("roads")
    if (
        present(LayerKind.TRANSIT_ROUTES) is not None
        or present(LayerKind.TRANSIT_STOPS) is not None
    ):
        codes.append("transit")
    if present(LayerKind.RESIDENCES) is not None:
        codes.append("residences")
    if present(LayerKind.ENTERPRISES) is not None:
        codes.append("enterprises")
    amenities = present(LayerKind.AMENITIES)
    if amenities is not None:
        found = set(amenities["category"].astype(str))
        codes += [f"amenity.{c.value}" for c in AmenityCategory if c.value in found]
    return tuple(codes)


def park_layer_label(code: str, lang: str) -> str:
    """Return the name of the park map layer ``code`` in ``lang`` (as the legend names it).

    Raises
    ------
    ParameterError
        If ``code`` is not a park map layer code.
    """
    kind, _, detail = code.partition(".")
    if code == "boundary":
        return t("map.layer.district_boundary", lang)
    if kind == "zones" and detail in set(ZoneLevel):
        return t("map.layer.zones", lang, level=label("zone_level", detail, lang))
    if code == "transit":
        return t("map.layer.transit", lang)
    if code in {LayerKind.ROADS, LayerKind.RESIDENCES, LayerKind.ENTERPRISES}:
        return label("layer", code, lang)
    if kind == "amenity" and detail in set(AmenityCategory):
        return label("category", detail, lang)
    raise ParameterError(f"unknown park map layer {code!r}; expected one of park_map_layers()")


_SCRIPT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class MapPage:
    """A park map rendered once as an HTML page, whose layers can be shown or hidden after.

    Attributes
    ----------
    html
        The page with every layer as ``build_park_map`` drew it.
    map_variable
        The Leaflet map's variable in the page's script.
    layer_variables
        Layer code → its Leaflet layer's variable in the page's script.
    """

    html: str
    map_variable: str
    layer_variables: Mapping[str, str]

    def showing(self, shown: Collection[str]) -> str:
        """Return the page showing exactly the layers ``shown`` (codes; unknown codes ignored).

        A few lines of script after the map's own add or remove each layer, so one rendered page
        serves every choice of layers (rendering takes seconds; this takes nothing).
        """
        lines = [
            f"{self.map_variable}.{'addLayer' if code in shown else 'removeLayer'}({variable});"
            for code, variable in self.layer_variables.items()
        ]
        script = "<script>\n" + "\n".join(lines) + "\n</script>\n"
        head, closing, tail = self.html.rpartition("</html>")
        return head + script + closing + tail if closing else self.html + script


def park_map_page(m: folium.Map) -> MapPage:
    """Render a map from ``build_park_map`` into a :class:`MapPage` (``m`` is used up).

    Parameters
    ----------
    m
        A finished park map; never reuse it afterwards (see ``standalone_html``).

    Returns
    -------
    MapPage
        The page and the script names of its map and layers.
    """
    variables = {
        str(getattr(element, _LAYER_CODE)): element.get_name()
        for element in _elements(m)
        if getattr(element, _LAYER_CODE, None)
    }
    names = [m.get_name(), *variables.values()]
    if not all(_SCRIPT_NAME.fullmatch(name) for name in names):
        raise ValueError(f"unexpected script names in a folium map: {names}")
    return MapPage(standalone_html(m), m.get_name(), MappingProxyType(variables))


ROUTE_PREVIEW_COLOUR = "#0b6e4f"
"""Colour of a drawn route's road line and stops (distinct from the route palette)."""

_DRAW_LOCALE_ZH = {
    "draw.toolbar.buttons.polyline": "画线路（每次点击为一个站点）",
    "draw.toolbar.buttons.marker": "放置站点",
    "draw.toolbar.actions.title": "取消绘制",
    "draw.toolbar.actions.text": "取消",
    "draw.toolbar.finish.title": "完成绘制",
    "draw.toolbar.finish.text": "完成",
    "draw.toolbar.undo.title": "删除最后一个点",
    "draw.toolbar.undo.text": "删除最后一点",
    "draw.handlers.polyline.tooltip.start": "点击放置第一个站点",
    "draw.handlers.polyline.tooltip.cont": "点击放置下一个站点",
    "draw.handlers.polyline.tooltip.end": "点击最后一个站点或“完成”结束",
    "draw.handlers.marker.tooltip.start": "点击地图放置站点",
    "edit.toolbar.buttons.edit": "编辑线路",
    "edit.toolbar.buttons.remove": "删除线路",
    "edit.toolbar.actions.save.title": "保存修改",
    "edit.toolbar.actions.save.text": "保存",
    "edit.toolbar.actions.cancel.title": "取消编辑",
    "edit.toolbar.actions.cancel.text": "取消",
    "edit.toolbar.actions.clearAll.title": "清除全部",
    "edit.toolbar.actions.clearAll.text": "全部清除",
    "edit.handlers.remove.tooltip.text": "点击要删除的线路或站点",
}


class _DrawLocale(branca.element.MacroElement):
    """Leaflet.draw's toolbar texts in Chinese (it ships English only), set before it is used."""

    _template = branca.element.Template(
        """
        {% macro script(this, kwargs) %}
        (function (texts) {
            Object.keys(texts).forEach(function (path) {
                var parts = path.split("."), node = L.drawLocal;
                for (var i = 0; i < parts.length - 1 && node; i++) { node = node[parts[i]]; }
                if (node) { node[parts[parts.length - 1]] = texts[path]; }
            });
        })({{ this.texts|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, texts: Mapping[str, str]) -> None:
        super().__init__()
        self._name = "DrawLocale"
        self.texts = dict(texts)


def build_route_drawing_map(
    layers: Mapping[LayerKind, gpd.GeoDataFrame],
    *,
    lang: str,
    tiles: TileSource | str = TileSource.OSM,
    asset_base_url: str = DEFAULT_ASSET_BASE_URL,
    boundary: gpd.GeoDataFrame | None = None,
    synthetic: bool = False,
) -> folium.Map:
    """Build a light park map with Leaflet.draw tools to draw a route: a line or stop markers.

    Roads, transit, residences and the district boundary as on :func:`build_park_map`;
    amenities (in their category colours) and enterprises as plain dots in one layer each, so
    the map stays quick to draw on every rerun of the page. A drawing toolbar (top right, under
    the layer switch) offers two tools only: a line, whose every click is a stop, and a marker
    per stop; drawn shapes can be edited and deleted. Leaflet.draw is served from the vendored
    copy like every other asset.

    Parameters
    ----------
    layers, lang, tiles, asset_base_url, boundary, synthetic
        As for :func:`build_park_map`.

    Returns
    -------
    folium.Map
        A new map whose every asset link points under ``asset_base_url``.
    """
    m, present = _park_base(layers, TileSource(tiles), lang, boundary, zones=False)
    categories: list[AmenityCategory] = []
    for kind in (LayerKind.ENTERPRISES, LayerKind.AMENITIES):
        if kind not in present:
            continue
        frame = present[kind]
        colours = [_ENTERPRISE_COLOUR] * len(frame)
        if kind is LayerKind.AMENITIES:
            known = [str(v) if str(v) in set(AmenityCategory) else "" for v in frame["category"]]
            categories = [c for c in AmenityCategory if c.value in set(known)]
            colours = [_CATEGORY_STYLE[AmenityCategory(v)][1] if v else "#666666" for v in known]
        dots = gpd.GeoDataFrame(
            {"colour": colours},
            geometry=frame.geometry.representative_point().to_numpy(),
            crs=frame.crs,
        )
        group = folium.FeatureGroup(name=label("layer", kind.value, lang))
        folium.GeoJson(
            dots,
            marker=folium.CircleMarker(radius=4, weight=1, color="#ffffff", fill_opacity=0.9),
            style_function=lambda feature: {"fillColor": feature["properties"]["colour"]},
            interactive=False,
        ).add_to(group)
        group.add_to(m)
    add_legend(m, legend_html(lang=lang, categories=categories, synthetic=synthetic), lang=lang)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    if lang == "zh":
        _DrawLocale(_DRAW_LOCALE_ZH).add_to(m)
    folium.plugins.Draw(
        position="topright",  # top left, the legend's box would cover the marker tool
        show_geometry_on_click=False,
        draw_options={
            "polyline": {"shapeOptions": {"color": "#d62728", "weight": 4}},
            "marker": True,
            "polygon": False,
            "rectangle": False,
            "circle": False,
            "circlemarker": False,
        },
        edit_options={"edit": True, "remove": True},
    ).add_to(m)
    return use_local_assets(m, asset_base_url=asset_base_url)


def route_preview_layer(
    line: shapely.LineString,
    stops: list[tuple[float, float, str]],
    *,
    tiles: TileSource | str = TileSource.OSM,
    lang: str = "en",
) -> folium.FeatureGroup:
    """Return a layer showing a drawn route as it will run: its road line and its stops.

    Parameters
    ----------
    line
        The route's line (WGS84).
    stops
        ``(lon, lat, name)`` of each stop, in riding order (WGS84).
    tiles
        The map's tiles (Amap: shown in GCJ-02 like the other layers).
    lang
        ``"en"`` or ``"zh"`` for the tooltips.

    Returns
    -------
    folium.FeatureGroup
        A new layer (streamlit-folium's ``feature_group_to_add``: it changes without redrawing
        the map, so what was drawn stays on it).
    """
    source = TileSource(tiles)
    group = folium.FeatureGroup(name=t("scenario_draw.layer", lang))
    shown = _display_frame(gpd.GeoDataFrame(geometry=[line], crs="EPSG:4326"), source)
    coords = [(lat, lon) for lon, lat in shown.geometry.iloc[0].coords]
    folium.PolyLine(coords, color=ROUTE_PREVIEW_COLOUR, weight=6, opacity=0.85).add_to(group)
    points = _display_frame(
        gpd.GeoDataFrame(
            {"name": [name for _, _, name in stops]},
            geometry=gpd.points_from_xy([s[0] for s in stops], [s[1] for s in stops]),
            crs="EPSG:4326",
        ),
        source,
    )
    for number, (name, point) in enumerate(
        zip(points["name"], points.geometry, strict=True), start=1
    ):
        folium.CircleMarker(
            location=(point.y, point.x),
            radius=7,
            color=ROUTE_PREVIEW_COLOUR,
            weight=3,
            fill=True,
            fill_color="#ffffff",
            fill_opacity=1.0,
            tooltip=map_tooltip(t("scenario_draw.stop_tooltip", lang, n=number), str(name)),
        ).add_to(group)
    return group
