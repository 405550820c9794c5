"""Tests for retention.report.gap_map: colour scale, legend, the offline Gaps map and click
matching."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from branca.colormap import ColorMap
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from retention.data.crs import wgs84_to_gcj02
from retention.errors import ParameterError
from retention.report.gap_map import (
    GAP_MAP_LAYERS,
    GOOD_TO_BAD,
    UNREACHABLE_COLOUR,
    ColourScale,
    build_gap_map,
    colour_scale,
    gap_layer_label,
    gap_legend_html,
    nearest_origin_id,
)

CRS = "EPSG:4326"
BOUNDS = (113.14, 27.84, 113.16, 27.86)


@pytest.fixture
def origins() -> gpd.GeoDataFrame:
    """Two residences, two enterprises and three H3 cells around (113.15 E, 27.85 N)."""
    points = [
        (113.146, 27.852),
        (113.158, 27.843),
        (113.145, 27.845),
        (113.155, 27.855),
    ]
    cells = [h3.latlng_to_cell(27.85, lon, 9) for lon in (113.148, 113.151, 113.154)]
    centres = [h3.cell_to_latlng(cell) for cell in cells]
    return gpd.GeoDataFrame(
        {
            "origin_set": ["residence", "residence", "enterprise", "enterprise", "h3", "h3", "h3"],
            "origin_id": ["R1", "R2", "E1", "E2", *cells],
            "name": ["一号宿舍", "<b>Flats</b>", "金山电机", "湘江轨道", "", "", ""],
            "weight": [380.0, 100.0, 1200.0, 800.0, 50.0, 0.0, 20.0],
            "h3_cell": [None, None, None, None, *cells],
        },
        geometry=[Point(x, y) for x, y in points] + [Point(lng, lat) for lat, lng in centres],
        crs=CRS,
    )


@pytest.fixture
def values(origins: gpd.GeoDataFrame) -> pd.Series:
    return pd.Series([5.0, np.inf, 10.0, np.nan, 2.0, 8.0, 14.0], index=origins.index)


def _page(m: folium.Map) -> str:
    return m.get_root().render()


def _features(page: str, marker: str) -> list[dict]:
    """The GeoJSON features embedded in the page whose properties contain ``marker``."""
    found = []
    for match in re.finditer(r"_add\((\{.*?\})\);\n", page):
        collection = json.loads(match.group(1))
        if collection.get("type") == "FeatureCollection":
            found += [f for f in collection["features"] if marker in f["properties"]]
    return found


# --- colour scale ---------------------------------------------------------------------------


def test_scale_ends_and_midpoint_are_the_palette_stops() -> None:
    scale = ColourScale(low=0.0, high=10.0, colours=("#000000", "#808080", "#ffffff"))
    assert scale.colour(0.0) == "#000000"
    assert scale.colour(5.0) == "#808080"
    assert scale.colour(10.0) == "#ffffff"
    # A quarter of the way: halfway between the first two stops (0x80 / 2 = 0x40).
    assert scale.colour(2.5) == "#404040"
    # 7.5: halfway from 0x80 to 0xff = 191.5, rounded half to even -> 192 = 0xc0.
    assert scale.colour(7.5) == "#c0c0c0"


def test_scale_clips_and_greys_out_non_finite_values() -> None:
    scale = ColourScale(low=0.0, high=1.0, colours=("#ff0000", "#0000ff"))
    assert scale.colour(-5.0) == "#ff0000"
    assert scale.colour(7.0) == "#0000ff"
    assert scale.colour(np.inf) == UNREACHABLE_COLOUR
    assert scale.colour(np.nan) == UNREACHABLE_COLOUR
    assert scale.gradient_css() == "linear-gradient(to right, #ff0000, #0000ff)"


def test_scale_direction_follows_what_is_good() -> None:
    minutes = colour_scale([3.0, 30.0, np.inf], lower_is_better=True)
    assert (minutes.low, minutes.high) == (3.0, 30.0)  # inf ignored
    assert minutes.colour(3.0) == GOOD_TO_BAD[0]  # short trip: green
    assert minutes.colour(30.0) == GOOD_TO_BAD[-1]
    counts = colour_scale([0.0, 12.0], lower_is_better=False)
    assert counts.colour(12.0) == GOOD_TO_BAD[0]  # many amenities: green
    assert counts.colour(0.0) == GOOD_TO_BAD[-1]


def test_scale_of_constant_or_missing_values_stays_valid() -> None:
    constant = colour_scale([4.0, 4.0], lower_is_better=True)
    assert (constant.low, constant.high) == (4.0, 5.0)
    assert constant.colour(4.0) == GOOD_TO_BAD[0]
    empty = colour_scale([np.inf, np.nan], lower_is_better=True)
    assert (empty.low, empty.high) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"low": 1.0, "high": 1.0, "colours": ("#000000", "#ffffff")}, "finite low < high"),
        ({"low": 0.0, "high": np.inf, "colours": ("#000000", "#ffffff")}, "finite low < high"),
        ({"low": 0.0, "high": 1.0, "colours": ("#000000",)}, "at least two colours, got 1"),
        ({"low": 0.0, "high": 1.0, "colours": ("#000000", "red")}, "#rrggbb colour, got 'red'"),
    ],
)
def test_bad_scales_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=re.escape(message)):
        ColourScale(**kwargs)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    a=st.floats(-1e6, 1e6, allow_nan=False),
    b=st.floats(-1e6, 1e6, allow_nan=False),
    width=st.floats(1e-3, 1e6),
)
def test_red_channel_moves_monotonically_along_a_two_colour_scale(
    a: float, b: float, width: float
) -> None:
    scale = ColourScale(low=-1e6, high=-1e6 + width, colours=("#000000", "#ff0000"))
    low, high = sorted((a, b))
    red = [int(scale.colour(v)[1:3], 16) for v in (low, high)]
    assert red[0] <= red[1]
    assert re.fullmatch(r"#[0-9a-f]{6}", scale.colour(a))


def test_scale_agrees_with_numpy_interpolation_per_channel() -> None:
    """Cross-check against np.interp over the same stops (an independent implementation)."""
    scale = colour_scale([0.0, 90.0], lower_is_better=True)
    stops = np.linspace(0.0, 90.0, len(GOOD_TO_BAD))
    channels = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in GOOD_TO_BAD])
    for value in np.linspace(0.0, 90.0, 37):
        expected = [round(float(np.interp(value, stops, channels[:, k]))) for k in range(3)]
        got = scale.colour(value)
        actual = [int(got[i : i + 2], 16) for i in (1, 3, 5)]
        assert np.abs(np.subtract(actual, expected)).max() <= 1, (value, got, expected)


# --- legend ---------------------------------------------------------------------------------


def test_legend_names_unit_range_unreachable_and_extras() -> None:
    scale = colour_scale([2.0, 14.0], lower_is_better=True)
    body = gap_legend_html(
        scale,
        indicator="nearest",
        title="Minutes to nearest · Clinic",
        unit="minutes",
        lang="en",
        amenity_name="Clinic",
        isochrones=True,
        synthetic=True,
    )
    for text in ("Minutes to nearest · Clinic", "minutes", "2.0", "14.0", "unreachable"):
        assert text in body, text
    assert "Synthetic demo data" in body
    assert "Reached within 5 min" in body and "Reached within 15 min" in body
    assert scale.gradient_css() in body
    plain = gap_legend_html(scale, indicator="nearest", title="x", unit="分钟", lang="zh")
    assert "不可达" in plain and "Reached" not in plain and "合成" not in plain


def test_legend_escapes_text() -> None:
    scale = colour_scale([0.0, 1.0], lower_is_better=False)
    body = gap_legend_html(scale, indicator="e2sfca", title="<script>", unit="a&b", lang="en")
    assert "<script>" not in body
    assert "&lt;script&gt;" in body and "a&amp;b" in body


# --- the map --------------------------------------------------------------------------------


def test_gap_map_has_no_remote_url_without_tiles(origins, values) -> None:
    m = build_gap_map(
        origins,
        values,
        indicator="nearest",
        title="t",
        unit="minutes",
        lang="en",
        bounds=BOUNDS,
        tiles="none",
    )
    page = _page(m)
    assert not re.search(r"https?:|//[a-z]", page.lower())  # no absolute or scheme-relative URL
    links = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)
    assert links and all(link.startswith("/app/static/vendor/") for link in links), links
    assert not [e for e in _walk(m) if isinstance(e, ColorMap)]  # d3 would come from a CDN


def _walk(element):
    yield element
    for child in element._children.values():
        yield from _walk(child)


def test_gap_map_colours_every_origin_and_sizes_residences(origins, values) -> None:
    m = build_gap_map(
        origins,
        values,
        indicator="nearest",
        title="Minutes",
        unit="minutes",
        lang="en",
        bounds=BOUNDS,
        tiles="none",
        asset_base_url="/base/app/static/vendor",
    )
    page = _page(m)
    scale = colour_scale(values.to_numpy(), lower_is_better=True)
    hexagons = [f for f in _features(page, "fill") if f["geometry"]["type"] == "Polygon"]
    assert len(hexagons) == 3
    assert [f["properties"]["fill"] for f in hexagons] == [scale.colour(v) for v in (2, 8, 14)]
    points = {f["properties"]["tip"]: f["properties"] for f in _features(page, "radius")}
    residence = points["一号宿舍: 5.0 · 380 people"]
    assert residence["fill"] == scale.colour(5.0)
    assert residence["radius"] == pytest.approx(4.0 + min(10.0, np.sqrt(380.0) / 6.0))
    unreachable = points["&lt;b&gt;Flats&lt;/b&gt;: unreachable · 100 people"]  # escaped name
    assert unreachable["fill"] == UNREACHABLE_COLOUR
    assert points["湘江轨道: – · 800 people"]["radius"] == 3.0  # enterprise with no value
    assert "/base/app/static/vendor/leaflet/leaflet.js" in page
    assert "Minutes" in page and "pl-legend" in page


def test_gap_map_adds_amenities_and_isochrones_when_given(origins, values) -> None:
    amenities = gpd.GeoDataFrame(
        {"name": ["社区诊所"]}, geometry=[box(113.150, 27.850, 113.151, 27.851)], crs=CRS
    )
    areas = gpd.GeoDataFrame(
        {"minutes": [5.0, 10.0, 15.0]},
        geometry=[box(113.149, 27.849, 113.152, 27.852).buffer(0.001 * k) for k in range(3)],
        crs=CRS,
    )
    m = build_gap_map(
        origins,
        values,
        indicator="nearest",
        title="t",
        unit="分钟",
        lang="zh",
        bounds=BOUNDS,
        tiles="none",
        amenities=amenities,
        amenity_name="诊所",
        isochrones=areas,
        synthetic=True,
    )
    page = _page(m)
    clinic = [f for f in _features(page, "tip") if f["properties"]["tip"] == "社区诊所"]
    assert clinic and clinic[0]["geometry"]["type"] == "Point"  # polygon drawn as a marker
    assert len([f for f in _features(page, "tip") if "分钟内可达" in f["properties"]["tip"]]) == 3
    legend = json.dumps("合成演示数据")[1:-1]
    assert legend in page and json.dumps("诊所")[1:-1] in page
    groups = [c.layer_name for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    # Areas lie under the points (drawn first), so they never cover a residence to click.
    assert groups.index("5/10/15 分钟可达范围") < groups.index("居住点")
    assert {"诊所", "5/10/15 分钟可达范围", "六边形网格（H3）", "居住点", "企业"} <= set(groups)
    assert not any(isinstance(c, folium.LayerControl) for c in m._children.values())
    assert gap_layer_label("amenities", "zh", amenity_name="诊所") == "诊所"
    assert [gap_layer_label(code, "zh") for code in GAP_MAP_LAYERS[:3]] == [
        "六边形网格（H3）",
        "5/10/15 分钟可达范围",
        "居住点",
    ]


def test_hidden_gap_layers_are_drawn_but_not_shown(origins, values) -> None:
    m = build_gap_map(
        origins,
        values,
        indicator="nearest",
        title="t",
        unit="min",
        lang="en",
        bounds=BOUNDS,
        tiles="none",
        hidden_layers=("hexagons", "enterprises"),
    )
    shown = {
        c.layer_name: c.show for c in m._children.values() if isinstance(c, folium.FeatureGroup)
    }
    assert shown == {"Hexagons (H3)": False, "Residences": True, "Enterprises": False}


def test_gap_map_under_amap_tiles_is_shifted_and_inputs_untouched(origins, values) -> None:
    before = origins.copy()
    page = _page(
        build_gap_map(
            origins,
            values,
            indicator="nearest",
            title="t",
            unit="m",
            lang="en",
            bounds=BOUNDS,
            tiles="amap",
        )
    )
    pd.testing.assert_frame_equal(origins, before)
    lon, lat = wgs84_to_gcj02(113.146, 27.852)
    [residence] = [f for f in _features(page, "radius") if "一号宿舍" in f["properties"]["tip"]]
    assert residence["geometry"]["coordinates"] == pytest.approx([float(lon), float(lat)])
    assert "autonavi" in page


def test_values_must_align_with_origins(origins, values) -> None:
    with pytest.raises(ParameterError, match=r"one value per origin .* \(7 rows\), got 6"):
        build_gap_map(
            origins,
            values.iloc[:6],
            indicator="nearest",
            title="t",
            unit="m",
            lang="en",
            bounds=BOUNDS,
            tiles="none",
        )


# --- clicks ---------------------------------------------------------------------------------


def test_click_picks_the_nearest_residence_in_display_coordinates(origins) -> None:
    assert nearest_origin_id(origins, 113.1461, 27.8519, origin_set="residence") == "R1"
    assert nearest_origin_id(origins, 113.16, 27.84, origin_set="residence") == "R2"
    # Under Amap the click is in GCJ-02: R2's shifted position picks R2, not whatever is
    # ~500 m away from it in WGS84.
    lon, lat = wgs84_to_gcj02(113.158, 27.843)
    assert (
        nearest_origin_id(origins, float(lon), float(lat), origin_set="residence", tiles="amap")
        == "R2"
    )
    assert nearest_origin_id(origins.iloc[2:], 113.15, 27.85, origin_set="residence") is None
