"""Tests for retention.storage.waves: stored survey waves, restart-safe, atomic, no personal
data."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest
from shapely.geometry import Point

from retention.data.layers import LayerKind
from retention.errors import ValidationError
from retention.storage import uploads as store_module
from retention.storage.files import frame_to_json
from retention.storage.park import ParkData
from retention.storage.waves import (
    DEMO_SURVEY_FILE,
    DuplicateWaveError,
    SurveyStore,
    UnknownWaveError,
    current_survey_version,
    load_current_survey,
    wave_report_xlsx,
)
from retention.survey.importer import PERSONAL_HEADER_PATTERN, import_survey, read_survey_file
from retention.survey.schema import SURVEY_COLUMNS
from tests.survey_fixtures import wenjuanxing_csv, wenjuanxing_xlsx

SALT = b"k" * 32
PARK = "testpark"
HEADERS = [
    "序号",
    "提交答卷时间",
    "来自IP",
    "员工编号",
    "1、您所在的企业:",
    "2、您居住在哪里:",
    "3、您的年龄段:",
    "9、您对以下设施的满意度:(食堂与餐饮)",
    "10、这些设施对您的重要程度:(食堂与餐饮)",
    "11、总体来说，您对园区生活的满意度:",
    "12、未来12个月内您离职的可能性:",
]
RAW_IDS = ["EMP-90017", "EMP-90018", "EMP-90019", "EMP-90020"]
IPS = ["198.51.100.7(湖南-株洲)", "198.51.100.8(湖南-株洲)", "198.51.100.9", "198.51.100.10"]


def _rows() -> list[list[str]]:
    answers = [
        ["金山电子", "1号宿舍", "90后", "满意", "非常重要", "一般", "可能会离职"],
        ["E02", "2号公寓", "00后", "非常满意", "重要", "满意", "肯定不会离职"],
        ["湘江机械", "(跳过)", "80后", "不满意", "一般", "不满意", "说不清"],
        # Unknown enterprise: rejected, kept in the report without its raw id.
        ["不存在的公司", "1号宿舍", "90后", "满意", "重要", "满意", "可能会离职"],
    ]
    return [
        [str(i + 1), "2024/3/1 8:30:12", ip, rid, *answer]
        for i, (ip, rid, answer) in enumerate(zip(IPS, RAW_IDS, answers, strict=True))
    ]


def _enterprises() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["E01", "E02"],
            "name": ["株洲金山电子有限公司", "湘江机械"],
            "employees": [800, 400],
        }
    )


def _residences() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["R01", "R02"], "name": ["1号宿舍", "2号公寓"]},
        geometry=[Point(113.10, 27.90), Point(113.12, 27.91)],
        crs="EPSG:4326",
    )


def _import(data: bytes, *, name: str = "survey.csv", wave: str = "2024-spring"):
    raw = read_survey_file(data, file_name=name)
    return import_survey(
        raw, enterprises=_enterprises(), residences=_residences(), salt=SALT, wave=wave
    )


@pytest.fixture
def imported():
    return _import(wenjuanxing_csv(HEADERS, _rows()))


def test_saved_wave_survives_a_new_store_object(tmp_path: Path, imported) -> None:
    assert len(imported.survey) == 3 and len(imported.rejected) == 1
    wave_id = SurveyStore(tmp_path).save_wave(
        PARK, imported, source_name="survey.csv", wave="2024-spring"
    )
    reopened = SurveyStore(tmp_path)  # as after a restart
    [record] = reopened.list_waves(PARK)
    assert (record.wave_id, record.wave, record.source_name) == (
        wave_id,
        "2024-spring",
        "survey.csv",
    )
    assert (record.rows_read, record.valid_rows, record.rejected_rows) == (4, 3, 1)
    assert record.mapping_signature == imported.mapping.signature
    assert record.encoding == "gb18030"
    pd.testing.assert_frame_equal(reopened.load(PARK), imported.survey)
    report = reopened.load_report(PARK, wave_id)
    rejected_issues = report.issues[report.issues["rejected"]]
    assert rejected_issues["row"].tolist() == [4]
    assert rejected_issues["column"].tolist() == ["1、您所在的企业:"]
    assert report.mapping["1、您所在的企业:"] == "enterprise"
    sheets = pd.read_excel(io.BytesIO(wave_report_xlsx(report)), sheet_name=None)
    assert set(sheets) == {"counts", "issues"}
    counts = dict(zip(sheets["counts"]["count"], sheets["counts"]["value"], strict=True))
    assert (counts["rows_read"], counts["valid_rows"], counts["rejected_rows"]) == (4, 3, 1)
    assert len(sheets["issues"]) == len(report.issues)


def test_waves_concatenate_choose_and_remove(tmp_path: Path, imported) -> None:
    store = SurveyStore(tmp_path)
    empty_version = store.survey_version(PARK)
    assert store.load(PARK).empty and list(store.load(PARK).columns) == list(SURVEY_COLUMNS)
    first = store.save_wave(PARK, imported, source_name="a.csv", wave="2024-spring")
    after_first = store.survey_version(PARK)
    autumn = _import(wenjuanxing_xlsx(HEADERS, _rows()[:2]), name="b.xlsx", wave="2024-autumn")
    second = store.save_wave(PARK, autumn, source_name="b.xlsx", wave="2024-autumn")
    assert len({empty_version, after_first, store.survey_version(PARK)}) == 3
    assert SurveyStore(tmp_path).survey_version(PARK) == store.survey_version(PARK)

    both = store.load(PARK)
    assert both["wave"].tolist() == ["2024-spring"] * 3 + ["2024-autumn"] * 2
    assert store.load(PARK, waves=[second])["wave"].tolist() == ["2024-autumn"] * 2
    with pytest.raises(UnknownWaveError, match="no stored survey wave 'w_nope'"):
        store.load(PARK, waves=["w_nope"])

    store.remove_wave(PARK, first)
    assert [r.wave_id for r in store.list_waves(PARK)] == [second]
    assert not store.wave_path(PARK, first).exists()
    assert store.load(PARK)["wave"].tolist() == ["2024-autumn"] * 2
    with pytest.raises(UnknownWaveError, match=f"no stored survey wave '{first}'"):
        store.remove_wave(PARK, first)


def test_a_wave_label_is_stored_once(tmp_path: Path, imported) -> None:
    store = SurveyStore(tmp_path)
    store.save_wave(PARK, imported, source_name="a.csv", wave="2024-spring")
    with pytest.raises(DuplicateWaveError, match="wave '2024-spring' is already stored"):
        store.save_wave(PARK, imported, source_name="a.csv", wave=" 2024-spring ")
    with pytest.raises(ValidationError, match="wave label is empty"):
        store.save_wave(PARK, imported, source_name="a.csv", wave="  ")
    assert len(store.list_waves(PARK)) == 1


def test_an_import_without_valid_rows_is_refused(tmp_path: Path) -> None:
    nothing = _import(wenjuanxing_csv(HEADERS, _rows()[3:]))
    assert nothing.survey.empty
    with pytest.raises(ValidationError, match="no valid rows"):
        SurveyStore(tmp_path).save_wave(PARK, nothing, source_name="x.csv", wave="w")


def test_a_crash_before_the_manifest_leaves_the_previous_state(
    tmp_path: Path, imported, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SurveyStore(tmp_path)
    store.save_wave(PARK, imported, source_name="a.csv", wave="2024-spring")
    manifest = store.manifest_bytes(PARK)
    before = store.load(PARK)

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(SurveyStore, "_write_manifest", crash)
    with pytest.raises(OSError, match="disk full"):
        store.save_wave(PARK, imported, source_name="b.csv", wave="2024-autumn")
    monkeypatch.undo()
    assert store.manifest_bytes(PARK) == manifest
    pd.testing.assert_frame_equal(SurveyStore(tmp_path).load(PARK), before)


def test_a_crash_while_renaming_leaves_no_partial_file(
    tmp_path: Path, imported, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SurveyStore(tmp_path)
    store.save_wave(PARK, imported, source_name="a.csv", wave="2024-spring")
    manifest = store.manifest_bytes(PARK)
    real_replace = os.replace

    def failing_replace(source, target):
        if str(target).endswith(".parquet"):
            raise OSError("power cut")
        return real_replace(source, target)

    monkeypatch.setattr(store_module.os, "replace", failing_replace)
    with pytest.raises(OSError, match="power cut"):
        store.save_wave(PARK, imported, source_name="b.csv", wave="2024-autumn")
    monkeypatch.undo()
    folder = store.survey_dir(PARK)
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]
    assert len(list((folder / "waves").glob("*.parquet"))) == 1
    assert store.manifest_bytes(PARK) == manifest


def test_nothing_stored_holds_a_raw_id_or_an_ip(tmp_path: Path, imported) -> None:
    # The import hands the rejected row back with its raw id: the store must not keep it.
    assert imported.rejected["员工编号"].tolist() == [RAW_IDS[3]]
    store = SurveyStore(tmp_path)
    wave_id = store.save_wave(PARK, imported, source_name="survey.csv", wave="2024-spring")
    table = pq.read_table(store.wave_path(PARK, wave_id))
    assert table.column_names == list(SURVEY_COLUMNS)
    assert not [c for c in table.column_names if PERSONAL_HEADER_PATTERN.search(c)]
    ids = table.column("respondent_id").to_pylist()
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    values = {str(v) for column in table.to_pylist() for v in column.values()}
    secrets = [*RAW_IDS, *(ip.split("(")[0] for ip in IPS)]
    assert not [s for s in secrets if any(s in v for v in values)]
    # Every file of the store, reports and manifest included, as raw bytes.
    for path in store.survey_dir(PARK).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            leaked = [s for s in secrets if s.encode("utf-8") in content]
            assert not leaked, (path.name, leaked)
    report = store.load_report(PARK, wave_id)
    assert "员工编号" not in report.mapping


def test_stored_report_holds_no_answer_values(tmp_path: Path, imported) -> None:
    # The rejected row's answers (one respondent: a group of 1) are in the import result for
    # the uploading session only; the stored report, shown to every later user, has none.
    # Answers that are not also part of a question's text (the mapping names the headers).
    answers = [v for v in _rows()[3][4:] if v and not any(v in h for h in HEADERS)]
    assert "不存在的公司" in answers and len(answers) >= 3
    assert set(answers) <= {str(v) for v in imported.rejected.iloc[0]}
    store = SurveyStore(tmp_path)
    wave_id = store.save_wave(PARK, imported, source_name="survey.csv", wave="2024-spring")
    content = store._report_path(PARK, wave_id).read_text(encoding="utf-8")
    stored = json.loads(content)
    assert set(stored) == {"issues", "mapping"}
    for answer in answers:
        assert answer not in content and json.dumps(answer)[1:-1] not in content, answer
    report = store.load_report(PARK, wave_id)
    assert list(report.issues.columns) == ["row", "column", "value", "expected", "rejected"]
    assert (report.issues.loc[report.issues["row"].notna(), "value"] == "").all()
    book = pd.read_excel(io.BytesIO(wave_report_xlsx(report)), sheet_name=None, dtype=str)
    cells = {v for sheet in book.values() for v in sheet.to_numpy().ravel() if isinstance(v, str)}
    assert not set(answers) & cells


def test_report_stored_before_the_fix_loses_its_rejected_rows(tmp_path: Path, imported) -> None:
    store = SurveyStore(tmp_path)
    wave_id = store.save_wave(PARK, imported, source_name="survey.csv", wave="2024-spring")
    path = store._report_path(PARK, wave_id)
    old = json.loads(path.read_text(encoding="utf-8"))
    old["issues"] = frame_to_json(
        pd.DataFrame(
            {"file": ["survey.csv"], "row": [4], "column": ["1、您所在的企业:"],
             "value": ["不存在的公司"], "expected": ["an enterprise"], "rejected": [True]}
        )
    )  # fmt: skip
    old["rejected"] = {"row": [4], "reasons": ["不存在的公司"]}
    path.write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    report = store.load_report(PARK, wave_id)
    assert not hasattr(report, "rejected")
    assert report.issues["value"].tolist() == [""]
    assert "不存在的公司" not in wave_report_xlsx(report).decode("latin-1")


def _demo_park(park_id: str = PARK) -> ParkData:
    return ParkData(
        park_id=park_id,
        name_zh="测试园",
        name_en="Test park",
        synthetic=True,
        layers={LayerKind.ENTERPRISES: _enterprises(), LayerKind.RESIDENCES: _residences()},
        boundary=gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
        data_version="v1",
    )


def test_current_survey_is_the_demo_until_a_wave_is_stored(tmp_path: Path, imported) -> None:
    geodata = tmp_path / "geodata"
    (geodata / PARK).mkdir(parents=True)
    (geodata / PARK / DEMO_SURVEY_FILE).write_bytes(wenjuanxing_xlsx(HEADERS, _rows()[:2]))
    store = SurveyStore(tmp_path / "data")
    park = _demo_park()

    demo = load_current_survey(park, store=store, salt=SALT, geodata_dir=geodata)
    assert demo.origin == "demo" and demo.version.startswith("demo:")
    assert len(demo.survey) == 2 and set(demo.survey["wave"]) == {"demo"}
    assert demo.waves == ()

    store.save_wave(PARK, imported, source_name="survey.csv", wave="2024-spring")
    stored = load_current_survey(park, store=store, salt=SALT, geodata_dir=geodata)
    assert stored.origin == "stored" and stored.version.startswith("stored:")
    assert stored.version == current_survey_version(PARK, store=store, geodata_dir=geodata)
    pd.testing.assert_frame_equal(stored.survey, imported.survey)
    assert [r.wave for r in stored.waves] == ["2024-spring"]

    other = load_current_survey(_demo_park("other"), store=store, salt=SALT, geodata_dir=geodata)
    assert other.origin == "none" and other.survey.empty


def test_manifest_is_plain_json_listing_every_wave(tmp_path: Path, imported) -> None:
    store = SurveyStore(tmp_path)
    wave_id = store.save_wave(PARK, imported, source_name="survey.csv", wave="2024-spring")
    manifest = json.loads(store.manifest_path(PARK).read_text(encoding="utf-8"))
    assert manifest["version"] == 1
    assert [w["wave_id"] for w in manifest["waves"]] == [wave_id]
    assert store.manifest_path(PARK) == tmp_path / "parks" / PARK / "survey" / "manifest.json"


def test_only_planners_add_and_only_admins_remove_waves_each_audited(
    tmp_path: Path, imported
) -> None:
    from retention.auth import audit
    from retention.auth.roles import Role, UserScope
    from retention.errors import AccessDeniedError

    store = SurveyStore(tmp_path)
    for refused in (UserScope("h", Role.HR, ("E01",)), UserScope("v", Role.VIEWER)):
        with pytest.raises(AccessDeniedError, match="may not add_wave"):
            store.save_wave(PARK, imported, source_name="s.csv", wave="w", scope=refused)
    planner, admin = UserScope("p", Role.PLANNER), UserScope("a", Role.ADMIN)
    wave_id = store.save_wave(PARK, imported, source_name="s.csv", wave="w", scope=planner)
    with pytest.raises(AccessDeniedError, match="may not delete_wave"):
        store.remove_wave(PARK, wave_id, scope=planner)
    assert len(store.list_waves(PARK)) == 1
    store.remove_wave(PARK, wave_id, scope=admin)
    assert store.list_waves(PARK) == []
    events, _ = audit.read_events(tmp_path)
    assert [(e.user, e.action, e.detail["wave"]) for e in events] == [
        ("p", "wave_add", "w"),
        ("a", "wave_delete", "w"),
    ]
    assert events[0].detail["rows"] == 3 and events[0].park_id == PARK
