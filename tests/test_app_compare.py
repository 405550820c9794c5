"""Park comparison page and its presentation module, on a hand-built batch summary.

Three scored parks with known gap indices (70 > 55 > 40) in two cities and one failed park:
the ranking, the city filter, the failed-park warning and the map's escaped names are known by
hand. ``tests/test_batch.py`` checks the page against a real batch run.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from retention.batch import ParkOutcome, summary_frame, write_summary
from retention.i18n import t
from retention.report.maps import standalone_html
from retention.report.park_comparison import comparison_map, indicator_columns, ranked_parks
from tests.app_session import signed_in
from ui import state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
PAGE = "pages/compare.py"
HOSTILE = "<img src=x onerror=alert(1)>`${x}`"


def _row(park_id: str, name: str, city: str, district: str, gap: float, **extra: float) -> dict:
    return {
        "park_id": park_id,
        "name_en": name,
        "name_zh": f"{name}园",
        "synthetic": True,
        "city_en": city,
        "city_zh": {"Hangzhou": "杭州市", "Ningbo": "宁波市"}[city],
        "district_en": district,
        "district_zh": f"{district}区",
        "lon": 120.0 + len(park_id) * 0.01 + gap / 1000,
        "lat": 30.0,
        "gap_index_0_100": gap,
        "compliance_canteen_share": extra.get("canteen", 0.5),
        "compliance_clinic_share": extra.get("clinic", 0.5),
        "evening_minutes_sports_court": extra.get("court", 10.0),
        "leavers_per_year": extra.get("leavers", float("nan")),
        "turnover_share": extra.get("turnover", float("nan")),
    }


def _summary() -> pd.DataFrame:
    outcomes = [
        ParkOutcome("pa", "scored", "k1", _row("pa", HOSTILE, "Hangzhou", "Xiaoshan", 40.0)),
        ParkOutcome("pb", "skipped", "k2", _row("pb", "Beta", "Hangzhou", "Yuhang", 70.0,
                                                leavers=120.0, turnover=0.2)),
        ParkOutcome("pc", "scored", "k3", _row("pc", "Gamma", "Ningbo", "Beilun", 55.0)),
        ParkOutcome("pd", "failed", "", {}, "ValidationError: amenities.geojson unreadable"),
    ]  # fmt: skip
    return summary_frame(outcomes)


def test_ranking_is_worst_gap_first_and_filters_by_city_and_district() -> None:
    summary = _summary()
    ranked = ranked_parks(summary, lang="en")
    assert list(ranked["park_id"]) == ["pb", "pc", "pa"]
    assert list(ranked["rank"]) == [1, 2, 3]
    assert list(ranked_parks(summary, cities=["Hangzhou"], lang="en")["park_id"]) == ["pb", "pa"]
    assert list(ranked_parks(summary, districts=["Beilun区"], lang="zh")["park_id"]) == ["pc"]
    assert indicator_columns(summary)[0] == "gap_index_0_100"
    assert "turnover_share" in indicator_columns(summary)


def test_map_colours_every_park_and_escapes_names() -> None:
    ranked = ranked_parks(_summary(), lang="en")
    html = standalone_html(comparison_map(ranked, "compliance_canteen_share", lang="en"))
    assert "<img src=x" not in html
    # Tooltip text travels as GeoJSON properties (JSON writes & as \u0026): escaped HTML.
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html
    assert html.count("#1 Beta") == 1 and "#3 " in html


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


def _page(lang: str) -> AppTest:
    at = signed_in(AppTest.from_file(APP, default_timeout=300))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_ranks_parks_and_filters_by_city(data_dir: Path, lang: str) -> None:
    write_summary(_summary(), data_dir / "batches" / "province")
    at = _page(lang)
    assert at.title[0].value == t("compare.title", lang)
    assert at.selectbox(key="compare.batch").value == "province"
    assert any("pd" in w.value for w in at.warning)  # the failed park is named
    table = at.dataframe[0].value
    names = table[t("compare.col.name", lang)].tolist()
    suffix = "" if lang == "en" else "园"
    assert names == [f"Beta{suffix}", f"Gamma{suffix}", f"{HOSTILE}{suffix}"]
    assert table[t("compare.col.rank", lang)].tolist() == [1, 2, 3]
    city = "Ningbo" if lang == "en" else "宁波市"
    at.multiselect(key="compare.city").set_value([city]).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table[t("compare.col.name", lang)].tolist() == [f"Gamma{suffix}"]
    at.selectbox(key="compare.indicator").set_value("turnover_share").run()
    assert not at.exception, at.exception


@pytest.mark.slow
def test_page_without_batches_says_how_to_make_one(data_dir: Path) -> None:
    at = _page("zh")
    assert any("parklife batch" in info.value for info in at.info)
