"""Tests for retention.report.maps: offline asset links, layers, tiles and the GCJ-02 display
shift."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pytest
from branca.colormap import LinearColormap
from shapely.geometry import LineString, Point, Polygon, box

from retention.data.crs import wgs84_to_gcj02
from retention.data.layers import LayerKind
from retention.errors import ParameterError
from retention.i18n import label, t
from retention.report.maps import (
    OMITTED_ASSETS,
    TILES_ENV,
    VENDORED_ASSETS,
    TileSetting,
    TileSource,
    add_legend,
    asset_urls,
    assets_used,
    build_park_map,
    build_route_drawing_map,
    display_frame,
    layers_bounds,
    legend_html,
    new_map,
    park_layer_label,
    park_map_layers,
    park_map_page,
    route_preview_layer,
    standalone_html,
    tile_name,
    tile_setting,
    use_local_assets,
)
from scripts.vendor_assets import missing_packages

REPO = Path(__file__).resolve().parent.parent
NODE_MODULES_CURRENT = (REPO / "frontend" / "node_modules").is_dir() and not missing_packages(
    REPO / "frontend" / "node_modules"
)
CRS = "EPSG:4326"


@pytest.fixture
def layers() -> dict[LayerKind, gpd.GeoDataFrame]:
    """Every layer kind, one or two features each, around (113.15 E, 27.85 N)."""
    return {
        LayerKind.ZONES: gpd.GeoDataFrame(
            {
                "id": ["P", "G1"],
                "name": ["小园区", "一号网格"],
                "name_en": ["Tiny Park", "Grid One"],
                "level": ["park", "grid"],
                "parent": [None, "P"],
            },
            geometry=[box(113.14, 27.84, 113.16, 27.86), box(113.14, 27.84, 113.15, 27.85)],
            crs=CRS,
        ),
        LayerKind.ENTERPRISES: gpd.GeoDataFrame(
            {
                "id": ["E1", "E2", "E3"],
                "name": ["金山电机", "湘江轨道", "株洲陶瓷"],
                "name_en": ["Jinshan Motors", "Xiangjiang Rail", "Zhuzhou Ceramics"],
                "industry": ["electrical", "rail", "ceramics"],
                "employees": [1200, 800, 300],
                "shift_pattern": ["two_shift", "day", "three_shift"],
            },
            geometry=[Point(113.145, 27.845), Point(113.15, 27.85), Point(113.155, 27.855)],
            crs=CRS,
        ),
        LayerKind.RESIDENCES: gpd.GeoDataFrame(
            {
                "id": ["R1", "R2"],
                "name": ["一号宿舍", "人才公寓"],
                "name_en": ["Dorm 1", "Talent Flats"],
                "kind": ["dorm", "talent_apartment"],
                "beds": [400, 120],
                "residents": [380, 100],
            },
            geometry=[Point(113.146, 27.852), Point(113.158, 27.843)],
            crs=CRS,
        ),
        LayerKind.AMENITIES: gpd.GeoDataFrame(
            {
                "id": ["A1", "A2", "A3"],
                "name": ["职工食堂", "篮球场", "滨江公园"],
                "name_en": ["Staff Canteen", "Basketball Court", "Riverside Park"],
                "category": ["canteen", "sports_court", "park"],
                "capacity": [200.0, 2.0, 3.5],
                "opening_hours": ["Mo-Su 06:30-21:00", "Mo-Su 06:00-22:00", "24/7"],
            },
            geometry=[
                Point(113.152, 27.851),
                Point(113.148, 27.848),
                Polygon([(113.141, 27.841), (113.143, 27.841), (113.143, 27.843)]),
            ],
            crs=CRS,
        ),
        LayerKind.TRANSIT_ROUTES: gpd.GeoDataFrame(
            {
                "route_id": ["B1", "S1"],
                "name": ["1路", "金山班车"],
                "name_en": ["Bus 1", "Jinshan Shuttle"],
                "kind": ["bus", "shuttle"],
                "speed_kmh": [20.0, 30.0],
                "service_start": ["06:00", "07:00"],
                "service_end": ["22:00", "20:30"],
            },
            geometry=[
                LineString([(113.14, 27.85), (113.16, 27.85)]),
                LineString([(113.15, 27.84), (113.15, 27.86)]),
            ],
            crs=CRS,
        ),
        LayerKind.TRANSIT_STOPS: gpd.GeoDataFrame(
            {
                "stop_id": ["T1", "T2"],
                "route_id": ["B1", "B1"],
                "sequence": [1, 2],
                "name": ["金山站", "湘江站"],
                "name_en": ["Jinshan Stop", "Xiangjiang Stop"],
            },
            geometry=[Point(113.14, 27.85), Point(113.16, 27.85)],
            crs=CRS,
        ),
        LayerKind.ROADS: gpd.GeoDataFrame(
            {
                "id": ["X1"],
                "name": ["金山路"],
                "road_class": ["arterial"],
                "walk": [True],
                "bike": [True],
            },
            geometry=[LineString([(113.14, 27.85), (113.16, 27.85)])],
            crs=CRS,
        ),
    }


def _html(m: folium.Map) -> str:
    return m.get_root().render()


def _asset_links(page: str) -> list[str]:
    return re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)


def test_no_remote_url_anywhere_without_tiles(layers) -> None:
    page = _html(build_park_map(layers, lang="en", tiles=TileSource.NONE, cluster_threshold=1))
    assert not re.search(r"https?:|//[a-z]", page.lower())  # no absolute or scheme-relative URL
    assert "cdn" not in page.lower()
    links = _asset_links(page)
    assert links, "expected asset links"
    assert all(link.startswith("/app/static/vendor/") for link in links), links
    # Both MarkerCluster (clustered layers) and the map's own assets are linked locally.
    assert "/app/static/vendor/leaflet/leaflet.js" in links
    assert "/app/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in links


def test_asset_base_url_is_a_parameter(layers) -> None:
    m = build_park_map(
        layers, lang="en", tiles="none", asset_base_url="/parklife/app/static/vendor/"
    )
    links = _asset_links(_html(m))
    assert all(link.startswith("/parklife/app/static/vendor/") for link in links), links
    assert asset_urls(asset_base_url="/x/")["leaflet"] == "/x/leaflet/leaflet.js"


def test_osm_tiles_are_the_only_remote_urls(layers) -> None:
    page = _html(build_park_map(layers, lang="en", tiles=TileSource.OSM))
    remote = set(re.findall(r"https?://([a-z0-9.{}-]+)", page))
    assert remote <= {"tile.openstreetmap.org", "openstreetmap.org", "www.openstreetmap.org"}
    assert "tile.openstreetmap.org" in remote
    assert all(link.startswith("/app/static/vendor/") for link in _asset_links(page))


def test_folium_class_attributes_are_not_modified(layers) -> None:
    before_map = list(folium.Map.default_js), list(folium.Map.default_css)
    before_cluster = list(folium.plugins.MarkerCluster.default_js)
    build_park_map(layers, lang="zh", tiles="none", cluster_threshold=1)
    assert (list(folium.Map.default_js), list(folium.Map.default_css)) == before_map
    assert list(folium.plugins.MarkerCluster.default_js) == before_cluster
    assert folium.Map.default_js[0][1].startswith("https://")
    # A plain folium map built afterwards still has folium's own links.
    assert "cdn.jsdelivr.net" in _html(folium.Map(tiles=None))


def test_vendored_names_cover_folium_defaults() -> None:
    """Upgrading folium with a new asset name must fail here, not blank the map offline."""
    needed = {name for name, _ in folium.Map.default_js + folium.Map.default_css}
    needed |= {
        name
        for name, _ in folium.plugins.MarkerCluster.default_js
        + folium.plugins.MarkerCluster.default_css
        + folium.plugins.Draw.default_js
        + folium.plugins.Draw.default_css
    }
    assert needed - OMITTED_ASSETS == set(VENDORED_ASSETS)


def test_npm_versions_match_folium_cdn_versions() -> None:
    """frontend/package.json pins the versions folium's CDN links name (cross-check)."""
    package = json.loads((REPO / "frontend" / "package.json").read_text(encoding="utf-8"))
    deps = package["dependencies"]
    urls = dict(folium.Map.default_js + folium.Map.default_css)
    urls |= dict(folium.plugins.MarkerCluster.default_js)
    assert f"leaflet@{deps['leaflet']}/" in urls["leaflet"]
    assert f"jquery-{deps['jquery']}." in urls["jquery"]
    assert f"bootstrap@{deps['bootstrap']}/" in urls["bootstrap"]
    assert (
        f"fontawesome-free@{deps['@fortawesome/fontawesome-free']}/"
        in urls["awesome_markers_font_css"]
    )
    assert f"/{deps['leaflet.markercluster']}/" in urls["markerclusterjs"]
    # folium links Leaflet.awesome-markers 2.0.2 from cdnjs; npm never published 2.0.2, and
    # 2.0.5's script is the same 2.0.x release (it reports version 2.0.1 internally).
    assert "/2.0.2/" in urls["awesome_markers"]
    assert deps["leaflet.awesome-markers"] == "2.0.5"
    draw = dict(folium.plugins.Draw.default_js + folium.plugins.Draw.default_css)
    assert f"/leaflet.draw/{deps['leaflet-draw']}/" in draw["leaflet_draw_js"]
    assert f"/leaflet.draw/{deps['leaflet-draw']}/" in draw["leaflet_draw_css"]


