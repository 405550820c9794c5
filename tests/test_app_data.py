"""AppTests of the Data page: upload a CSV through the real widget path, validate, add, remove.

Uploads go to a temporary ``PARKLIFE_DATA_DIR``; the bundled demo files are never touched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retention.data.crs import gcj02_to_wgs84
from retention.data.layers import LayerKind
from retention.i18n import t
from retention.storage.park import load_park
from retention.storage.uploads import UploadStore
from tests.app_session import signed_in
from tests.markdown_shown import shown
from ui import state

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 120

# Two valid amenities inside the Jinshan demo park and one with an unknown category (row 3).
AMENITIES_CSV = (
    "编号,名称,类别,容量,营业时间,经度,纬度\n"
    "U1,测试食堂,canteen,120,Mo-Su 06:30-20:00,113.2356,27.9184\n"
    "U2,测试球场,sports_court,2,Mo-Su 06:00-22:00,113.2400,27.9200\n"
    "U3,未知设施,karaoke,10,Mo-Su 10:00-22:00,113.2380,27.9190\n"
).encode()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("PARKLIFE_DATA_DIR", str(directory))
    return directory


def _data_page(lang: str = "en") -> AppTest:
    at = signed_in(AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT_SECONDS))
    at.session_state[state.LANG] = lang
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    return at


def _issues(at: AppTest):
    """Return the validation report's table (the page also shows the mapping editors)."""
    (table,) = [d for d in at.dataframe if not (d.key or "").startswith("data.")]
    return table.value


def _upload(at: AppTest, name: str, content: bytes, *, kind: str, system: str) -> AppTest:
    at.selectbox(key="data.kind").set_value(kind)
    at.radio(key="data.crs").set_value(system)
    at.file_uploader(key="data.file").upload(name, content, "text/csv")
    return at.run()


@pytest.mark.slow
def test_upload_validate_add_and_remove(data_dir: Path) -> None:
    at = _upload(_data_page(), "amenities.csv", AMENITIES_CSV, kind="amenities", system="wgs84")
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("data.valid_rows", "en")] == "2"
    assert metrics[t("data.rejected_rows", "en")] == "1"
    issues = _issues(at)
    rejected = issues[issues[t("data.col.severity", "en")] == t("import.severity.error", "en")]
    assert rejected[t("data.col.row", "en")].tolist() == [3]
    assert rejected[t("data.col.column", "en")].tolist() == ["类别"]
    assert rejected[t("data.col.file", "en")].tolist() == ["amenities.csv"]
    download_labels = [b.label for b in at.get("download_button")]
    assert t("data.download_rejected_csv", "en") in download_labels
    assert t("data.download_rejected_xlsx", "en") in download_labels

    before = len(load_park("jinshan", data_dir=data_dir).layers[LayerKind.AMENITIES])
    at.button(key="data.add").click().run()
    assert not at.exception, [e.value for e in at.exception]
    records = UploadStore(data_dir).list_uploads("jinshan")
    assert [(r.kind, r.source_name, r.valid_rows, r.rejected_rows) for r in records] == [
        ("amenities", "amenities.csv", 2, 1)
    ]
    assert any(records[0].upload_id in s.value for s in at.success)
    park = load_park("jinshan", data_dir=data_dir)
    assert len(park.layers[LayerKind.AMENITIES]) == before + 2

    at.button(key=f"data.remove.{records[0].upload_id}").click().run()
    assert not at.exception
    assert UploadStore(data_dir).list_uploads("jinshan") == []
    assert len(load_park("jinshan", data_dir=data_dir).layers[LayerKind.AMENITIES]) == before


@pytest.mark.slow
def test_gcj02_upload_is_converted_to_wgs84(data_dir: Path) -> None:
    at = _upload(_data_page("zh"), "gcj.csv", AMENITIES_CSV, kind="amenities", system="gcj02")
    assert not at.exception
    at.button(key="data.add").click().run()
    assert not at.exception
    park = load_park("jinshan", data_dir=data_dir)
    amenities = park.layers[LayerKind.AMENITIES]
    stored = amenities[amenities["id"] == "U1"].geometry.iloc[0]
    lon, lat = gcj02_to_wgs84(113.2356, 27.9184)
    assert stored.x == pytest.approx(float(lon), abs=1e-9)
    assert stored.y == pytest.approx(float(lat), abs=1e-9)
    assert abs(stored.x - 113.2356) > 1e-3  # the GCJ-02 offset here is several hundred metres


