"""A route drawn on the map becomes stops on the road network (retention.scenario.drawing).

Hand-worked on the tiny line park (tests/scenario_fixtures.py): one road along latitude 27.85 with
a vertex every 0.001 degree of longitude; residence R1 at its west end, clinic C1 at 113.141.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from retention.access.network import network_from_roads
from retention.access.parameters import TravelParameters
from retention.data.crs import CoordinateSystem, wgs84_to_gcj02
from retention.data.layers import LayerKind
from retention.errors import ScenarioError
from retention.scenario.display import pickable_places
from retention.scenario.drawing import drawn_points, route_from_drawing
from tests.scenario_fixtures import LAT, line_context, line_park

PARAMS = TravelParameters()
# Metres per degree of longitude at 27.85 N on the WGS84 ellipsoid (a=6378137, e^2=0.00669438).
_PHI = math.radians(LAT)
METRES_PER_DEGREE_LON = (
    math.pi / 180 * 6378137 * math.cos(_PHI) / math.sqrt(1 - 0.00669438 * math.sin(_PHI) ** 2)
)


def _line(*points: tuple[float, float]) -> list[dict]:
    """What streamlit-folium returns for one drawn polyline (all_drawings)."""
    return [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "LineString", "coordinates": [list(p) for p in points]},
        }
    ]


def _markers(*points: tuple[float, float]) -> list[dict]:
    return [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": list(p)}}
        for p in points
    ]


@pytest.fixture(scope="module")
def park():
    return line_park()


@pytest.fixture(scope="module")
def network(park):
    return network_from_roads(park.layers[LayerKind.ROADS])


@pytest.fixture(scope="module")
def places(park):
    return pickable_places(park.layers, "en")


def test_points_off_the_road_move_sideways_onto_it_where_clicked(network, places) -> None:
    # ~33 m north of the road, 0.0002 degree past the vertices 113.145 and 113.155: each stop
    # lands on the road straight south of its click (mid-block), not on a vertex.
    drawn = _line((113.1452, LAT + 0.0003), (113.1548, LAT + 0.0003))
    route = route_from_drawing(drawn, network, places, params=PARAMS)
    # Within 2e-5 degree (2 m): "straight south" in the UTM plane is ~1 degree off the meridian.
    assert [s.lon for s in route.stops] == pytest.approx([113.1452, 113.1548], abs=2e-5)
    assert [s.lat for s in route.stops] == pytest.approx([LAT, LAT], abs=1e-7)
    assert [s.name for s in route.stops] == ["Stop 1", "Stop 2"]
    assert [s.ref for s in route.stops] == ["", ""] and route.picked == (False, False)
    assert route.on_roads
    north = 0.0003 * 110_800  # metres per degree of latitude near 28 N, to 0.1 %
    assert route.moved_metres == pytest.approx((north, north), rel=0.01)
    # Walks to and from each stop count from its nearest vertex, 0.0002 degree along the road.
    east = 0.0002 * METRES_PER_DEGREE_LON
    assert route.vertex_metres == pytest.approx((east, east), rel=0.02)
    # The ride, like the walks, is measured from each stop's nearest vertex: ten segments of
    # 0.001 degree between the vertices, plus the way from each stop to its vertex.
    assert route.length_metres == pytest.approx(0.010 * METRES_PER_DEGREE_LON + 2 * east, rel=2e-3)
    lons, lats = np.asarray(route.line.coords).T
    assert np.allclose(lats, LAT, atol=1e-7)  # the line runs on the road
    assert lons.min() == pytest.approx(113.145, abs=1e-7)
    assert lons.max() == pytest.approx(113.155, abs=1e-7)


def test_a_click_mid_block_is_a_stop_there_not_at_the_nearest_vertex(network, places) -> None:
    # Half-way between vertices 113.145 and 113.146, 10 m off the road: the stop is ~49 m from
    # either vertex, where it was clicked; vertex snapping would have moved it ~49 m.
    drawn = _markers((113.1455, LAT - 0.00009), (113.1575, LAT))
    route = route_from_drawing(drawn, network, places, params=PARAMS)
    first = route.stops[0]
    assert first.lon == pytest.approx(113.1455, abs=2e-5) and first.lat == pytest.approx(LAT)
    assert route.moved_metres[0] == pytest.approx(0.00009 * 110_800, rel=0.02)
    half = 0.0005 * METRES_PER_DEGREE_LON
    assert route.vertex_metres[0] == pytest.approx(half, rel=0.02)


def test_a_point_beside_a_place_is_that_place(network, places) -> None:
    # 20 m from residence R1 (113.140) and from clinic C1's side of the road.
    drawn = _line((113.1402, LAT), (113.150, LAT + 0.0001))
    route = route_from_drawing(drawn, network, places, params=PARAMS)
    first, second = route.stops
    assert (first.ref, first.lon, first.lat) == ("R1", 113.140, LAT)
    assert "R1" in first.name
    assert second.ref == "E1"  # the enterprise sits on the road at 113.150
    assert route.picked == (True, True)
    assert route.length_metres == pytest.approx(0.010 * METRES_PER_DEGREE_LON, rel=2e-3)


def test_markers_are_stops_in_the_order_placed(network, places) -> None:
    drawn = _markers((113.155, LAT), (113.145, LAT), (113.152, LAT))
    route = route_from_drawing(drawn, network, places, params=PARAMS)
    assert [round(s.lon, 6) for s in route.stops] == [113.155, 113.145, 113.152]
    assert route.length_metres == pytest.approx(0.017 * METRES_PER_DEGREE_LON, rel=2e-3)


def test_the_last_drawn_line_wins_over_earlier_lines_and_markers(network, places) -> None:
    drawn = [
        *_line((113.143, LAT), (113.147, LAT)),
        *_markers((113.151, LAT)),
        *_line((113.153, LAT), (113.157, LAT)),
    ]
    assert drawn_points(drawn) == [(113.153, LAT), (113.157, LAT)]


def test_clicks_on_the_same_stop_are_one_stop(network, places) -> None:
    drawn = _line((113.1451, LAT), (113.1449, LAT), (113.155, LAT))
    route = route_from_drawing(drawn, network, places, params=PARAMS)
    assert len(route.stops) == 2


def test_amap_drawing_is_converted_back_to_wgs84(network, places) -> None:
    lon, lat = wgs84_to_gcj02([113.145, 113.155], [LAT, LAT])
    drawn = _line((float(lon[0]), float(lat[0])), (float(lon[1]), float(lat[1])))
    shifted = route_from_drawing(
        drawn, network, places, params=PARAMS, display_system=CoordinateSystem.GCJ02
    )
    assert [(round(s.lon, 6), round(s.lat, 6)) for s in shifted.stops] == [
        (113.145, LAT),
        (113.155, LAT),
    ]


def test_without_a_road_network_stops_stay_where_drawn_and_legs_are_straight(places) -> None:
    drawn = _line((113.145, LAT + 0.0003), (113.155, LAT + 0.0003))
    route = route_from_drawing(drawn, None, places, params=PARAMS)
    assert not route.on_roads
    assert [(s.lon, s.lat) for s in route.stops] == [
        (113.145, LAT + 0.0003),
        (113.155, LAT + 0.0003),
    ]
    straight = 0.010 * METRES_PER_DEGREE_LON
    assert route.length_metres == pytest.approx(straight * PARAMS.circuity_factor, rel=2e-3)


def test_a_drawn_route_is_a_valid_scenario_route(network, places) -> None:
    from retention.scenario.model import AddRoute, Scenario, ServiceWindow

    route = route_from_drawing(
        _line((113.1402, LAT), (113.155, LAT)), network, places, params=PARAMS
    )
    add = AddRoute(
        "S1", "Evening", route.stops, (ServiceWindow("weekday_evening", 10.0, "18:00", "22:00"),)
    )
    scenario = Scenario("drawn").with_modification(add, line_context())
    assert scenario.modifications == (add,)


@pytest.mark.parametrize(
    ("drawing", "message"),
    [
        (
            _line((113.145, LAT)),
            r"the drawing has 1 point\(s\); expected a line through at least 2",
        ),
        ([], r"the drawing has 0 point\(s\)"),
        (
            _line((113.145, LAT), (113.150, LAT + 0.01)),
            r"drawn point 2 \(113\.150000, 27\.860000\) is 1,10\d m from the nearest road; "
            r"expected within 300 m",
        ),
        (
            [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}}],
            "drawn shape 1 is a Polygon; expected a line or a marker",
        ),
        (_line((113.145, LAT), ("east", LAT)), r"drawn shape 1 has a position \['east', 27\.85\]"),
        (_line((113.145, LAT), (113.1451, LAT)), "every drawn point lands on the same stop"),
        ("{not json", "the drawing is not JSON"),
        (_line(*[(113.14 + i * 1e-5, LAT) for i in range(201)]), "has 201 points; expected at"),
    ],
)
def test_bad_drawings_are_refused_with_what_was_expected(network, places, drawing, message) -> None:
    with pytest.raises(ScenarioError, match=message):
        route_from_drawing(drawing, network, places, params=PARAMS)