def test_draw_plugin_links_the_vendored_leaflet_draw(layers) -> None:
    """The Scenario page's route drawing (folium Draw) loads Leaflet.draw from the app."""
    m = new_map(layers_bounds(layers), tiles="none")
    assert "leaflet_draw_js" not in assets_used(m)
    folium.plugins.Draw(draw_options={"polyline": True}).add_to(m)
    assert {"leaflet", "leaflet_draw_js", "leaflet_draw_css"} <= assets_used(m)
    page = _html(use_local_assets(m))
    links = _asset_links(page)
    assert "/app/static/vendor/leaflet-draw/leaflet.draw.js" in links
    assert "/app/static/vendor/leaflet-draw/leaflet.draw.css" in links
    assert not re.search(r"https?:", page)


def test_route_drawing_map_offers_line_and_marker_tools_offline(layers) -> None:
    page = _html(build_route_drawing_map(layers, lang="zh", tiles=TileSource.NONE))
    assert "/app/static/vendor/leaflet-draw/leaflet.draw.js" in _asset_links(page)
    assert not re.search(r"https?:", page)
    assert '"polyline": {"shapeOptions"' in page and '"marker": true' in page
    for tool in ("polygon", "rectangle", "circle", "circlemarker"):
        assert f'"{tool}": false' in page
    zh_tool = json.dumps("画线路（每次点击为一个站点）")[1:-1]  # as the script holds it
    assert zh_tool in page  # Leaflet.draw's toolbar in Chinese
    assert zh_tool not in _html(build_route_drawing_map(layers, lang="en", tiles="none"))