@pytest.mark.slow
def test_file_level_error_is_shown_specifically(data_dir: Path) -> None:
    no_coordinates = "编号,名称,类别,容量,营业时间\nU1,测试食堂,canteen,120,24/7\n".encode()
    at = _upload(_data_page(), "bad.csv", no_coordinates, kind="amenities", system="wgs84")
    assert not at.exception
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1
    assert "bad.csv" in errors[0] and "longitude" in errors[0]
    assert UploadStore(data_dir).list_uploads("jinshan") == []


@pytest.mark.slow
def test_rows_reusing_an_id_from_the_demo_or_an_earlier_upload_are_rejected(
    data_dir: Path,
) -> None:
    demo_id = str(load_park("jinshan", data_dir=data_dir).layer("amenities")["id"].iloc[0])
    clash = AMENITIES_CSV.replace(b"U2,", f"{demo_id},".encode())
    at = _upload(_data_page(), "clash.csv", clash, kind="amenities", system="wgs84")
    assert not at.exception, [e.value for e in at.exception]
    issues = _issues(at)
    rejected = issues[issues[t("data.col.severity", "en")] == t("import.severity.error", "en")]
    assert rejected[t("data.col.row", "en")].tolist() == [2, 3]
    assert "already in the park" in rejected[t("data.col.message", "en")].iloc[0]
    at.button(key="data.add").click().run()

    # The first upload's U1 is now in the park too: a second file repeating it loses that row.
    again = _upload(_data_page(), "again.csv", AMENITIES_CSV, kind="amenities", system="wgs84")
    valid = {m.label: m.value for m in again.metric}[t("data.valid_rows", "en")]
    assert valid == "1"


# A park office's amenity sheet: Chinese headers and categories, 开门/关门, no id column.
CHINESE_AMENITIES_CSV = (
    "名称,类型,开门,关门,经度,纬度\n"
    "测试篮球场,篮球场,6:00,22:00,113.2356,27.9184\n"
    "测试食堂,食堂,06:30,20:30,113.2400,27.9200\n"
    "测试超市,超市,7:00,23:00,113.2380,27.9190\n"
).encode("gbk")


@pytest.mark.slow
def test_chinese_file_imports_fully_and_add_shows_what_was_added_not_a_new_report(
    data_dir: Path,
) -> None:
    at = _upload(
        _data_page("zh"), "设施.csv", CHINESE_AMENITIES_CSV, kind="amenities", system="wgs84"
    )
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("data.valid_rows", "zh")] == "3"
    assert metrics[t("data.rejected_rows", "zh")] == "0"
    labels = [b.label for b in at.get("download_button")]
    assert t("import.data.template", "zh", layer=t("common.layer.amenities", "zh")) in labels

    at.button(key="data.add").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (record,) = UploadStore(data_dir).list_uploads("jinshan")
    added = t(
        "import.data.added",
        "zh",
        count=3,
        layer=t("common.layer.amenities", "zh"),
        file="设施.csv",
        upload_id=record.upload_id,
    )
    assert added in [s.value for s in at.success]
    # The same file is not validated again: no report, no second "add" button.
    assert not at.metric
    assert not [b for b in at.button if b.key == "data.add"]
    assert t("import.data.next", "zh") in " ".join(m.value for m in at.markdown)
    park = load_park("jinshan", data_dir=data_dir)
    amenities = park.layers[LayerKind.AMENITIES]
    added_rows = amenities[amenities["name"].str.startswith("测试")]
    assert sorted(added_rows["category"]) == ["canteen", "grocery", "sports_court"]
    # The mapping that read the file is saved for the park's next file with these headers.
    assert list((data_dir / "parks" / "jinshan" / "records" / "layer_mappings").glob("*.json"))


@pytest.mark.slow
def test_missing_required_columns_are_all_named_in_chinese(data_dir: Path) -> None:
    residences = "名称,经度,纬度\n一号宿舍,113.2356,27.9184\n".encode()
    at = _upload(_data_page("zh"), "宿舍.csv", residences, kind="residences", system="wgs84")
    assert not at.exception
    fields = "、".join(t(f"import.field.{f}", "zh") for f in ("kind", "beds", "residents"))
    assert [e.value for e in at.error] == [
        t("import.data.missing_columns", "zh", n=3, fields=fields)
    ]


@pytest.mark.slow
def test_the_chinese_interface_shows_chinese_validation_messages(data_dir: Path) -> None:
    at = _upload(_data_page("zh"), "amenities.csv", AMENITIES_CSV, kind="amenities", system="wgs84")
    assert not at.exception, [e.value for e in at.exception]
    issues = _issues(at)
    (message,) = issues[t("data.col.message", "zh")]
    assert message.startswith("'karaoke' 不是允许的取值；应为 以下之一：")
    assert issues[t("data.col.severity", "zh")].tolist() == [t("import.severity.error", "zh")]