def test_route_preview_shows_the_line_and_numbered_stops(layers) -> None:
    m = new_map(layers_bounds(layers), tiles="none")
    line = LineString([(113.14, 27.85), (113.145, 27.85), (113.15, 27.851)])
    stops = [(113.14, 27.85, "西宿舍"), (113.15, 27.851, "<b>湖</b>")]
    route_preview_layer(line, stops, tiles="none", lang="en").add_to(m)
    page = _html(m)
    assert page.count("[27.85, 113.145]") == 1  # the road line's middle vertex
    assert "Stop 2" in page and "&lt;b&gt;湖&lt;/b&gt;" in page and "<b>湖</b>" not in page


def test_unvendored_plugin_fails_loudly(layers) -> None:
    m = new_map(layers_bounds(layers), tiles="none")
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(
        ValueError,
        match=re.escape("Fullscreen needs front-end asset 'Control.Fullscreen.js', which is not"),
    ):
        use_local_assets(m)


def test_colour_map_is_refused(layers) -> None:
    m = new_map(layers_bounds(layers), tiles="none")
    LinearColormap(["red", "blue"], vmin=0, vmax=1).add_to(m)
    with pytest.raises(ValueError, match="load d3 from a CDN"):
        use_local_assets(m)


def test_one_layer_per_amenity_category_and_names_in_language(layers) -> None:
    expected = (
        "zones.park",
        "zones.grid",
        "roads",
        "transit",
        "residences",
        "enterprises",
        "amenity.canteen",
        "amenity.sports_court",
        "amenity.park",
    )
    assert park_map_layers(layers) == expected
    for lang in ("en", "zh"):
        page = park_map_page(build_park_map(layers, lang=lang, tiles="none"))
        assert tuple(page.layer_variables) == expected  # the codes are the same in any language
        names = {park_layer_label(code, lang) for code in page.layer_variables}
        for category in ("canteen", "sports_court", "park"):
            assert label("category", category, lang) in names
        assert label("category", "gym", lang) not in names
        assert label("layer", "enterprises", lang) in names
        assert "leaflet-control-layers" not in page.html  # layers are chosen outside the map
    page_zh = _html(build_park_map(layers, lang="zh", tiles="none"))
    page_en = _html(build_park_map(layers, lang="en", tiles="none"))
    assert "职工食堂" in page_zh and "Staff Canteen" not in page_zh
    assert "Staff Canteen" in page_en
    assert "fa-utensils" in page_en and "fa-basketball" in page_en
    with pytest.raises(ParameterError, match=r"unknown park map layer 'amenity\.pizza'"):
        park_layer_label("amenity.pizza", "en")


def test_a_rendered_page_shows_exactly_the_chosen_layers(layers) -> None:
    boundary = gpd.GeoDataFrame(geometry=[box(113.1, 27.8, 113.2, 27.9)], crs=CRS)
    page = park_map_page(build_park_map(layers, lang="en", tiles="none", boundary=boundary))
    assert next(iter(page.layer_variables)) == "boundary"
    shown = page.showing({"roads", "amenity.canteen", "no.such.layer"})
    script = shown[len(page.html) - len("</html>") :]
    assert shown.startswith(page.html[: -len("</html>")]) and shown.rstrip().endswith("</html>")
    calls = re.findall(r"(\w+)\.(addLayer|removeLayer)\((\w+)\);", script)
    assert {variable for _, _, variable in calls} == set(page.layer_variables.values())
    assert all(map_name == page.map_variable for map_name, _, _ in calls)
    added = {variable for _, call, variable in calls if call == "addLayer"}
    assert added == {page.layer_variables["roads"], page.layer_variables["amenity.canteen"]}
    # Each layer variable is a layer the page's own script creates.
    for variable in page.layer_variables.values():
        assert f"var {variable} = L." in page.html
    hidden_all = page.showing(())
    assert "addLayer" not in hidden_all[len(page.html) - len("</html>") :]


def test_scale_bar_is_metric_only_and_legend_folds_away(layers) -> None:
    page = _html(build_park_map(layers, lang="zh", tiles="none"))
    assert "L.control.scale({metric: true, imperial: false" in page
    assert "L.control.scale()" not in page  # folium's own bar shows feet and miles
    assert 'L.DomUtil.create("details", "pl-legend-details", div)' in page
    assert f"summary.textContent = {json.dumps('图例')}" in page


def test_a_note_replaces_a_blank_background_when_tiles_fail(layers) -> None:
    note = json.dumps(t("mapview.tiles_failed", "en"))
    osm = _html(build_park_map(layers, lang="en", tiles="osm"))
    assert '.on("tileerror"' in osm and note in osm
    bare = _html(build_park_map(layers, lang="en", tiles="none"))
    assert "tileerror" not in bare and note not in bare


def test_the_server_setting_names_the_default_background(
    layers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TILES_ENV, raising=False)
    assert tile_setting() == TileSetting(TileSource.OSM)
    assert tile_setting(" NONE ").default is TileSource.NONE
    assert tile_setting("amap").choices == (TileSource.OSM, TileSource.AMAP, TileSource.NONE)
    url = "https://tiles.park.example/{z}/{x}/{y}.png"
    own = tile_setting(url)
    assert (own.default, own.custom_url) == (TileSource.CUSTOM, url)
    assert own.choices[0] is TileSource.CUSTOM
    assert tile_setting("/tiles/{z}/{x}/{y}.png").custom_url == "/tiles/{z}/{x}/{y}.png"
    for bad in ("tiles.example/{z}/{x}/{y}", "https://t.example/{z}/{x}.png", "satellite"):
        with pytest.raises(ParameterError, match=TILES_ENV):
            tile_setting(bad)
    with pytest.raises(ParameterError, match=r"missing \{y\}"):
        tile_setting("https://t.example/{z}/{x}.png")
    with pytest.raises(ParameterError, match=TILES_ENV):
        tile_setting('https://t.example/{z}/{x}/{y}.png"><script>')
    # Choosing the deployment's own tile server without one configured is refused ...
    with pytest.raises(ParameterError, match="names no tile URL"):
        build_park_map(layers, lang="en", tiles="custom")
    # ... and with one, its tiles are the only remote URL of the map.
    monkeypatch.setenv(TILES_ENV, url)
    page = _html(build_park_map(layers, lang="en", tiles=TileSource.CUSTOM))
    assert json.dumps(url) in page
    assert set(re.findall(r"https?://([a-z0-9.{}-]+)", page)) == {"tiles.park.example"}
    assert tile_name(TileSource.CUSTOM, "zh") == t("mapview.tiles.custom", "zh")
    assert tile_name("none", "en") == t("common.tiles.none", "en")


def test_dense_layers_are_clustered(layers) -> None:
    clustered = build_park_map(layers, lang="en", tiles="none", cluster_threshold=2)
    plain = build_park_map(layers, lang="en", tiles="none", cluster_threshold=60)
    kinds = [type(c) for c in clustered._children.values()]
    assert folium.plugins.MarkerCluster in kinds  # 3 enterprises > 2
    assert folium.plugins.MarkerCluster not in [type(c) for c in plain._children.values()]


def _marker_locations(m: folium.Map) -> list[tuple[float, float]]:
    found: list[tuple[float, float]] = []

    def walk(element) -> None:
        if isinstance(element, folium.Marker):
            found.append(tuple(element.location))
        for child in element._children.values():
            walk(child)

    walk(m)
    return found


def test_amap_tiles_shift_display_coordinates_to_gcj02(layers) -> None:
    original = layers[LayerKind.ENTERPRISES].copy()
    osm = build_park_map(layers, lang="en", tiles="osm")
    amap = build_park_map(layers, lang="en", tiles="amap")
    pd_equal = layers[LayerKind.ENTERPRISES].geometry.geom_equals(original.geometry).all()
    assert pd_equal, "input layer was modified"
    osm_locations = [tuple(round(v, 6) for v in p) for p in _marker_locations(osm)]
    assert (27.845, 113.145) in osm_locations
    lon, lat = wgs84_to_gcj02(113.145, 27.845)
    amap_locations = np.array(_marker_locations(amap))
    distances = np.hypot(amap_locations[:, 0] - float(lat), amap_locations[:, 1] - float(lon))
    assert distances.min() < 1e-9
    # The shift is of the order of 500 m in Zhuzhou (1e-3 degrees ≈ 100 m).
    assert 0.002 < abs(float(lon) - 113.145) + abs(float(lat) - 27.845) < 0.01
    assert "autonavi" in _html(amap)


def test_display_frame_keeps_wgs84_without_amap(layers) -> None:
    frame = layers[LayerKind.RESIDENCES]
    assert display_frame(frame, tiles="none").geometry.geom_equals(frame.geometry).all()
    shifted = display_frame(frame, tiles="amap")
    assert not shifted.geometry.geom_equals(frame.geometry).any()


def test_legend_states_synthetic_data(layers) -> None:
    assert "Synthetic demo data" in legend_html(lang="en", synthetic=True)
    assert "合成演示数据" in legend_html(lang="zh", synthetic=True)
    assert "Synthetic" not in legend_html(lang="en", synthetic=False)
    page = _html(build_park_map(layers, lang="zh", tiles="none", synthetic=True))
    assert json.dumps("合成演示数据")[1:-1] in page  # the legend's HTML is embedded as JSON


def test_missing_layers_are_skipped_and_empty_park_is_refused(layers) -> None:
    only_amenities = {LayerKind.AMENITIES: layers[LayerKind.AMENITIES]}
    assert "职工食堂" in _html(build_park_map(only_amenities, lang="zh", tiles="none"))
    empty = {LayerKind.AMENITIES: layers[LayerKind.AMENITIES].iloc[0:0]}
    with pytest.raises(ValueError, match="every layer is empty"):
        build_park_map(empty, lang="en", tiles="none")


def test_district_boundary_layer(layers) -> None:
    boundary = gpd.GeoDataFrame(geometry=[box(113.1, 27.8, 113.2, 27.9)], crs=CRS)
    page = park_map_page(build_park_map(layers, lang="en", tiles="none", boundary=boundary))
    assert "boundary" in page.layer_variables
    assert park_layer_label("boundary", "en") == "District boundary (real)"
    assert park_map_layers(layers, boundary=boundary)[0] == "boundary"


@pytest.mark.skipif(
    not NODE_MODULES_CURRENT,
    reason="frontend/node_modules absent or older than frontend/package.json: run `npm ci` in "
    "frontend/ (scripts/setup.sh does)",
)
def test_vendor_script_copies_every_asset_and_css_reference(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "vendor_assets.py"), "--dest", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for path in VENDORED_ASSETS.values():
        assert (tmp_path / path).is_file(), path
    assert (tmp_path / "fontawesome" / "webfonts" / "fa-solid-900.woff2").is_file()
    assert (tmp_path / "leaflet" / "images" / "layers.png").is_file()


def test_standalone_page_is_the_rendered_map_with_local_assets(layers) -> None:
    m = build_park_map(layers, lang="en", tiles="none")
    page = standalone_html(m)
    assert page.lstrip().startswith("<!DOCTYPE html>")
    assert "/app/static/vendor/leaflet/leaflet.js" in page
    assert not re.search(r"https?:", page)
    assert "Staff Canteen" in page


def test_add_legend_puts_the_html_inside_the_map(layers) -> None:
    m = new_map(layers_bounds(layers), tiles="none")
    add_legend(m, "<h4>Gap &amp; legend</h4>")
    page = _html(use_local_assets(m))
    # Embedded as a JSON string with <, > and & escaped for a script element.
    assert r'body.innerHTML = "\u003ch4\u003eGap \u0026amp; legend\u003c/h4\u003e"' in page
    assert 'L.control({position: "bottomleft"})' in page
